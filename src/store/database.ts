import SqliteDatabase from 'better-sqlite3'
import { Kysely, Migrator, SqliteDialect, sql, type Transaction } from 'kysely'
import { type Checkpointer, startCheckpointer } from './checkpointer.ts'
import { StoreError } from './errors.ts'
import { migrationProvider } from './migrations/index.ts'
import type { Database, Db } from './schema.ts'
import { withStatementCache } from './statement-cache.ts'

export interface Store {
  readonly db: Db
  /** The same connection, for the few hot paths that bypass the query builder. */
  readonly sqlite: SqliteDatabase.Database
  readonly checkpointer: Checkpointer
  close(): Promise<void>
}

export interface OpenStoreOptions {
  /** Told about trouble that does not stop the store (a failed background checkpoint). */
  warn?: (message: string) => void
  /** Background checkpoints: how often (ms), and the log length (pages) past which writers wait for one. */
  checkpoints?: { intervalMs?: number; maxLogPages?: number }
}

const PAGE_CACHE_KIB = 32 * 1024

/**
 * Opens (creating if needed) the node's SQLite file and migrates it to the latest schema.
 * WAL lets readers run beside the writer; synchronous=FULL makes a commit durable before we acknowledge a post
 * (see `transactionWith` for the one exception).
 */
export async function openStore(path: string, { warn = () => {}, checkpoints = {} }: OpenStoreOptions = {}): Promise<Store> {
  let sqlite: SqliteDatabase.Database
  try {
    sqlite = new SqliteDatabase(path)
    sqlite.pragma('journal_mode = WAL')
    sqlite.pragma('synchronous = FULL')
    sqlite.pragma('foreign_keys = ON')
    sqlite.pragma('busy_timeout = 5000')
    // 32 MiB of page cache instead of SQLite's 2: ids are hashes, so each post lands on a random page of every
    // index keyed by one. Mirroring 50k posts in process, the writer's CPU went from 5.3-5.6 s to 4.2-4.9 s.
    sqlite.pragma(`cache_size = -${PAGE_CACHE_KIB}`)
  } catch (err) {
    throw new StoreError(`cannot open the database ${path}: ${(err as Error).message}`)
  }
  const db = new Kysely<Database>({ dialect: new SqliteDialect({ database: withStatementCache(sqlite) }) })
  const { error } = await new Migrator({ db, provider: migrationProvider }).migrateToLatest()
  if (error) {
    await db.destroy()
    throw new StoreError(`cannot migrate the database ${path}: ${(error as Error).message}`)
  }
  const checkpointer = startCheckpointer(sqlite, { ...checkpoints, onError: warn })
  checkpointerOf.set(db, checkpointer)
  return {
    db,
    sqlite,
    checkpointer,
    async close() {
      await checkpointer.stop()
      // The last connection to close checkpoints what is left and removes the log.
      await db.destroy()
    },
  }
}

export async function migrateDown(db: Db): Promise<void> {
  const { error } = await new Migrator({ db, provider: migrationProvider }).migrateDown()
  if (error) throw new StoreError(`cannot undo the last migration: ${(error as Error).message}`)
}

/** The checkpointer of each open store's connection, so every write transaction can wait for it. */
const checkpointerOf = new WeakMap<Db, Checkpointer>()

/**
 * How much a commit must survive. `power-loss`: synced to disk before the commit returns (synchronous=FULL, one
 * fsync per commit). `process-crash`: a crash or SIGKILL of this process loses nothing, a power cut may lose the
 * last commits but never corrupts (WAL with synchronous=NORMAL); for posts a neighbour also holds, which
 * anti-entropy fetches again.
 */
export type Durability = 'power-loss' | 'process-crash'

/**
 * Runs `work` in one transaction committed with the given durability. An fsync blocks the event loop (better-
 * sqlite3 is synchronous) for 0.3 ms on an idle disk and several ms when many processes share it: a node
 * relaying gossip should not pay that per post. Every other commit stays at synchronous=FULL.
 */
export async function transactionWith<T>(db: Db, durability: Durability, work: (trx: Transaction<Database>) => Promise<T>): Promise<T> {
  // Bulk writers (mirroring, seeding) commit without a pause; this is where they let the log be copied.
  await checkpointerOf.get(db)?.catchUp()
  if (durability === 'power-loss') return db.transaction().execute(work)
  await sql`pragma synchronous = NORMAL`.execute(db)
  try {
    return await db.transaction().execute(work)
  } finally {
    await sql`pragma synchronous = FULL`.execute(db)
  }
}
