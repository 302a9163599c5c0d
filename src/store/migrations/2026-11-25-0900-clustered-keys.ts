import { sql, type Kysely } from 'kysely'

/**
 * Postings and range fingerprints clustered on their keys, and one index fewer.
 *
 * - A posting is keyed by (group, Message-ID), a hash. As a rowid table each new posting wrote a table page and
 *   a page of the key's index; without a rowid it writes one page, and the date lives beside the key, so
 *   reconciling by Message-ID prefix filtered by date (idsWithPrefix) reads no table rows, and the date index
 *   covers a day's ids (idsOfDay).
 * - A day's 256 bucket fingerprints, read whenever two nodes' day differs, were 256 index probes into rows
 *   scattered over the table (0.35-0.5 ms a day warm, 1.5 ms cold); clustered they are a few adjacent pages.
 *   The day fingerprints likewise.
 * - shard_changes_by_article has served no query since changes are found through their posting's shard
 *   (changesOf), but ingest still wrote it for every post.
 *
 * SQLite cannot change a table to WITHOUT ROWID in place: the rows are copied. Kysely runs SQLite migrations
 * outside a transaction, so this one runs in its own: a crash leaves the old tables whole.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.transaction().execute(async (trx) => {
    await trx.schema.dropIndex('shard_changes_by_article').execute()
    await sql`create table postings_clustered (
      group_name text not null,
      article_id text not null,
      root_id text not null,
      date integer not null,
      primary key (group_name, article_id)
    ) without rowid`.execute(trx)
    await sql`insert into postings_clustered select group_name, article_id, root_id, date from postings`.execute(trx)
    await trx.schema.dropTable('postings').execute()
    await sql`alter table postings_clustered rename to postings`.execute(trx)
    await createPostingIndexes(trx)
    await rebuild(trx, 'day_digests', 'without rowid')
    await rebuild(trx, 'bucket_digests', 'without rowid')
  })
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.transaction().execute(async (trx) => {
    await sql`create table postings_rowid (
      group_name text not null,
      article_id text not null,
      root_id text not null,
      date integer not null,
      constraint postings_pk primary key (group_name, article_id)
    )`.execute(trx)
    await sql`insert into postings_rowid select group_name, article_id, root_id, date from postings`.execute(trx)
    await trx.schema.dropTable('postings').execute()
    await sql`alter table postings_rowid rename to postings`.execute(trx)
    await createPostingIndexes(trx)
    await rebuild(trx, 'day_digests', '')
    await rebuild(trx, 'bucket_digests', '')
    await trx.schema.createIndex('shard_changes_by_article').on('shard_changes').column('article_id').execute()
  })
}

async function createPostingIndexes(db: Kysely<unknown>): Promise<void> {
  await db.schema.createIndex('postings_by_thread').on('postings').columns(['group_name', 'root_id', 'date']).execute()
  await db.schema.createIndex('postings_by_date').on('postings').columns(['group_name', 'date']).execute()
}

const FINGERPRINT_TABLES = {
  day_digests: 'group_name text not null, day text not null, count integer not null, xor blob not null, primary key (group_name, day)',
  bucket_digests:
    'group_name text not null, day text not null, bucket integer not null, count integer not null, xor blob not null, primary key (group_name, day, bucket)',
}

/** Copies a fingerprint table into one with the same columns and key, with or without a rowid. */
async function rebuild(db: Kysely<unknown>, table: keyof typeof FINGERPRINT_TABLES, options: 'without rowid' | ''): Promise<void> {
  await sql`create table ${sql.raw(`${table}_rebuilt`)} (${sql.raw(FINGERPRINT_TABLES[table])}) ${sql.raw(options)}`.execute(db)
  await sql`insert into ${sql.raw(`${table}_rebuilt`)} select * from ${sql.raw(table)}`.execute(db)
  await sql`drop table ${sql.raw(table)}`.execute(db)
  await sql`alter table ${sql.raw(`${table}_rebuilt`)} rename to ${sql.raw(table)}`.execute(db)
}
