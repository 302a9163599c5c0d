import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import * as Automerge from '@automerge/automerge'
import { parseGroupName } from '../../src/article/index.ts'
import { createLogger } from '../../src/logger.ts'
import { addGroup, listShards, openStore, shardChanges, type Db, type Store } from '../../src/store/index.ts'
import { createIngest, type Ingest } from '../../src/sync/ingest.ts'
import { ShardDocuments, type ShardDocumentsInit } from '../../src/sync/shard-documents.ts'

/** A node over a SQLite file that outlives it: close it and open another over the same file (a restart). */
export interface FileNode {
  store: Store
  shards: ShardDocuments
  ingest: Ingest
  close(): Promise<void>
}

export async function tempDir(): Promise<{ path: string; file: string; remove(): Promise<void> }> {
  const path = await mkdtemp(join(tmpdir(), 'usenet-sync-test-'))
  return { path, file: join(path, 'node.sqlite'), remove: () => rm(path, { recursive: true, force: true }) }
}

export async function openFileNode(
  file: string,
  { groups = ['test.one', 'test.two'], shards: init = {}, now }: { groups?: string[]; shards?: ShardDocumentsInit; now?: () => number } = {},
): Promise<FileNode> {
  const store = await openStore(file)
  for (const name of groups) await addGroup(store.db, { name: parseGroupName(name), description: `about ${name}`, createdAt: 0 })
  const shards = new ShardDocuments(init)
  const ingest = createIngest({ db: store.db, shards, log: createLogger('test'), ...(now ? { now } : {}) })
  return {
    store,
    shards,
    ingest,
    async close() {
      await store.close()
    },
  }
}

const TABLES = ['groups', 'articles', 'postings', 'threads', 'authors', 'shards', 'shard_changes', 'settings'] as const

/** Everything a node stores, for before/after comparisons: every row of every table, blobs as hex. */
export async function snapshot(db: Db): Promise<Record<string, unknown[]>> {
  const out: Record<string, unknown[]> = {}
  for (const table of TABLES) {
    const rows = await db.selectFrom(table).selectAll().execute()
    out[table] = rows
      .map((row) => Object.fromEntries(Object.entries(row).map(([k, v]) => [k, v instanceof Uint8Array ? Buffer.from(v).toString('hex') : v])))
      .map((row) => JSON.stringify(row))
      .sort()
  }
  return out
}

export async function rowCount(db: Db, table: (typeof TABLES)[number]): Promise<number> {
  const row = await db
    .selectFrom(table)
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .executeTakeFirstOrThrow()
  return Number(row.n)
}

/**
 * Each shard of a group, loaded from its saved changes as a fresh node would (all applied at once, without
 * ShardDocuments): shard id → its Message-IDs, its Automerge heads and its stored post count.
 */
export async function loadShards(db: Db, group: string): Promise<Map<string, { keys: string[]; heads: string[]; postCount: number; prefix: string }>> {
  const out = new Map<string, { keys: string[]; heads: string[]; postCount: number; prefix: string }>()
  for (const shard of await listShards(db, group)) {
    const [doc] = Automerge.applyChanges(Automerge.init<Record<string, Uint8Array>>(), await shardChanges(db, shard.id))
    out.set(shard.id, { keys: Object.keys(doc).sort(), heads: Automerge.getHeads(doc).sort(), postCount: shard.post_count, prefix: shard.prefix })
    Automerge.free(doc)
  }
  return out
}
