import { CompiledQuery } from 'kysely'
import type { Database, Db } from './schema.ts'

/** SQLite allows 32,766 bound values per statement. */
const MAX_BOUND_VALUES = 32_766

/**
 * Inserts rows, given as values in `columns` order, in one statement, with the same SQL text for every batch of
 * the same size (so its prepared statement is reused). The hot inserts of ingest go through here rather than
 * the query builder: Kysely builds and compiles a multi-row insert afresh on every call, walking every value
 * of every row, which cost about 0.5 s of the event loop per 50k posts mirrored.
 *
 * Only inside a transaction, which a failure rolls back whole: the insert is INSERT OR FAIL, which keeps the
 * rows before a failing one instead of undoing them, so SQLite keeps no statement journal. With the default
 * (ABORT), every multi-row insert copied each page it touched to a journal on disk first: mirroring 50k posts
 * wrote 968 MiB instead of 465 MiB.
 */
export async function insertRows<T extends keyof Database & string>(
  db: Db,
  table: T,
  columns: readonly (keyof Database[T] & string)[],
  rows: readonly (readonly unknown[])[],
): Promise<void> {
  await writeRows(db, table, columns, rows, undefined)
}

/** What an upsert does with a row whose key is already stored. */
export interface OnConflict<T extends keyof Database & string> {
  /** The columns of the unique key. */
  readonly key: readonly (keyof Database[T] & string)[]
  /** The SET clause: SQL over the stored row (by the table's name) and `excluded`, the row offered. A constant. */
  readonly set: string
}

/**
 * `insertRows` for rows that may already be stored (the overviews a batch adds to): one statement per batch,
 * its SQL text cached by row count, INSERT OR FAIL so SQLite keeps no statement journal. Through the query
 * builder, the thread, author and digest upserts of a 10k mirror took about 0.1 s of the event loop: Kysely
 * compiled each afresh, and each kept a statement journal.
 */
export async function upsertRows<T extends keyof Database & string>(
  db: Db,
  table: T,
  columns: readonly (keyof Database[T] & string)[],
  rows: readonly (readonly unknown[])[],
  onConflict: OnConflict<T>,
): Promise<void> {
  await writeRows(db, table, columns, rows, onConflict)
}

async function writeRows(
  db: Db,
  table: string,
  columns: readonly string[],
  rows: readonly (readonly unknown[])[],
  onConflict: { readonly key: readonly string[]; readonly set: string } | undefined,
): Promise<void> {
  if (!db.isTransaction) throw new Error(`rows are written to ${table} only inside a transaction`)
  if (rows.length === 0) return
  if (rows.length * columns.length > MAX_BOUND_VALUES) throw new RangeError(`${rows.length} rows of ${columns.length} values are too many for one statement`)
  // Sized once and filled by index: this runs for every batch a node stores.
  const parameters = new Array<unknown>(rows.length * columns.length)
  let at = 0
  for (const row of rows) {
    if (row.length !== columns.length) throw new RangeError(`a row for ${table} has ${row.length} values, not ${columns.length}`)
    for (let i = 0; i < row.length; i++) parameters[at++] = row[i]
  }
  const conflictSql = onConflict ? ` on conflict (${onConflict.key.map((c) => `"${c}"`).join(', ')}) do update set ${onConflict.set}` : ''
  await db.executeQuery(CompiledQuery.raw(insertSql(table, columns, rows.length, conflictSql), parameters))
}

const sqlTexts = new Map<string, string>()

/** The SQL text of `insertRows` for `rowCount` rows (bench/mirror.ts's floor runs the same statements), or of `upsertRows` with its ON CONFLICT clause. */
export function insertSql(table: string, columns: readonly string[], rowCount: number, onConflictSql = ''): string {
  const key = `${table}(${columns.join(',')})×${rowCount}${onConflictSql}`
  let text = sqlTexts.get(key)
  if (text === undefined) {
    const row = `(${columns.map(() => '?').join(', ')})`
    text = `insert or fail into "${table}" (${columns.map((c) => `"${c}"`).join(', ')}) values ${Array.from({ length: rowCount }, () => row).join(', ')}${onConflictSql}`
    // Batch sizes repeat (500 and the remainders), so this stays small; bounded all the same.
    if (sqlTexts.size >= 1024) sqlTexts.clear()
    sqlTexts.set(key, text)
  }
  return text
}
