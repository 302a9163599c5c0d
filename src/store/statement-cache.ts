import type SqliteDatabase from 'better-sqlite3'
import type { SqliteDatabase as KyselySqliteDatabase, SqliteStatement } from 'kysely'

/** Enough for every distinct statement the node runs (multi-row inserts differ by row count) with room to spare. */
const DEFAULT_CAPACITY = 512

/**
 * The connection as Kysely sees it, with prepared statements kept for reuse. Kysely's SQLite driver prepares
 * every query afresh, and preparing costs more than running most of ours (≈ 25 µs vs ≈ 10 µs for a one-row
 * insert): a post's ingest runs a dozen statements. Safe because better-sqlite3 runs each statement to the end
 * synchronously, so a cached statement is never in use twice; Kysely's streaming (`iterate`) is not used.
 */
export function withStatementCache(sqlite: SqliteDatabase.Database, capacity = DEFAULT_CAPACITY): KyselySqliteDatabase {
  // A Map keeps insertion order: re-inserting on use makes its first key the least recently used.
  const cache = new Map<string, SqliteStatement>()
  return {
    prepare(sql) {
      let statement = cache.get(sql)
      if (statement) cache.delete(sql)
      else {
        statement = sqlite.prepare(sql) as unknown as SqliteStatement
        if (cache.size >= capacity) cache.delete(cache.keys().next().value!)
      }
      cache.set(sql, statement)
      return statement
    },
    close() {
      cache.clear()
      sqlite.close()
    },
  }
}
