import { afterAll, describe, expect, it } from 'vitest'
import { readSeeds } from '../../src/sync/index.ts'
import { eventually, removePeer, startPeer, type TestPeer } from '../helpers/network.ts'
import { captureStderr, readStore, shardHeads, storedMessageIds } from '../network/support.ts'
import { daysOf, groupCount, groupIds, makeHistory, SEEDS_DIR, sortedIds, writeHistory } from './support.ts'

/*
 * A fresh node pointed at one neighbour back-fills a group's whole history (DESIGN.md, "Mirror a group on a
 * new node") and ends with the very same posts and, shard by shard, the very same Automerge documents.
 */

const GROUP = 'misc.test'
const POSTS = 5000
/**
 * Posts per UTC day over 20 days, the last of them yesterday: three days pass the shard cap (500) and split,
 * the other 17 share the rest.
 */
const HEAVY: Record<number, number> = { 19: 1100, 15: 700, 11: 600 }
const COUNTS = Array.from({ length: 20 }, (_, d) => {
  if (HEAVY[d] !== undefined) return HEAVY[d]
  const rest = POSTS - Object.values(HEAVY).reduce((a, b) => a + b, 0)
  const light = 20 - Object.keys(HEAVY).length
  const index = d - Object.keys(HEAVY).filter((h) => Number(h) < d).length
  return Math.floor(rest / light) + (index < rest % light ? 1 : 0)
})

const nodes: TestPeer[] = []
afterAll(async () => {
  await Promise.all(nodes.map(removePeer))
})

describe('mirroring a group on a new node', () => {
  it('copies 5,000 posts from one neighbour and ends with the same Message-IDs, shards and heads', async () => {
    expect(COUNTS.reduce((a, b) => a + b, 0)).toBe(POSTS)
    const preparing = Date.now()
    const history = makeHistory(GROUP, COUNTS)
    const days = daysOf(history)
    expect(days.size).toBe(20)
    const a = await startPeer({ dataDir: await writeHistory(history) })
    nodes.push(a)
    const preparedMs = Date.now() - preparing

    const seedPosts = (await readSeeds(SEEDS_DIR)).articles.filter((s) => s.newsgroups.includes(GROUP as never)).length
    const aIds = await groupIds(a, GROUP)
    expect(aIds.size).toBe(POSTS + seedPosts)

    const log = captureStderr({ quiet: () => true })
    let b: TestPeer
    const started = Date.now()
    try {
      b = await startPeer({ peers: [a.address] })
      nodes.push(b)
      await eventually(async () => (await groupCount(b, GROUP)) >= aIds.size, { timeoutMs: 40_000, intervalMs: 100 })
    } finally {
      log.restore()
    }
    const mirrorMs = Date.now() - started
    const synced = log.lines.find((l) => l.includes(`of ${GROUP} from ${a.peerId}`) && l.includes('synced'))
    console.log(
      `mirror: ${POSTS} posts over ${days.size} days prepared in ${preparedMs} ms; B held all ${aIds.size} of ${GROUP} ${mirrorMs} ms after it started ` +
        `(${Math.round((POSTS / mirrorMs) * 1000)} posts/s); B's log: ${synced ?? '(no sync line)'}`,
    )
    expect(synced).toMatch(new RegExp(`synced ${POSTS} posts of ${GROUP}`))

    // The same posts: exactly A's set of the group, and of the whole node (the demo groups agree as well).
    expect(sortedIds(await groupIds(b!, GROUP))).toEqual(sortedIds(aIds))
    expect(sortedIds(await storedMessageIds(b!))).toEqual(sortedIds(await storedMessageIds(a)))

    // The same shards with the same heads; the heavy days split into sixteen leaves on both.
    const [headsA, headsB] = await Promise.all([shardHeads(a), shardHeads(b!)])
    expect(Object.keys(headsB).sort()).toEqual(Object.keys(headsA).sort())
    expect(headsB).toEqual(headsA)
    for (const [day, count] of days) {
      const leaves = Object.keys(headsA).filter((id) => id.startsWith(`${GROUP}/${day}`))
      expect(leaves, day).toHaveLength(count > 500 ? 16 : 1)
    }
    expect(
      Object.entries(headsA)
        .filter(([id]) => id.startsWith(`${GROUP}/`))
        .flatMap(([, h]) => h),
    ).toHaveLength(aIds.size)

    // Newest days first: B stored all of yesterday's posts before any of the oldest day's.
    const dayList = [...days.keys()].sort()
    const [oldest, newest] = [dayList[0]!, dayList.at(-1)!]
    const receivedOn = (day: string) =>
      readStore(b!, async (db) => {
        const start = Date.parse(`${day}T00:00:00Z`)
        const rows = await db
          .selectFrom('articles')
          .innerJoin('postings', 'postings.article_id', 'articles.id')
          .select('articles.received_at')
          .where('postings.group_name', '=', GROUP)
          .where('articles.date', '>=', start)
          .where('articles.date', '<', start + 86_400_000)
          .execute()
        return rows.map((r) => r.received_at)
      })
    const [newestTimes, oldestTimes] = await Promise.all([receivedOn(newest), receivedOn(oldest)])
    expect(Math.max(...newestTimes)).toBeLessThanOrEqual(Math.min(...oldestTimes))
  }, 60_000)

  it('ends its pull quietly when the node stops in the middle of it, keeping every post it stored', async () => {
    const history = makeHistory(GROUP, [600, 600, 600], { tag: 'stop' })
    // Answers of 500 posts take about 2 s each, so the pull is still running once B has stored the first.
    const a = await startPeer({ dataDir: await writeHistory(history), serveRateKiB: 500 })
    nodes.push(a)
    const b = await startPeer({ peers: [a.address] })
    nodes.push(b)
    const seedPosts = await groupCount(b, GROUP)
    await eventually(async () => (await groupCount(b, GROUP)) >= seedPosts + 100, { timeoutMs: 20_000, intervalMs: 50 })
    const storedBeforeStop = await groupCount(b, GROUP)
    const log = captureStderr({ quiet: () => true })
    try {
      await b.stop()
    } finally {
      log.restore()
    }
    // Its end is not A's fault: nothing tells the owner that syncing with A failed.
    expect(log.lines.filter((l) => l.includes(`with ${a.peerId}`) && / (warn|error) /.test(l))).toEqual([])
    const kept = await groupIds(b, GROUP)
    expect(kept.size).toBeGreaterThanOrEqual(storedBeforeStop)
    expect(kept.size).toBeLessThan(seedPosts + history.length)
  }, 60_000)
})
