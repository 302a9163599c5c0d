/**
 * Ingest throughput through the full path (validate the canonical change → Automerge shard → SQLite read
 * model, committed per batch), beside the floor measured in the same run: verifying the same signatures and
 * inserting the same articles into SQLite with the same settings, nothing else.
 *
 * With `--threads N` (N ≥ 1) ingest gets a verify pool of N worker threads (src/sync/verify-pool.ts), as a node has.
 *
 *   npm run bench:ingest [-- --posts 10000 --runs 5 --batch 100 --threads 0]
 */
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { decodeArticle, hasValidSignature, parseGroupName } from '../src/article/index.ts'
import { createLogger } from '../src/logger.ts'
import { addGroup, openStore } from '../src/store/index.ts'
import { canonicalChange, createIngest, createVerifyPool, ShardDocuments } from '../src/sync/index.ts'
import { makeCorpus, median, openOneRowFloor, rssMiB, tempDir } from './lib.ts'

const { values } = parseArgs({
  options: {
    posts: { type: 'string', default: '10000' },
    runs: { type: 'string', default: '5' },
    batch: { type: 'string', default: '100' },
    threads: { type: 'string', default: '0' },
  },
})
const POSTS = Number(values.posts)
const RUNS = Number(values.runs)
const BATCH = Number(values.batch)
const THREADS = Number(values.threads)
const GROUP = 'bench.ingest'

console.log(`generating ${POSTS} signed articles of about 1 KB…`)
const articles = makeCorpus({ group: GROUP, posts: POSTS, days: 30 })
const changes = articles.map(canonicalChange)
const pool = THREADS > 0 ? createVerifyPool({ threads: THREADS, log: createLogger('bench') }) : undefined
// Start the threads before timing (a node keeps them once started).
if (pool) await Promise.all(Array.from({ length: THREADS }, () => pool.check(changes.slice(0, 1))))
const bytes = articles.map((a) => a.bytes)
console.log(
  `mean article ${Math.round(bytes.reduce((s, b) => s + b.length, 0) / POSTS)} B, mean change ${Math.round(changes.reduce((s, c) => s + c.length, 0) / POSTS)} B`,
)

async function fullPath(): Promise<number> {
  const tmp = await tempDir('bench-ingest-')
  const store = await openStore(join(tmp.dir, 'node.sqlite'))
  await addGroup(store.db, { name: parseGroupName(GROUP), description: '', createdAt: 0 })
  const shards = new ShardDocuments()
  const ingest = createIngest({ db: store.db, shards, log: createLogger('bench'), ...(pool ? { pool } : {}) })
  const t0 = performance.now()
  for (let i = 0; i < changes.length; i += BATCH) {
    const results = await ingest.ingestChanges(changes.slice(i, i + BATCH))
    if (results.some((r) => r.status !== 'accepted')) throw new Error(`not accepted: ${JSON.stringify(results.find((r) => r.status !== 'accepted'))}`)
  }
  const seconds = (performance.now() - t0) / 1000
  await store.close()
  await tmp.remove()
  return POSTS / seconds
}

/** The floor: decode + verify each article and insert its row, same batch size, WAL and synchronous=FULL. */
async function floor(): Promise<number> {
  const tmp = await tempDir('bench-floor-')
  const { db, insert } = openOneRowFloor(join(tmp.dir, 'floor.sqlite'))
  const t0 = performance.now()
  for (let i = 0; i < bytes.length; i += BATCH) {
    const batch = bytes.slice(i, i + BATCH).map((b) => {
      const a = decodeArticle(b)
      if (!hasValidSignature(a)) throw new Error('bad signature')
      return a
    })
    db.transaction(() => {
      for (const a of batch) insert.run(a.id, a.authorKey, a.subject, a.date, a.bytes)
    })()
  }
  const seconds = (performance.now() - t0) / 1000
  db.close()
  await tmp.remove()
  return POSTS / seconds
}

const full: number[] = []
const floors: number[] = []
for (let run = 0; run < RUNS; run++) {
  floors.push(await floor())
  full.push(await fullPath())
  console.log(`run ${run + 1}: full path ${full.at(-1)!.toFixed(0)} posts/s, floor ${floors.at(-1)!.toFixed(0)} posts/s`)
}
const m = median(full)
const f = median(floors)
await pool?.stop()
console.log(`\n${POSTS} posts, batches of ${BATCH}, ${THREADS} verify worker threads, ${RUNS} runs (medians):`)
console.log(`  full path (validate → Automerge shard → SQLite): ${m.toFixed(0)} posts/s`)
console.log(`  floor (verify signature + SQLite insert):        ${f.toFixed(0)} posts/s`)
console.log(`  floor / full path: ${(f / m).toFixed(2)}× (target ≤ 3×); target ≥ 1,500 posts/s: ${m >= 1500 ? 'met' : 'NOT met'}`)
console.log(`  RSS now ${rssMiB().toFixed(0)} MiB`)
