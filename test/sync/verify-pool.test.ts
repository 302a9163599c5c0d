import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { decodeArticle, MAX_CLOCK_SKEW_MS, type SignedArticle } from '../../src/article/index.ts'
import { createLogger } from '../../src/logger.ts'
import { canonicalChange } from '../../src/sync/canonical-change.ts'
import { createIngest, POOL_MIN_BATCH, type IngestResult } from '../../src/sync/ingest.ts'
import { ShardDocuments } from '../../src/sync/shard-documents.ts'
import { createVerifyPool, type VerifyPool } from '../../src/sync/verify-pool.ts'
import { makeArticle } from '../helpers/articles.ts'
import { eventually } from '../helpers/network.ts'
import { openFileNode, snapshot, tempDir } from './file-node.ts'

const NOW = Date.UTC(2026, 10, 23, 12, 0, 0)
const now = () => NOW

/** Same article, one byte of its text changed: canonical, but its signature no longer holds. */
function forge(article: SignedArticle): SignedArticle {
  return decodeArticle(new TextEncoder().encode(new TextDecoder().decode(article.bytes).replace('Hello', 'Jello')))
}

/** A large batch with one of every outcome among honest posts, in a fixed order. */
function mixedBatch(): Uint8Array[] {
  const honest = Array.from({ length: POOL_MIN_BATCH * 2 }, (_, i) => makeArticle({ subject: `Post ${i}`, body: `Hello number ${i}.` }))
  const changes = honest.map(canonicalChange)
  changes.splice(3, 0, canonicalChange(forge(honest[40]!))) // bad-signature
  changes.splice(7, 0, Uint8Array.from([1, 2, 3])) // not a change
  changes.splice(90, 0, canonicalChange(honest[5]!)) // duplicate within the batch
  changes.splice(100, 0, canonicalChange(makeArticle({ group: 'test.none' }))) // ignored: not carried
  changes.splice(110, 0, canonicalChange(makeArticle({ date: NOW + MAX_CLOCK_SKEW_MS + 60_000 }))) // bad-date
  changes.push(canonicalChange(forge(makeArticle({ date: NOW + MAX_CLOCK_SKEW_MS + 60_000 })))) // bad-date wins over bad-signature
  return changes
}

const outcome = (r: IngestResult) => (r.status === 'rejected' ? `${r.status}:${r.problem}` : `${r.status}:${r.id}`)

let pool: VerifyPool
beforeAll(() => {
  pool = createVerifyPool({ threads: 2, log: createLogger('test') })
})
afterAll(async () => {
  await pool.stop()
})

describe('checking large batches on worker threads', () => {
  it('reads and verifies changes on a worker thread as the main thread does', async () => {
    const good = makeArticle()
    const checked = await pool.check([canonicalChange(good), canonicalChange(forge(good)), Uint8Array.from([9, 9])])
    // The body and signature stay in the bytes: the thread that stores the post does not read them.
    const { body: _, signature: __, ...record } = good
    expect(checked[0]).toEqual({ article: record, validSignature: true })
    expect(checked[1]).toMatchObject({ validSignature: false })
    // Not canonical: ingest reads it again on its own thread to say why (Automerge is not loaded here).
    expect(checked[2]).toBeUndefined()
  })

  it('gives the same results and stores the same rows with a pool as without one', async () => {
    const changes = mixedBatch()
    expect(changes.length).toBeGreaterThanOrEqual(POOL_MIN_BATCH)
    const dirs = [await tempDir(), await tempDir()]
    const [plain, pooled] = await Promise.all(dirs.map((d) => openFileNode(d.file, { groups: ['test.one'], now })))
    try {
      const shares: number[] = []
      const counted: VerifyPool = {
        threads: pool.threads,
        start: () => pool.start(),
        check(part) {
          shares.push(part.length)
          return pool.check(part)
        },
        stop: () => pool.stop(),
      }
      const withPool = createIngest({ db: pooled!.store.db, shards: new ShardDocuments(), log: createLogger('test'), now, pool: counted })
      const expected = await plain!.ingest.ingestChanges(changes)
      const actual = await withPool.ingestChanges(changes)
      expect(actual.map(outcome)).toEqual(expected.map(outcome))
      expect(actual.filter((r) => r.status === 'accepted')).toHaveLength(POOL_MIN_BATCH * 2)
      const kinds = new Set(expected.map((r) => (r.status === 'rejected' ? r.problem : r.status)))
      expect([...kinds].sort()).toEqual(['accepted', 'bad-date', 'bad-signature', 'duplicate', 'ignored', 'bad-change'].sort())
      // Both worker threads took an equal share of the whole batch; the main thread checked none.
      expect(shares).toHaveLength(2)
      expect(shares.reduce((a, b) => a + b, 0)).toBe(changes.length)
      expect(Math.abs(shares[0]! - shares[1]!)).toBeLessThanOrEqual(1)
      // The accepted articles handed back are the ones decoded on this thread, field for field.
      expected.forEach((r, i) => {
        if (r.status === 'accepted') expect(actual[i]).toEqual(r)
      })
      const [a, b] = [await snapshot(plain!.store.db), await snapshot(pooled!.store.db)]
      // received_at and the like come from the same fixed clock, so every row matches.
      expect(b).toEqual(a)
    } finally {
      await Promise.all([plain!.close(), pooled!.close()])
      await Promise.all(dirs.map((d) => d.remove()))
    }
  })

  it('decides batches handed in together in order, while their checks run at once', async () => {
    const dir = await tempDir()
    const node = await openFileNode(dir.file, { groups: ['test.one'], now })
    try {
      const inFlight: number[] = []
      let running = 0
      const watched: VerifyPool = {
        threads: pool.threads,
        start: () => pool.start(),
        async check(part) {
          inFlight.push(++running)
          try {
            return await pool.check(part)
          } finally {
            running--
          }
        },
        stop: () => pool.stop(),
      }
      const ingest = createIngest({ db: node!.store.db, shards: new ShardDocuments(), log: createLogger('test'), now, pool: watched })
      const first = Array.from({ length: POOL_MIN_BATCH }, (_, i) => canonicalChange(makeArticle({ body: `first ${i}`, date: now() - 1000 })))
      // The second batch repeats half of the first: only the first batch may store them.
      const second = [
        ...first.slice(0, POOL_MIN_BATCH / 2),
        ...Array.from({ length: POOL_MIN_BATCH / 2 }, (_, i) => canonicalChange(makeArticle({ body: `second ${i}`, date: now() - 1000 }))),
      ]
      const [a, b] = await Promise.all([ingest.ingestChanges(first, { origin: 'sync' }), ingest.ingestChanges(second, { origin: 'sync' })])
      expect(a.every((r) => r.status === 'accepted')).toBe(true)
      expect(b.map((r) => r.status)).toEqual([...Array(POOL_MIN_BATCH / 2).fill('duplicate'), ...Array(POOL_MIN_BATCH / 2).fill('accepted')])
      // The second batch's checks started before the first batch's had finished.
      expect(Math.max(...inFlight)).toBeGreaterThan(pool.threads)
    } finally {
      await node!.close()
      await dir.remove()
    }
  })

  it('stores a small batch checked on this thread and large ones checked on the pool in one commit, each post with its own change', async () => {
    const dir = await tempDir()
    const node = await openFileNode(dir.file, { groups: ['test.one'], now })
    try {
      const ingest = createIngest({ db: node!.store.db, shards: new ShardDocuments(), log: createLogger('test'), now, pool })
      const batch = (name: string, n: number) =>
        Array.from({ length: n }, (_, i) => makeArticle({ subject: `${name} ${i}`, body: `${name} ${i}`, date: now() - 1000 }))
      // Handed in together, so they share a commit: a large one, a small one (checked here), and a large one again.
      const batches = [batch('large', POOL_MIN_BATCH * 2), batch('small', 12), batch('after', POOL_MIN_BATCH)]
      const results = await Promise.all(batches.map((b) => ingest.ingestChanges(b.map(canonicalChange), { origin: 'sync' })))
      for (const [i, b] of batches.entries()) expect(results[i]!.map(outcome)).toEqual(b.map((a) => `accepted:${a.id}`))
      // Each post's saved change is its own.
      const changeOf = node!.store.sqlite.prepare('select change from shard_changes where article_id = ?').pluck()
      for (const article of batches.flat()) {
        expect(Buffer.from(changeOf.get(article.id) as Uint8Array).equals(Buffer.from(canonicalChange(article))), article.subject).toBe(true)
      }
    } finally {
      await node!.close()
      await dir.remove()
    }
  })

  it('starts its threads when told, before any check', async () => {
    const fresh = createVerifyPool({ threads: 2, log: createLogger('test') })
    try {
      const before = workerThreads()
      fresh.start()
      // Node names each worker's OS thread "WorkerThread" as soon as it runs.
      await eventually(() => workerThreads() === before + 2)
      fresh.start()
      expect(workerThreads()).toBe(before + 2)
    } finally {
      await fresh.stop()
    }
  })

  it('has ingest start the threads when a bulk of posts is coming, and not for a few', () => {
    let starts = 0
    const counted: VerifyPool = { threads: 2, check: (part) => pool.check(part), start: () => void starts++, stop: async () => {} }
    // No database: expecting posts stores nothing.
    const ingest = createIngest({ db: undefined as never, shards: new ShardDocuments(), log: createLogger('test'), pool: counted })
    ingest.expectPosts(POOL_MIN_BATCH - 1)
    expect(starts).toBe(0)
    ingest.expectPosts(POOL_MIN_BATCH)
    expect(starts).toBe(1)
  })

  it("keeps its threads' compiled code in the compile cache it is given, and checks the same with it", async () => {
    const dir = await tempDir()
    const cached = createVerifyPool({ threads: 1, log: createLogger('test'), compileCacheDir: join(dir.path, 'compile') })
    try {
      const good = makeArticle()
      expect(await cached.check([canonicalChange(good)])).toMatchObject([{ validSignature: true, article: { id: good.id } }])
      await cached.stop()
      // Written when the thread ends, under a directory per Node version.
      await eventually(() => existsSync(join(dir.path, 'compile')) && readdirSync(join(dir.path, 'compile'), { recursive: true }).length > 1)
    } finally {
      await cached.stop()
      await dir.remove()
    }
  })

  it('refuses checks after it is stopped', async () => {
    const stopped = createVerifyPool({ threads: 1, log: createLogger('test') })
    await stopped.stop()
    await expect(stopped.check([canonicalChange(makeArticle())])).rejects.toThrow(/stopped/)
  })
})

/** Threads of this process that run a worker (Linux names them in /proc). */
function workerThreads(): number {
  return readdirSync('/proc/self/task').filter((task) => {
    try {
      return readFileSync(`/proc/self/task/${task}/comm`, 'utf8').trim() === 'WorkerThread'
    } catch {
      return false
    }
  }).length
}
