import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { messageIdHex } from '../../src/article/index.ts'
import { canonicalChange } from '../../src/sync/index.ts'
import { makeArticle } from '../helpers/articles.ts'
import { apiPost, eventually, hasArticle, removePeer, startPeer, type TestPeer } from '../helpers/network.ts'
import { captureStderr, fetchArticle, sleep, spawnRawPeer, type RawPeerProcess } from './support.ts'

/*
 * One peer floods a node with invalid messages. The node must stay up with bounded memory, keep relaying
 * honest posts, and gossipsub's scoring must cut the flooder off (group topics weigh invalid deliveries),
 * which is what keeps a flood cheap: the node stops even validating the flooder's messages.
 */

const GROUP = 'misc.test'
const FLOOD = 10_000
/**
 * The flood comes in two waves. gossipsub caches a peer's score for a heartbeat (1 s), so a first wave that
 * all arrives within one (about 2,000 messages in 30-150 ms) can be validated whole before the score falls: on
 * a fast machine, all 10,000 in one wave were. The second wave comes after B has had a heartbeat to see the
 * first wave's rejections, and must not be validated at all.
 */
const FIRST_WAVE = 2_000
const BATCH = 500
/**
 * The flooder runs in a process of its own, so this process holds the two nodes (and vitest). Measured here:
 * +14 to +25 MB; the bound is generous because V8 grows its heap under allocation pressure and keeps it. In
 * one clean-clone CI run under full parallel load the growth was exactly 100 MiB (a single step, not a leak
 * pattern; not yet explained), so the bound leaves room for one such step and still catches unbounded growth
 * (10,000 messages kept would be several hundred MB).
 */
const RSS_GROWTH_LIMIT = 160 * 1024 * 1024

const previousLogLevel = process.env.USENET_LOG
let stderr: ReturnType<typeof captureStderr>
const nodes: TestPeer[] = []
let flooder: RawPeerProcess | undefined

beforeAll(() => {
  // Rejections are logged at debug level; the loggers read the level when the nodes start.
  process.env.USENET_LOG = 'debug'
  stderr = captureStderr({ quiet: (line) => / debug /.test(line) })
})

afterAll(async () => {
  await flooder?.stop()
  await Promise.all(nodes.map(removePeer))
  stderr.restore()
  if (previousLogLevel === undefined) delete process.env.USENET_LOG
  else process.env.USENET_LOG = previousLogLevel
})

/** The gossip message that carried a post: what a peer relays and what the flooder would receive. */
async function changeOf(node: TestPeer, hex: string): Promise<Uint8Array> {
  return canonicalChange(await fetchArticle(node, hex))
}

describe('a flood of invalid messages from one peer', () => {
  it('leaves the node up with bounded memory, still relaying honest posts, and cuts the flooder off', async () => {
    const a = await startPeer()
    nodes.push(a)
    const b = await startPeer({ peers: [a.address] })
    nodes.push(b)
    flooder = await spawnRawPeer({ dial: b.address, groups: [GROUP] })
    const f = flooder
    await sleep(2500)

    // Before: B takes the flooder's valid posts, and forwards A's posts to it.
    const own = makeArticle({ group: GROUP, subject: 'Before the flood', body: `valid ${Date.now()}`, date: Date.now() })
    expect(await f.publish(GROUP, canonicalChange(own))).toBe(1)
    await eventually(() => hasArticle(b, messageIdHex(own.id)))
    const early = await apiPost(a, GROUP, { subject: 'Before the flood', body: 'From A, before.' })
    await eventually(() => hasArticle(b, early.hex))
    const earlyChange = await changeOf(b, early.hex)
    await eventually(() => f.received(GROUP, earlyChange))

    const rssBefore = process.memoryUsage().rss
    const rejectionLine = ` debug gossip: rejected a message from ${f.peerId} in ${GROUP} `
    const rejections = () => stderr.lines.filter((l) => l.includes(rejectionLine)).length

    // Honest posts from A keep coming while the flood runs.
    const during: string[] = []
    let flooding = true
    const honest = (async () => {
      for (let i = 0; flooding || i < 3; i++) {
        during.push((await apiPost(a, GROUP, { subject: `During the flood ${i}`, body: `Honest post ${i} from A.` })).hex)
        await sleep(100)
      }
    })()
    const first = await f.flood(GROUP, { count: FIRST_WAVE, batch: BATCH, bytes: 300 })
    // B works through the first wave, then a heartbeat refreshes the flooder's cached score.
    await settled(rejections)
    await sleep(1500)
    const afterFirstWave = rejections()
    const second = await f.flood(GROUP, { count: FLOOD - FIRST_WAVE, batch: BATCH, bytes: 300 })
    // Give B time to work through what is already on the wire.
    await sleep(1000)
    flooding = false
    await honest

    // Every honest post reached B, which is up and answering; its memory stayed bounded.
    await eventually(async () => (await Promise.all(during.map((hex) => hasArticle(b, hex)))).every(Boolean), { timeoutMs: 15_000 })
    const rssGrowth = process.memoryUsage().rss - rssBefore
    expect(rssGrowth).toBeLessThan(RSS_GROWTH_LIMIT)

    // Each message B validated was rejected and logged once, and once its score had fallen B validated none of
    // the flooder's messages: the second wave was dropped unread.
    const logged = rejections()
    expect(afterFirstWave).toBeGreaterThan(0)
    expect(afterFirstWave).toBeLessThanOrEqual(FIRST_WAVE)
    expect(logged - afterFirstWave).toBe(0)
    expect(stderr.lines.filter((l) => / debug [a-z-]+: rejected a (message|change)/.test(l))).toHaveLength(logged)

    // Cut off: B neither takes the flooder's valid posts nor forwards honest ones to it any more.
    const late = makeArticle({ group: GROUP, subject: 'After the flood', body: `valid ${Date.now()}`, date: Date.now() })
    await f.publish(GROUP, canonicalChange(late))
    const after = await apiPost(a, GROUP, { subject: 'After the flood', body: 'From A, after.' })
    await eventually(() => hasArticle(b, after.hex))
    const afterChange = await changeOf(b, after.hex)
    await sleep(2000)
    const cutOff = { takesItsPosts: await hasArticle(b, messageIdHex(late.id)), forwardsToIt: await f.received(GROUP, afterChange) }
    console.log(
      `flood of ${FLOOD} sent in ${first.ms} + ${second.ms} ms (flooder RSS ${Math.round(second.rss / 2 ** 20)} MB): ` +
        `${afterFirstWave} rejections logged on B after the first wave, ${logged} in all, ` +
        `test process RSS +${Math.round(rssGrowth / 2 ** 20)} MB, ${during.length} honest posts during it; after: ${JSON.stringify(cutOff)}`,
    )
    expect(cutOff).toEqual({ takesItsPosts: false, forwardsToIt: false })
  }, 55_000)
})

/** Resolves once `count()` has not changed for 300 ms (at most 15 s). */
async function settled(count: () => number): Promise<void> {
  let last = -1
  await eventually(
    () => {
      const now = count()
      const still = now === last
      last = now
      return still
    },
    { timeoutMs: 15_000, intervalMs: 300 },
  )
}
