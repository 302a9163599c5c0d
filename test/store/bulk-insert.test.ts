import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { insertRows, upsertRows } from '../../src/store/bulk-insert.ts'
import { openStore, type Store } from '../../src/store/index.ts'

let dir: string
let store: Store

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'usenet-bulk-'))
  store = await openStore(join(dir, 'node.sqlite'))
})

afterEach(async () => {
  await store.close()
  await rm(dir, { recursive: true, force: true })
})

const COLUMNS = ['shard_id', 'article_id', 'change'] as const
const row = (i: number) => [`s${i % 3}`, `<${i}@test>`, Uint8Array.from([i % 256, 0, 255])]

describe('inserting rows in bulk', () => {
  it('stores every row exactly, for batches of different sizes through the same statements', async () => {
    const rows = Array.from({ length: 1203 }, (_, i) => row(i))
    await store.db.transaction().execute(async (trx) => {
      await insertRows(trx, 'shard_changes', COLUMNS, rows.slice(0, 500))
      await insertRows(trx, 'shard_changes', COLUMNS, rows.slice(500, 501))
      await insertRows(trx, 'shard_changes', COLUMNS, rows.slice(501, 1001))
    })
    await store.db.transaction().execute(async (trx) => {
      await insertRows(trx, 'shard_changes', COLUMNS, rows.slice(1001))
      await insertRows(trx, 'shard_changes', COLUMNS, [])
    })
    const stored = store.sqlite.prepare('select shard_id, article_id, change from shard_changes order by rowid').raw().all() as unknown[][]
    expect(stored).toEqual(rows.map(([s, a, c]) => [s, a, Buffer.from(c as Uint8Array)]))
  })

  it('refuses a row with the wrong number of values and stores nothing of its batch', async () => {
    await store.db.transaction().execute(async (trx) => {
      await expect(insertRows(trx, 'shard_changes', COLUMNS, [row(1), row(2).slice(0, 2)])).rejects.toThrow(/has 2 values, not 3/)
      await expect(
        insertRows(
          trx,
          'shard_changes',
          COLUMNS,
          Array.from({ length: 11_000 }, (_, i) => row(i)),
        ),
      ).rejects.toThrow(/too many/)
    })
    expect(store.sqlite.prepare('select count(*) as n from shard_changes').get()).toEqual({ n: 0 })
  })

  it('refuses to run outside a transaction, where a failing row would leave the rows before it stored', async () => {
    await expect(insertRows(store.db, 'shard_changes', COLUMNS, [row(1)])).rejects.toThrow(/only inside a transaction/)
    expect(store.sqlite.prepare('select count(*) as n from shard_changes').get()).toEqual({ n: 0 })
  })

  it('stores nothing of a transaction in which a batch fails part way', async () => {
    await store.db.transaction().execute((trx) => insertRows(trx, 'shard_changes', COLUMNS, [row(0)]))
    // The third row repeats a stored key: the two before it are written, then the statement fails.
    const batch = [row(1), row(2), row(0), row(4)]
    await expect(store.db.transaction().execute((trx) => insertRows(trx, 'shard_changes', COLUMNS, batch))).rejects.toThrow(/UNIQUE/)
    expect(store.sqlite.prepare('select article_id from shard_changes').pluck().all()).toEqual(['<0@test>'])
  })
})

describe('upserting rows in bulk', () => {
  const AUTHOR = ['key', 'from_name', 'post_count', 'first_post_at', 'last_post_at'] as const
  const ADD = {
    key: ['key'],
    set: 'post_count = authors.post_count + excluded.post_count, last_post_at = max(authors.last_post_at, excluded.last_post_at)',
  } as const

  it('updates the stored rows by the SET clause and inserts the new ones, in one statement', async () => {
    await store.db.transaction().execute((trx) => upsertRows(trx, 'authors', AUTHOR, [['a', 'Ann', 2, 10, 20]], ADD))
    await store.db.transaction().execute((trx) =>
      upsertRows(
        trx,
        'authors',
        AUTHOR,
        [
          ['a', 'Ann B', 3, 5, 15],
          ['b', 'Bob', 1, 7, 7],
        ],
        ADD,
      ),
    )
    expect(store.sqlite.prepare('select key, from_name, post_count, first_post_at, last_post_at from authors order by key').raw().all()).toEqual([
      ['a', 'Ann', 5, 10, 20],
      ['b', 'Bob', 1, 7, 7],
    ])
  })

  it('refuses to run outside a transaction', async () => {
    await expect(upsertRows(store.db, 'authors', AUTHOR, [['a', 'Ann', 1, 1, 1]], ADD)).rejects.toThrow(/only inside a transaction/)
    expect(store.sqlite.prepare('select count(*) as n from authors').get()).toEqual({ n: 0 })
  })
})
