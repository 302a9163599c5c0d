import SqliteDatabase from 'better-sqlite3'
import { Kysely, Migrator, SqliteDialect } from 'kysely'
import { StoreError } from './errors.ts'
import { migrationProvider } from './migrations/index.ts'
import type { Database, Db } from './schema.ts'

export interface Store {
  readonly db: Db
  /** The same connection, for the few hot paths that bypass the query builder. */
  readonly sqlite: SqliteDatabase.Database
  close(): Promise<void>
}

/**
 * Opens (creating if needed) the node's SQLite file and migrates it to the latest schema.
 * WAL lets readers run beside the writer; synchronous=FULL makes a commit durable before we acknowledge a post.
 */
export async function openStore(path: string): Promise<Store> {
  let sqlite: SqliteDatabase.Database
  try {
    sqlite = new SqliteDatabase(path)
    sqlite.pragma('journal_mode = WAL')
    sqlite.pragma('synchronous = FULL')
    sqlite.pragma('foreign_keys = ON')
    sqlite.pragma('busy_timeout = 5000')
  } catch (err) {
    throw new StoreError(`cannot open the database ${path}: ${(err as Error).message}`)
  }
  const db = new Kysely<Database>({ dialect: new SqliteDialect({ database: sqlite }) })
  const { error } = await new Migrator({ db, provider: migrationProvider }).migrateToLatest()
  if (error) {
    await db.destroy()
    throw new StoreError(`cannot migrate the database ${path}: ${(error as Error).message}`)
  }
  return { db, sqlite, close: () => db.destroy() }
}

export async function migrateDown(db: Db): Promise<void> {
  const { error } = await new Migrator({ db, provider: migrationProvider }).migrateDown()
  if (error) throw new StoreError(`cannot undo the last migration: ${(error as Error).message}`)
}
