import { chmod, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type SqliteDatabase from 'better-sqlite3'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { parseGroupName, utcDay } from '../../src/article/index.ts'
import { addGroup, idsOfDay, idsWithPrefix, migrateDown, openStore, StoreError, type Store } from '../../src/store/index.ts'
import { migrations } from '../../src/store/migrations/index.ts'
import { canonicalChange } from '../../src/sync/canonical-change.ts'
import { createIngest } from '../../src/sync/ingest.ts'
import { ShardDocuments } from '../../src/sync/shard-documents.ts'
import { createLogger } from '../../src/logger.ts'
import { makeArticle } from '../helpers/articles.ts'

const KYSELY_TABLES = ['kysely_migration', 'kysely_migration_lock']

let dir: string
let file: string
const open: Store[] = []

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'usenet-migrations-'))
  file = join(dir, 'node.sqlite')
})

afterEach(async () => {
  for (const store of open.splice(0)) await store.close().catch(() => undefined)
  await chmod(dir, 0o700).catch(() => undefined)
  await rm(dir, { recursive: true, force: true })
})

async function openTracked(path = file): Promise<Store> {
  const store = await openStore(path)
  open.push(store)
  return store
}

async function closeTracked(store: Store): Promise<void> {
  open.splice(open.indexOf(store), 1)
  await store.close()
}

/** The schema as SQLite records it: every table, index and trigger with its SQL. */
function schemaOf(sqlite: SqliteDatabase.Database): { type: string; name: string; sql: string | null }[] {
  return sqlite.prepare("select type, name, sql from sqlite_master where name not like 'sqlite_%' order by type, name").all() as {
    type: string
    name: string
    sql: string | null
  }[]
}

function tablesOf(sqlite: SqliteDatabase.Database): string[] {
  return schemaOf(sqlite)
    .filter((o) => o.type === 'table')
    .map((o) => o.name)
}

describe('migrations', () => {
  it('creates the application tables on a new file', async () => {
    const store = await openTracked()
    const tables = tablesOf(store.sqlite)
    for (const table of ['groups', 'articles', 'postings', 'threads', 'authors', 'shards', 'settings']) expect(tables).toContain(table)
    const applied = store.sqlite.prepare('select name from kysely_migration order by name').all()
    expect(applied).toEqual(Object.keys(migrations).map((name) => ({ name })))
  })

  it('leaves no application tables or indexes after migrating down', async () => {
    const store = await openTracked()
    expect(tablesOf(store.sqlite).filter((t) => !KYSELY_TABLES.includes(t)).length).toBeGreaterThan(0)
    for (let i = 0; i < Object.keys(migrations).length; i++) await migrateDown(store.db)
    // Only kysely's own bookkeeping remains, and it records no migration.
    expect(schemaOf(store.sqlite).filter((o) => !KYSELY_TABLES.includes(o.name))).toEqual([])
    expect(store.sqlite.prepare('select count(*) as n from kysely_migration').get()).toEqual({ n: 0 })
  })

  it('migrates up again after migrating down, to the same schema', async () => {
    const first = await openTracked()
    const schema = schemaOf(first.sqlite)
    for (let i = 0; i < Object.keys(migrations).length; i++) await migrateDown(first.db)
    await closeTracked(first)
    const again = await openTracked()
    expect(schemaOf(again.sqlite)).toEqual(schema)
  })

  it('does nothing when an existing file is migrated again, and keeps its data', async () => {
    const first = await openTracked()
    await addGroup(first.db, { name: parseGroupName('test.one'), description: 'kept', createdAt: 1 })
    const ingest = createIngest({ db: first.db, shards: new ShardDocuments(), log: createLogger('test') })
    const post = makeArticle()
    expect((await ingest.ingestChanges([canonicalChange(post)]))[0]?.status).toBe('accepted')
    const schema = schemaOf(first.sqlite)
    const applied = first.sqlite.prepare('select name, timestamp from kysely_migration order by name').all()
    await closeTracked(first)

    for (let round = 0; round < 2; round++) {
      const again = await openTracked()
      expect(schemaOf(again.sqlite)).toEqual(schema)
      expect(again.sqlite.prepare('select name, timestamp from kysely_migration order by name').all()).toEqual(applied)
      expect(again.sqlite.prepare('select description from groups').all()).toEqual([{ description: 'kept' }])
      expect(again.sqlite.prepare('select id from articles').all()).toEqual([{ id: post.id }])
      await closeTracked(again)
    }
  })

  it('fills the bucket digests from the posts already stored, as ingest keeps them', async () => {
    const first = await openTracked()
    for (const name of ['test.one', 'test.two']) await addGroup(first.db, { name: parseGroupName(name), description: name, createdAt: 1 })
    const ingest = createIngest({ db: first.db, shards: new ShardDocuments(), log: createLogger('test') })
    const day = 86_400_000
    const posts = Array.from({ length: 60 }, (_, i) =>
      makeArticle({ group: i % 3 === 0 ? 'test.two' : 'test.one', subject: `Post ${i}`, date: Date.now() - (1 + (i % 4)) * day - i * 1000 }),
    )
    expect((await ingest.ingestChanges(posts.map(canonicalChange))).every((r) => r.status === 'accepted')).toBe(true)
    const kept = bucketRowsOf(first.sqlite)
    expect(kept.reduce((n, r) => n + r.count, 0)).toBe(60)
    // Back to before the bucket digests (the one-row-per-day layout came after them).
    await migrateDown(first.db)
    await migrateDown(first.db)
    expect(tablesOf(first.sqlite)).not.toContain('bucket_digests')
    expect(tablesOf(first.sqlite)).not.toContain('day_buckets')
    await closeTracked(first)
    const again = await openTracked()
    expect(bucketRowsOf(again.sqlite)).toEqual(kept)
  })
})

describe('clustering postings and fingerprints on their keys', () => {
  const rowsOf = (sqlite: SqliteDatabase.Database) => [
    ...['postings', 'day_digests'].map((table) => sqlite.prepare(`select * from ${table} order by 1, 2, 3`).all()),
    bucketRowsOf(sqlite),
  ]
  const postingsSql = (sqlite: SqliteDatabase.Database) =>
    schemaOf(sqlite)
      .filter((o) => ['postings', 'day_digests'].includes(o.name))
      .map((o) => o.sql!)
      .join('\n')
  const indexesOf = (sqlite: SqliteDatabase.Database) =>
    schemaOf(sqlite)
      .filter((o) => o.type === 'index')
      .map((o) => o.name)

  it('keeps every posting and fingerprint down to the previous layout and back, and ingest and reconciliation go on over them', async () => {
    const first = await openTracked()
    for (const name of ['test.one', 'test.two']) await addGroup(first.db, { name: parseGroupName(name), description: name, createdAt: 1 })
    const ingest = createIngest({ db: first.db, shards: new ShardDocuments(), log: createLogger('test') })
    const posts = Array.from({ length: 40 }, (_, i) => makeArticle({ group: i % 4 === 0 ? 'test.two' : 'test.one', subject: `Post ${i}` }))
    expect((await ingest.ingestChanges(posts.map(canonicalChange))).every((r) => r.status === 'accepted')).toBe(true)
    const before = rowsOf(first.sqlite)
    expect(before[0]).toHaveLength(40)
    expect(before[1]!.length).toBeGreaterThan(0)
    expect(before[2]!.reduce((n: number, r) => n + (r as { count: number }).count, 0)).toBe(40)
    await migrateDown(first.db)
    // The file as a node of the previous version keeps it: rowid postings, 256 rows a day, the unused index.
    expect(postingsSql(first.sqlite)).not.toMatch(/without rowid/i)
    expect(tablesOf(first.sqlite)).toContain('bucket_digests')
    expect(tablesOf(first.sqlite)).not.toContain('day_buckets')
    expect(indexesOf(first.sqlite)).toContain('shard_changes_by_article')
    expect(rowsOf(first.sqlite)).toEqual(before)
    await closeTracked(first)

    const again = await openTracked()
    expect(postingsSql(again.sqlite).match(/without rowid/gi)).toHaveLength(2)
    expect(tablesOf(again.sqlite)).not.toContain('bucket_digests')
    expect(indexesOf(again.sqlite)).not.toContain('shard_changes_by_article')
    expect(indexesOf(again.sqlite)).toEqual(expect.arrayContaining(['postings_by_thread', 'postings_by_date']))
    expect(rowsOf(again.sqlite)).toEqual(before)
    const day = utcDay(posts[0]!.date)
    expect((await idsOfDay(again.db, 'test.two', day)).sort()).toEqual(
      posts
        .filter((_, i) => i % 4 === 0)
        .map((p) => p.id)
        .sort(),
    )
    const more = createIngest({ db: again.db, shards: new ShardDocuments(), log: createLogger('test') })
    const late = makeArticle({ subject: 'After the migration' })
    expect(await more.ingestChanges([canonicalChange(late)])).toMatchObject([{ status: 'accepted' }])
    expect(await idsWithPrefix(again.db, 'test.one', day, late.id.slice(1, 3))).toContain(late.id)
  })
})

describe('opening a database that cannot be used', () => {
  async function expectStoreError(path: string): Promise<void> {
    const attempt = openTracked(path)
    await expect(attempt).rejects.toBeInstanceOf(StoreError)
    await expect(attempt).rejects.toThrow(path)
  }

  it('throws StoreError naming the path when the directory does not exist', async () => {
    await expectStoreError(join(dir, 'no', 'such', 'dir', 'node.sqlite'))
  })

  it('throws StoreError naming the path when the parent is a file, not a directory', async () => {
    const notADir = join(dir, 'plain-file')
    await writeFile(notADir, 'x')
    await expectStoreError(join(notADir, 'node.sqlite'))
  })

  it('throws StoreError naming the path when the file is not a SQLite database', async () => {
    await writeFile(file, 'this is not a database, just some text that is long enough to have a header\n'.repeat(20))
    await expectStoreError(file)
  })

  it.skipIf(process.getuid?.() === 0)('throws StoreError naming the path when the directory is not writable', async () => {
    const readOnly = join(dir, 'read-only')
    await mkdir(readOnly)
    await chmod(readOnly, 0o500)
    await expectStoreError(join(readOnly, 'node.sqlite'))
  })
})

/** Every non-empty bucket fingerprint, in either layout: 256 rows a day (bucket_digests) or one (day_buckets). */
function bucketRowsOf(sqlite: SqliteDatabase.Database): { group_name: string; day: string; bucket: number; count: number; xor: string }[] {
  if (!tablesOf(sqlite).includes('day_buckets')) {
    return sqlite.prepare('select group_name, day, bucket, count, hex(xor) as xor from bucket_digests order by 1, 2, 3').all() as never
  }
  const days = sqlite.prepare('select group_name, day, counts, xors from day_buckets order by 1, 2').all() as {
    group_name: string
    day: string
    counts: Buffer
    xors: Buffer
  }[]
  return days.flatMap(({ group_name, day, counts, xors }) =>
    Array.from({ length: 256 }, (_, bucket) => ({
      group_name,
      day,
      bucket,
      count: counts.readUInt32LE(bucket * 4),
      xor: xors
        .subarray(bucket * 32, bucket * 32 + 32)
        .toString('hex')
        .toUpperCase(),
    })).filter((row) => row.count > 0),
  )
}
