import SqliteDatabase from 'better-sqlite3'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { composeArticle, decodeArticle, MAX_CLOCK_SKEW_MS, parseGroupName, type SignedArticle } from '../../src/article/index.ts'
import { articleGroups, getArticle, getGroup, getThread, listShards } from '../../src/store/index.ts'
import { canonicalChange } from '../../src/sync/canonical-change.ts'
import type { IngestResult } from '../../src/sync/ingest.ts'
import { alice, makeArticle, mallory } from '../helpers/articles.ts'
import { loadShards, openFileNode, rowCount, snapshot, tempDir, type FileNode } from './file-node.ts'

const NOW = Date.UTC(2026, 10, 23, 12, 0, 0)
const now = () => NOW

let dir: Awaited<ReturnType<typeof tempDir>>
let node: FileNode | undefined

beforeEach(async () => {
  dir = await tempDir()
  node = await openFileNode(dir.file, { now })
})

afterEach(async () => {
  await node?.close()
  node = undefined
  await dir.remove()
})

async function restart(): Promise<FileNode> {
  await node!.close()
  node = await openFileNode(dir.file, { now })
  return node
}

/** makeArticle posts to one group; a crosspost goes through the same signing path. */
function crossposted(groups: string[], subject: string): SignedArticle {
  return composeArticle({ newsgroups: groups.map(parseGroupName), subject, from: 'Alice', body: `About ${subject}.`, date: NOW }, alice)
}

const statuses = (results: IngestResult[]) => results.map((r) => r.status)

function threadFixture(): { root: SignedArticle; reply: SignedArticle } {
  const root = makeArticle({ subject: 'Idempotence', date: NOW - 60_000 })
  const reply = makeArticle({ parent: root, key: mallory, from: 'Mallory', date: NOW - 30_000 })
  return { root, reply }
}

describe('idempotence', () => {
  it('stores a post given twice in one batch once', async () => {
    const { root, reply } = threadFixture()
    const results = await node!.ingest.ingestChanges([canonicalChange(root), canonicalChange(reply), canonicalChange(reply)])
    expect(statuses(results)).toEqual(['accepted', 'accepted', 'duplicate'])
    expect(await rowCount(node!.store.db, 'articles')).toBe(2)
    expect(await rowCount(node!.store.db, 'postings')).toBe(2)
    expect((await getThread(node!.store.db, 'test.one', root.id))?.post_count).toBe(2)
    expect((await getGroup(node!.store.db, 'test.one'))?.post_count).toBe(2)
  })

  it('stores a post given in two batches once', async () => {
    const { root, reply } = threadFixture()
    expect(statuses(await node!.ingest.ingestChanges([canonicalChange(root), canonicalChange(reply)]))).toEqual(['accepted', 'accepted'])
    const before = await snapshot(node!.store.db)
    expect(statuses(await node!.ingest.ingestChanges([canonicalChange(reply)]))).toEqual(['duplicate'])
    expect(statuses(await node!.ingest.ingestChanges([canonicalChange(root), canonicalChange(reply)]))).toEqual(['duplicate', 'duplicate'])
    expect(await snapshot(node!.store.db)).toEqual(before)
    expect((await getThread(node!.store.db, 'test.one', root.id))?.post_count).toBe(2)
  })

  it('stores a post given again after a restart from the same SQLite file once', async () => {
    const { root, reply } = threadFixture()
    await node!.ingest.ingestChanges([canonicalChange(root), canonicalChange(reply)])
    const before = await snapshot(node!.store.db)
    const restarted = await restart()
    expect(statuses(await restarted.ingest.ingestChanges([canonicalChange(reply), canonicalChange(root)]))).toEqual(['duplicate', 'duplicate'])
    expect(await snapshot(restarted.store.db)).toEqual(before)
    expect(await rowCount(restarted.store.db, 'articles')).toBe(2)
    expect(await rowCount(restarted.store.db, 'postings')).toBe(2)
    expect((await getThread(restarted.store.db, 'test.one', root.id))?.post_count).toBe(2)
  })

  it('files a post crossposted to two carried groups under both, once each', async () => {
    const crosspost = crossposted(['test.one', 'test.two'], 'Both')
    const results = await node!.ingest.ingestChanges([canonicalChange(crosspost), canonicalChange(crosspost)])
    expect(statuses(results)).toEqual(['accepted', 'duplicate'])
    expect((await articleGroups(node!.store.db, crosspost.id)).sort()).toEqual(['test.one', 'test.two'])
    expect(await rowCount(node!.store.db, 'articles')).toBe(1)
    expect((await listShards(node!.store.db, 'test.one')).length).toBe(1)
    expect((await listShards(node!.store.db, 'test.two')).length).toBe(1)
  })
})

describe('forged posts', () => {
  it('rejects tampered bytes wrapped in a recomputed canonical change and changes nothing stored', async () => {
    const { root, reply } = threadFixture()
    await node!.ingest.ingestChanges([canonicalChange(root), canonicalChange(reply)])
    const before = await snapshot(node!.store.db)

    const text = new TextDecoder().decode(reply.bytes)
    const tampered = decodeArticle(new TextEncoder().encode(text.replace(reply.body, 'I, Alice, hereby give Mallory my savings.')))
    const sameDay = decodeArticle(new TextEncoder().encode(text.replace('Subject: Re: Idempotence', 'Subject: Re: Idempotence!')))
    const results = await node!.ingest.ingestChanges([canonicalChange(tampered), canonicalChange(sameDay)])
    expect(results).toEqual([
      expect.objectContaining({ status: 'rejected', problem: 'bad-signature' }),
      expect.objectContaining({ status: 'rejected', problem: 'bad-signature' }),
    ])
    expect(await getArticle(node!.store.db, tampered.id)).toBeUndefined()
    // Row counts, shard rows and the saved shard chunk bytes are exactly as before.
    expect(await snapshot(node!.store.db)).toEqual(before)
  })

  it('accepts the honest posts of a batch that also holds a forged one', async () => {
    const { root, reply } = threadFixture()
    const forged = decodeArticle(new TextEncoder().encode(new TextDecoder().decode(root.bytes).replace('Subject: Idempotence', 'Subject: Forged')))
    const results = await node!.ingest.ingestChanges([canonicalChange(forged), canonicalChange(root), canonicalChange(reply)])
    expect(statuses(results)).toEqual(['rejected', 'accepted', 'accepted'])
    expect(await rowCount(node!.store.db, 'articles')).toBe(2)
  })

  it('rejects a change that is not canonical and garbage, with a reason', async () => {
    const results = await node!.ingest.ingestChanges([new Uint8Array([1, 2, 3]), canonicalChange(makeArticle({ date: NOW })).subarray(0, 40)])
    expect(statuses(results)).toEqual(['rejected', 'rejected'])
    for (const r of results) if (r.status === 'rejected') expect(r.reason.length).toBeGreaterThan(0)
    expect(await rowCount(node!.store.db, 'articles')).toBe(0)
  })
})

describe('what the node does not want', () => {
  it('ignores a post for a group the node does not carry and stores nothing', async () => {
    const before = await snapshot(node!.store.db)
    const elsewhere = makeArticle({ group: 'alt.elsewhere', date: NOW })
    const [result] = await node!.ingest.ingestChanges([canonicalChange(elsewhere)])
    expect(result).toMatchObject({ status: 'ignored', id: elsewhere.id })
    expect(await snapshot(node!.store.db)).toEqual(before)
  })

  it('files a crosspost only under the groups the node carries', async () => {
    const crosspost = crossposted(['alt.elsewhere', 'test.two'], 'Partly ours')
    expect(statuses(await node!.ingest.ingestChanges([canonicalChange(crosspost)]))).toEqual(['accepted'])
    expect(await articleGroups(node!.store.db, crosspost.id)).toEqual(['test.two'])
    expect(await listShards(node!.store.db, 'alt.elsewhere')).toEqual([])
  })
})

describe('dates', () => {
  it('rejects a Date more than 24 hours in the future and accepts one exactly 24 hours ahead', async () => {
    const tooLate = makeArticle({ date: NOW + MAX_CLOCK_SKEW_MS + 1000 })
    const justInTime = makeArticle({ date: NOW + MAX_CLOCK_SKEW_MS })
    const results = await node!.ingest.ingestChanges([canonicalChange(tooLate), canonicalChange(justInTime)])
    expect(results[0]).toMatchObject({ status: 'rejected', problem: 'bad-date' })
    expect(results[1]).toMatchObject({ status: 'accepted' })
    expect(await getArticle(node!.store.db, tooLate.id)).toBeUndefined()
  })

  it('accepts old dates, as back-fill needs', async () => {
    const old = makeArticle({ date: Date.UTC(1995, 0, 1) })
    expect(statuses(await node!.ingest.ingestChanges([canonicalChange(old)]))).toEqual(['accepted'])
  })
})

describe('durability', () => {
  it('keeps an acknowledged post after the store is closed and opened again', async () => {
    const { root, reply } = threadFixture()
    const results = await node!.ingest.ingestChanges([canonicalChange(root), canonicalChange(reply)])
    expect(statuses(results)).toEqual(['accepted', 'accepted'])

    // Committed, not merely buffered: another connection to the file sees it before this one closes.
    const other = new SqliteDatabase(dir.file, { readonly: true })
    try {
      expect(other.prepare('select count(*) as n from articles').get()).toEqual({ n: 2 })
    } finally {
      other.close()
    }

    const restarted = await restart()
    const stored = await getArticle(restarted.store.db, reply.id)
    expect(stored && Buffer.from(stored.bytes).equals(Buffer.from(reply.bytes))).toBe(true)
    expect(await getThread(restarted.store.db, 'test.one', root.id)).toMatchObject({ post_count: 2, subject: 'Idempotence' })
    // The shard document loads from the saved bytes with both posts.
    const shards = await loadShards(restarted.store.db, 'test.one')
    expect([...shards.values()].flatMap((s) => s.keys).sort()).toEqual([root.id, reply.id].sort())
    // And it keeps working: a new reply after the restart goes into the same shard.
    const later = makeArticle({ parent: reply, date: NOW - 10_000 })
    expect(statuses(await restarted.ingest.ingestChanges([canonicalChange(later)]))).toEqual(['accepted'])
    const after = await loadShards(restarted.store.db, 'test.one')
    expect([...after.values()].flatMap((s) => s.keys).sort()).toEqual([root.id, reply.id, later.id].sort())
  })
})

describe('onAccepted', () => {
  it('tells listeners about accepted posts only, once per batch', async () => {
    const { root, reply } = threadFixture()
    await node!.ingest.ingestChanges([canonicalChange(root)])
    const seen: string[][] = []
    const stop = node!.ingest.onAccepted((articles) => seen.push(articles.map((a) => a.id)))

    const fresh = makeArticle({ date: NOW })
    const forged = decodeArticle(new TextEncoder().encode(new TextDecoder().decode(fresh.bytes).replace('Hello, world.', 'Goodbye.')))
    const results = await node!.ingest.ingestChanges([
      canonicalChange(root), // duplicate
      canonicalChange(reply),
      canonicalChange(makeArticle({ group: 'alt.elsewhere', date: NOW })), // ignored
      canonicalChange(forged), // rejected
      canonicalChange(makeArticle({ date: NOW + 2 * MAX_CLOCK_SKEW_MS })), // rejected
      canonicalChange(fresh),
      canonicalChange(fresh), // duplicate in the batch
    ])
    expect(statuses(results)).toEqual(['duplicate', 'accepted', 'ignored', 'rejected', 'rejected', 'accepted', 'duplicate'])
    expect(seen).toEqual([[reply.id, fresh.id]])

    // A batch with nothing new calls nobody.
    await node!.ingest.ingestChanges([canonicalChange(reply), canonicalChange(forged)])
    expect(seen).toHaveLength(1)

    stop()
    await node!.ingest.ingestChanges([canonicalChange(makeArticle({ date: NOW - 5000 }))])
    expect(seen).toHaveLength(1)
  })

  it('has committed the posts by the time listeners hear of them', async () => {
    const post = makeArticle({ date: NOW })
    const db = node!.store.db
    const found: boolean[] = []
    const done = new Promise<void>((resolve) => {
      node!.ingest.onAccepted((articles) => {
        const other = new SqliteDatabase(dir.file, { readonly: true })
        found.push(other.prepare('select 1 from articles where id = ?').get(articles[0]!.id) !== undefined)
        other.close()
        resolve()
      })
    })
    await node!.ingest.ingestChanges([canonicalChange(post)])
    await done
    expect(found).toEqual([true])
    expect(await getArticle(db, post.id)).toBeDefined()
  })

  it('keeps ingesting when a listener throws', async () => {
    node!.ingest.onAccepted(() => {
      throw new Error('listener bug')
    })
    const results = await node!.ingest.ingestChanges([canonicalChange(makeArticle({ date: NOW }))])
    expect(statuses(results)).toEqual(['accepted'])
    expect(statuses(await node!.ingest.ingestChanges([canonicalChange(makeArticle({ date: NOW - 1000 }))]))).toEqual(['accepted'])
  })
})

describe('batches waiting behind each other', () => {
  it('stores batches of one origin and group in one commit and gives each caller its own results', async () => {
    const commits: { origin: string; ids: string[] }[] = []
    node!.ingest.onAccepted((articles, batch) => commits.push({ origin: batch.origin, ids: articles.map((a) => a.id) }))
    const [a, b, c, d] = [1, 2, 3, 4].map((i) => makeArticle({ subject: `waiting ${i}`, date: NOW - i * 1000 }))
    const forged = decodeArticle(new TextEncoder().encode(new TextDecoder().decode(c!.bytes).replace('Hello, world.', 'Goodbye.')))
    // Handed in within one turn of the event loop, so all four wait for the first commit.
    const pending = [
      node!.ingest.ingestChanges([canonicalChange(a!), canonicalChange(b!)], { origin: 'sync' }),
      node!.ingest.ingestChanges([canonicalChange(b!), canonicalChange(forged), canonicalChange(c!)], { origin: 'sync' }),
      node!.ingest.ingestChanges([canonicalChange(d!)], { origin: 'gossip' }),
      node!.ingest.ingestChanges([canonicalChange(a!)], { origin: 'gossip' }),
    ]
    const [first, second, third, fourth] = await Promise.all(pending)
    expect(statuses(first!)).toEqual(['accepted', 'accepted'])
    expect(statuses(second!)).toEqual(['duplicate', 'rejected', 'accepted'])
    expect(statuses(third!)).toEqual(['accepted'])
    expect(statuses(fourth!)).toEqual(['duplicate'])
    // The two sync batches in one commit, the gossip ones in another: an origin decides durability and relaying.
    expect(commits).toEqual([
      { origin: 'sync', ids: [a!.id, b!.id, c!.id] },
      { origin: 'gossip', ids: [d!.id] },
    ])
    expect(await rowCount(node!.store.db, 'articles')).toBe(4)
  })
})
