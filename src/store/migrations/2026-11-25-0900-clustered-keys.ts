import { sql, type Kysely } from 'kysely'
import { addToBucket, BUCKETS, decodeBuckets, emptyBlobs } from '../day-buckets.ts'

/**
 * Postings and day fingerprints clustered on their keys, a day's bucket fingerprints in one row, and one
 * index fewer.
 *
 * - A posting is keyed by (group, Message-ID), a hash. As a rowid table each new posting wrote a table page and
 *   a page of the key's index; without a rowid it writes one page, and the date lives beside the key, so
 *   reconciling by Message-ID prefix filtered by date (idsWithPrefix) reads no table rows, and the date index
 *   covers a day's ids (idsOfDay).
 * - A day's 256 bucket fingerprints, read whenever two nodes' day differs, were 256 rows: 256 index probes
 *   into rows scattered over the table and a Buffer each (0.2-0.5 ms a day, about 6 ms of a 24 ms
 *   anti-entropy pull). They are now one `day_buckets` row per (group, day) (see day-buckets.ts).
 * - The day fingerprints are clustered on (group, day).
 * - shard_changes_by_article has served no query since changes are found through their posting's shard
 *   (changesOf), but ingest still wrote it for every post.
 *
 * SQLite cannot change a table to WITHOUT ROWID in place: the rows are copied. Kysely runs SQLite migrations
 * outside a transaction, so this one runs in its own: a crash leaves the old tables whole.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.transaction().execute(async (trx) => {
    await trx.schema.dropIndex('shard_changes_by_article').execute()
    await rebuild(trx, 'postings', 'without rowid')
    await createPostingIndexes(trx)
    await rebuild(trx, 'day_digests', 'without rowid')
    await sql`create table day_buckets (
      group_name text not null,
      day text not null,
      counts blob not null,
      xors blob not null,
      primary key (group_name, day)
    )`.execute(trx)
    const { rows } = await sql<{ group_name: string; day: string; bucket: number; count: number; xor: Uint8Array }>`
      select group_name, day, bucket, count, xor from bucket_digests order by group_name, day`.execute(trx)
    const days = new Map<string, { group_name: string; day: string; counts: Buffer; xors: Buffer }>()
    for (const { group_name, day, bucket, count, xor } of rows) {
      const key = `${group_name}\u0000${day}`
      const row = days.get(key) ?? { group_name, day, ...emptyBlobs() }
      days.set(key, row)
      addToBucket(row, bucket, count, xor)
    }
    for (const row of days.values()) {
      await sql`insert into day_buckets (group_name, day, counts, xors) values (${row.group_name}, ${row.day}, ${row.counts}, ${row.xors})`.execute(trx)
    }
    await trx.schema.dropTable('bucket_digests').execute()
  })
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.transaction().execute(async (trx) => {
    await rebuild(trx, 'postings', '')
    await createPostingIndexes(trx)
    await rebuild(trx, 'day_digests', '')
    await sql`create table bucket_digests (
      group_name text not null,
      day text not null,
      bucket integer not null,
      count integer not null,
      xor blob not null,
      constraint bucket_digests_pk primary key (group_name, day, bucket)
    )`.execute(trx)
    const { rows } = await sql<{ group_name: string; day: string; counts: Uint8Array; xors: Uint8Array }>`select * from day_buckets`.execute(trx)
    for (const row of rows) {
      const { counts, xors } = decodeBuckets(row.counts, row.xors)
      for (let bucket = 0; bucket < BUCKETS; bucket++) {
        if (counts[bucket] === 0) continue
        await sql`insert into bucket_digests values (${row.group_name}, ${row.day}, ${bucket}, ${counts[bucket]}, ${xors[bucket]})`.execute(trx)
      }
    }
    await trx.schema.dropTable('day_buckets').execute()
    await trx.schema.createIndex('shard_changes_by_article').on('shard_changes').column('article_id').execute()
  })
}

async function createPostingIndexes(db: Kysely<unknown>): Promise<void> {
  await db.schema.createIndex('postings_by_thread').on('postings').columns(['group_name', 'root_id', 'date']).execute()
  await db.schema.createIndex('postings_by_date').on('postings').columns(['group_name', 'date']).execute()
}

/** The columns and key of the tables this migration rebuilds, in their stored column order. */
const REBUILT_TABLES = {
  postings: 'group_name text not null, article_id text not null, root_id text not null, date integer not null, primary key (group_name, article_id)',
  day_digests: 'group_name text not null, day text not null, count integer not null, xor blob not null, primary key (group_name, day)',
}

/** Copies a table into one with the same columns and key, with or without a rowid (its indexes go with the old one). */
async function rebuild(db: Kysely<unknown>, table: keyof typeof REBUILT_TABLES, options: 'without rowid' | ''): Promise<void> {
  await sql`create table ${sql.raw(`${table}_rebuilt`)} (${sql.raw(REBUILT_TABLES[table])}) ${sql.raw(options)}`.execute(db)
  await sql`insert into ${sql.raw(`${table}_rebuilt`)} select * from ${sql.raw(table)}`.execute(db)
  await sql`drop table ${sql.raw(table)}`.execute(db)
  await sql`alter table ${sql.raw(`${table}_rebuilt`)} rename to ${sql.raw(table)}`.execute(db)
}
