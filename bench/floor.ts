/**
 * The floor of bench/mirror.ts, as the issue defines it: the same articles decoded and verified on two worker
 * threads (both cores) and the same rows inserted into SQLite, no network, no Automerge. `floorSameRows` runs
 * it in the calling process; bench/floor-fresh.ts runs it in a process of its own, started for it.
 */
import { join } from 'node:path'
import { Worker } from 'node:worker_threads'
import SqliteDatabase from 'better-sqlite3'
import { COMPILE_CACHE_DIR } from '../bin/node-flags.mjs'
import { insertSql } from '../src/store/bulk-insert.ts'
import { openStore } from '../src/store/index.ts'
import { MAX_CHANGES_PER_COMMIT } from '../src/sync/index.ts'
import { openOneRowFloor, tempDir } from './lib.ts'
import type { FloorRow } from './verify-floor-worker.ts'

export interface FloorWorker {
  verify(articles: Uint8Array[]): Promise<FloorRow[]>
  terminate(): Promise<number>
}

/**
 * Two verifier threads (both cores), started as a node starts its verify threads: Node's own type stripping,
 * no tsx, and the launcher's compile cache. Resolves once both have loaded their modules.
 */
export async function startFloorWorkers(): Promise<FloorWorker[]> {
  const workers = [0, 1].map(() => {
    const worker = new Worker(new URL('./verify-floor-worker.ts', import.meta.url), {
      execArgv: [],
      env: { ...process.env, NODE_COMPILE_CACHE: COMPILE_CACHE_DIR },
    })
    const pending = new Map<number, (rows: FloorRow[]) => void>()
    let seq = 0
    worker.on('message', (m: { seq: number; rows: FloorRow[] }) => {
      pending.get(m.seq)?.(m.rows)
      pending.delete(m.seq)
    })
    worker.on('error', (err: Error) => {
      console.error(`a floor worker failed: ${err.message}`)
      process.exit(1)
    })
    return {
      verify: (articles: Uint8Array[]) =>
        new Promise<FloorRow[]>((resolve) => {
          pending.set(seq, resolve)
          worker.postMessage({ seq: seq++, articles })
        }),
      terminate: () => worker.terminate(),
    }
  })
  // Warm up: the first message loads the modules.
  await Promise.all(workers.map((w) => w.verify([])))
  return workers
}

/** Verifies every article on the two threads, 500 at a time, all batches queued at once (the threads verify ahead while `store` inserts). */
async function verifiedBatches(workers: FloorWorker[], bytes: readonly Uint8Array[], store: (rows: FloorRow[], first: number) => void): Promise<void> {
  const batches: Promise<FloorRow[][]>[] = []
  for (let i = 0; i < bytes.length; i += 500) {
    const batch = bytes.slice(i, i + 500)
    const half = Math.ceil(batch.length / 2)
    batches.push(Promise.all([workers[0]!.verify(batch.slice(0, half)), workers[1]!.verify(batch.slice(half))]))
  }
  for (const [b, pending] of batches.entries()) store((await pending).flat(), b * 500)
}

/** One row per post into a table with one index (WAL, synchronous=FULL): the floor of earlier sessions, kept to compare. */
export async function floorOneRow(workers: FloorWorker[], articles: readonly Uint8Array[]): Promise<number> {
  const tmp = await tempDir('bench-mirror-floor-')
  const { db, insert } = openOneRowFloor(join(tmp.dir, 'floor.sqlite'))
  const t0 = performance.now()
  await verifiedBatches(workers, articles, (rows) => {
    db.transaction(() => {
      for (const [id, authorKey, , subject, date, , , bytes] of rows) insert.run(id, authorKey, subject, date, bytes)
    })()
  })
  const seconds = (performance.now() - t0) / 1000
  db.close()
  await tmp.remove()
  return articles.length / seconds
}

/** Where the neighbour filed each post (shard ids follow from the group's posts, so the mirror files them the same). */
export interface ShardLayout {
  readonly shards: readonly { id: string; group_name: string; day: string; prefix: string; post_count: number }[]
  readonly shardOf: ReadonlyMap<string, string>
}

export function readShardLayout(path: string): ShardLayout {
  const db = new SqliteDatabase(path, { readonly: true })
  try {
    const shards = db.prepare('select id, group_name, day, prefix, post_count from shards').all() as ShardLayout['shards']
    const pairs = db.prepare('select article_id, shard_id from shard_changes').raw().all() as [string, string][]
    return { shards, shardOf: new Map(pairs) }
  } finally {
    db.close()
  }
}

/**
 * The floor: the same rows the mirror stores per post (articles, postings, shard_changes with the change
 * bytes), into a store opened as a node opens it (same schema, indexes, pragmas and checkpoint thread), through
 * prepared multi-row statements (one per table and batch), committed as a mirror commits (MAX_CHANGES_PER_COMMIT posts, synchronous=NORMAL).
 * The overview rows (threads, authors, day and bucket digests) are this design's own and count against the mirror.
 *
 * Given a function for its threads rather than threads, it starts them once its clock runs, as a node started
 * to mirror starts its verify threads after "Node running".
 */
export async function floorSameRows(
  threads: FloorWorker[] | (() => Promise<FloorWorker[]>),
  articles: readonly Uint8Array[],
  changes: readonly Uint8Array[],
  layout: ShardLayout,
  group: string,
): Promise<number> {
  const tmp = await tempDir('bench-mirror-floor-rows-')
  const store = await openStore(join(tmp.dir, 'node.sqlite'))
  const db = store.sqlite
  db.pragma('synchronous = NORMAL')
  const insertShard = db.prepare('insert into shards (id, group_name, day, prefix, post_count) values (?, ?, ?, ?, ?)')
  // Each batch's rows in one statement per table, ingest's own (`insertSql`): 500-row statements took 1.26-1.29 s
  // for 50k posts' rows where single-row ones took 1.49-2.07 s. INSERT OR FAIL keeps no statement journal.
  const statements = new Map<number, { articles: SqliteDatabase.Statement; postings: SqliteDatabase.Statement; changes: SqliteDatabase.Statement }>()
  const statementsFor = (rows: number) => {
    let prepared = statements.get(rows)
    if (!prepared) {
      const insert = (table: string, columns: string[]) => db.prepare(insertSql(table, columns, rows))
      prepared = {
        articles: insert('articles', ['id', 'author_key', 'from_name', 'subject', 'date', 'parent_id', 'root_id', 'bytes', 'received_at']),
        postings: insert('postings', ['group_name', 'article_id', 'root_id', 'date']),
        changes: insert('shard_changes', ['shard_id', 'article_id', 'change']),
      }
      statements.set(rows, prepared)
    }
    return prepared
  }
  const t0 = performance.now()
  const workers = typeof threads === 'function' ? await threads() : threads
  db.transaction(() => {
    for (const s of layout.shards) insertShard.run(s.id, s.group_name, s.day, s.prefix, s.post_count)
  })()
  // Committed MAX_CHANGES_PER_COMMIT posts at a time, as ingest commits a mirror's batches: with ids that are
  // hashes, each commit rewrites most index pages, so fewer, larger commits write less.
  let pending: { rows: FloorRow[]; first: number }[] = []
  let pendingPosts = 0
  const commit = () => {
    const receivedAt = Date.now()
    db.transaction(() => {
      for (const { rows, first } of pending) {
        const insert = statementsFor(rows.length)
        insert.articles.run(
          rows.flatMap(([id, authorKey, from, subject, date, parentId, rootId, bytes]) => [
            id,
            authorKey,
            from,
            subject,
            date,
            parentId,
            rootId,
            bytes,
            receivedAt,
          ]),
        )
        insert.postings.run(rows.flatMap(([id, , , , date, , rootId]) => [group, id, rootId, date]))
        insert.changes.run(rows.flatMap(([id], i) => [layout.shardOf.get(id), id, changes[first + i]]))
      }
    })()
    pending = []
    pendingPosts = 0
  }
  await verifiedBatches(workers, articles, (rows, first) => {
    pending.push({ rows, first })
    pendingPosts += rows.length
    if (pendingPosts >= MAX_CHANGES_PER_COMMIT) commit()
  })
  if (pendingPosts > 0) commit()
  const seconds = (performance.now() - t0) / 1000
  if (typeof threads === 'function') await Promise.all(workers.map((w) => w.terminate()))
  await store.close()
  await tmp.remove()
  return articles.length / seconds
}
