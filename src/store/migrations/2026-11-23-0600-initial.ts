import type { Kysely } from 'kysely'

export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('groups')
    .addColumn('name', 'text', (c) => c.primaryKey())
    .addColumn('description', 'text', (c) => c.notNull().defaultTo(''))
    .addColumn('created_at', 'integer', (c) => c.notNull())
    .addColumn('subscribed', 'integer', (c) => c.notNull().defaultTo(1))
    .addColumn('post_count', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('last_post_at', 'integer')
    .execute()

  await db.schema
    .createTable('articles')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('author_key', 'text', (c) => c.notNull())
    .addColumn('from_name', 'text', (c) => c.notNull())
    .addColumn('subject', 'text', (c) => c.notNull())
    .addColumn('date', 'integer', (c) => c.notNull())
    .addColumn('parent_id', 'text')
    .addColumn('root_id', 'text', (c) => c.notNull())
    .addColumn('bytes', 'blob', (c) => c.notNull())
    .addColumn('received_at', 'integer', (c) => c.notNull())
    .execute()
  await db.schema.createIndex('articles_by_author').on('articles').columns(['author_key', 'date desc', 'id desc']).execute()

  await db.schema
    .createTable('postings')
    .addColumn('group_name', 'text', (c) => c.notNull())
    .addColumn('article_id', 'text', (c) => c.notNull())
    .addColumn('root_id', 'text', (c) => c.notNull())
    .addColumn('date', 'integer', (c) => c.notNull())
    .addPrimaryKeyConstraint('postings_pk', ['group_name', 'article_id'])
    .execute()
  await db.schema.createIndex('postings_by_thread').on('postings').columns(['group_name', 'root_id', 'date']).execute()

  await db.schema
    .createTable('threads')
    .addColumn('group_name', 'text', (c) => c.notNull())
    .addColumn('root_id', 'text', (c) => c.notNull())
    .addColumn('subject', 'text', (c) => c.notNull())
    .addColumn('author_key', 'text', (c) => c.notNull())
    .addColumn('from_name', 'text', (c) => c.notNull())
    .addColumn('started_at', 'integer', (c) => c.notNull())
    .addColumn('last_post_at', 'integer', (c) => c.notNull())
    .addColumn('post_count', 'integer', (c) => c.notNull())
    .addPrimaryKeyConstraint('threads_pk', ['group_name', 'root_id'])
    .execute()
  await db.schema.createIndex('threads_by_activity').on('threads').columns(['group_name', 'last_post_at desc', 'root_id desc']).execute()

  await db.schema
    .createTable('authors')
    .addColumn('key', 'text', (c) => c.primaryKey())
    .addColumn('from_name', 'text', (c) => c.notNull())
    .addColumn('post_count', 'integer', (c) => c.notNull())
    .addColumn('first_post_at', 'integer', (c) => c.notNull())
    .addColumn('last_post_at', 'integer', (c) => c.notNull())
    .execute()

  await db.schema
    .createTable('shards')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('group_name', 'text', (c) => c.notNull())
    .addColumn('day', 'text', (c) => c.notNull())
    .addColumn('prefix', 'text', (c) => c.notNull())
    .addColumn('post_count', 'integer', (c) => c.notNull())
    .execute()
  await db.schema.createIndex('shards_by_day').on('shards').columns(['group_name', 'day']).execute()

  await db.schema
    .createTable('shard_changes')
    .addColumn('shard_id', 'text', (c) => c.notNull())
    .addColumn('article_id', 'text', (c) => c.notNull())
    .addColumn('change', 'blob', (c) => c.notNull())
    .addPrimaryKeyConstraint('shard_changes_pk', ['shard_id', 'article_id'])
    .execute()

  await db.schema
    .createTable('settings')
    .addColumn('key', 'text', (c) => c.primaryKey())
    .addColumn('value', 'text', (c) => c.notNull())
    .execute()
}

export async function down(db: Kysely<unknown>): Promise<void> {
  for (const table of ['settings', 'shard_changes', 'shards', 'authors', 'threads', 'postings', 'articles', 'groups']) {
    await db.schema.dropTable(table).execute()
  }
}
