import { sql } from 'kysely'
import { insertRows } from './bulk-insert.ts'
import type { Db } from './schema.ts'

export interface ShardRow {
  id: string
  group_name: string
  day: string
  prefix: string
  post_count: number
}

export async function shardsOfDay(db: Db, group: string, day: string): Promise<ShardRow[]> {
  return db.selectFrom('shards').selectAll().where('group_name', '=', group).where('day', '=', day).execute()
}

export async function getShard(db: Db, id: string): Promise<ShardRow | undefined> {
  return db.selectFrom('shards').selectAll().where('id', '=', id).executeTakeFirst()
}

/** A group's shards, newest day first. */
export async function listShards(db: Db, group: string): Promise<ShardRow[]> {
  return db.selectFrom('shards').selectAll().where('group_name', '=', group).orderBy('day', 'desc').orderBy('prefix').execute()
}

/** The changes of a shard, ordered by Message-ID so the same shard reads the same everywhere. */
export async function shardChanges(db: Db, id: string): Promise<Uint8Array[]> {
  const rows = await db.selectFrom('shard_changes').select('change').where('shard_id', '=', id).orderBy('article_id').execute()
  return rows.map((r) => r.change)
}

export async function createShard(db: Db, shard: { id: string; group: string; day: string; prefix: string }): Promise<void> {
  await db.insertInto('shards').values({ id: shard.id, group_name: shard.group, day: shard.day, prefix: shard.prefix, post_count: 0 }).execute()
}

/** Saves posts' changes into a shard. */
export async function addShardChanges(db: Db, id: string, changes: readonly { articleId: string; change: Uint8Array }[]): Promise<void> {
  for (let i = 0; i < changes.length; i += 500) {
    await insertRows(
      db,
      'shard_changes',
      ['shard_id', 'article_id', 'change'],
      changes.slice(i, i + 500).map((c) => [id, c.articleId, c.change]),
    )
  }
  await db
    .updateTable('shards')
    .set({ post_count: sql`post_count + ${changes.length}` })
    .where('id', '=', id)
    .execute()
}

/** Moves the changes whose Message-ID hex starts with `prefix` from one shard to another; returns how many. */
export async function moveShardChanges(db: Db, from: string, to: string, prefix: string): Promise<number> {
  // Message-IDs are "<hex@…>": the hex starts at character 2 (SQLite counts from 1).
  const result = await db
    .updateTable('shard_changes')
    .set({ shard_id: to })
    .where('shard_id', '=', from)
    .where(sql<string>`substr(article_id, 2, ${prefix.length})`, '=', prefix)
    .executeTakeFirst()
  const moved = Number(result.numUpdatedRows)
  await db.updateTable('shards').set({ post_count: moved }).where('id', '=', to).execute()
  return moved
}

export async function deleteShard(db: Db, id: string): Promise<void> {
  await db.deleteFrom('shard_changes').where('shard_id', '=', id).execute()
  await db.deleteFrom('shards').where('id', '=', id).execute()
}
