import type { Kysely } from 'kysely'

/**
 * A fingerprint of each (group, UTC day) set of posts, kept up to date on insert, so two nodes compare their
 * sets by range without rehashing history: the count and the XOR of the Message-ID hashes.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('day_digests')
    .addColumn('group_name', 'text', (c) => c.notNull())
    .addColumn('day', 'text', (c) => c.notNull())
    .addColumn('count', 'integer', (c) => c.notNull())
    .addColumn('xor', 'blob', (c) => c.notNull())
    .addPrimaryKeyConstraint('day_digests_pk', ['group_name', 'day'])
    .execute()
  await db.schema.createIndex('postings_by_date').on('postings').columns(['group_name', 'date']).execute()
  // Serving a neighbour's "send me these posts" looks changes up by Message-ID.
  await db.schema.createIndex('shard_changes_by_article').on('shard_changes').column('article_id').execute()
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropIndex('shard_changes_by_article').execute()
  await db.schema.dropIndex('postings_by_date').execute()
  await db.schema.dropTable('day_digests').execute()
}
