import { sql } from 'kysely'
import type { Db } from './schema.ts'

export interface ShardRow {
  id: string
  group_name: string
  day: string
  prefix: string
  post_count: number
  chunk_count: number
}

export async function shardsOfDay(db: Db, group: string, day: string): Promise<ShardRow[]> {
  return db.selectFrom('shards').selectAll().where('group_name', '=', group).where('day', '=', day).execute()
}

export async function getShard(db: Db, id: string): Promise<ShardRow | undefined> {
  return db.selectFrom('shards').selectAll().where('id', '=', id).executeTakeFirst()
}

export async function listShards(db: Db, group: string): Promise<ShardRow[]> {
  return db.selectFrom('shards').selectAll().where('group_name', '=', group).orderBy('day', 'desc').orderBy('prefix').execute()
}

/** The saved bytes of a shard, in order; Automerge loads their concatenation. */
export async function shardChunks(db: Db, id: string): Promise<Uint8Array[]> {
  const rows = await db.selectFrom('shard_chunks').select('bytes').where('shard_id', '=', id).orderBy('seq').execute()
  return rows.map((r) => r.bytes)
}

export async function createShard(db: Db, shard: { id: string; group: string; day: string; prefix: string }): Promise<void> {
  await db.insertInto('shards').values({ id: shard.id, group_name: shard.group, day: shard.day, prefix: shard.prefix, post_count: 0, chunk_count: 0 }).execute()
}

/** Appends an incremental save and counts the posts it added. */
export async function appendShardChunk(db: Db, id: string, bytes: Uint8Array, addedPosts: number): Promise<void> {
  const seq = await db
    .selectFrom('shard_chunks')
    .select(sql<number>`coalesce(max(seq), -1) + 1`.as('next'))
    .where('shard_id', '=', id)
    .executeTakeFirstOrThrow()
  await db.insertInto('shard_chunks').values({ shard_id: id, seq: seq.next, bytes }).execute()
  await db
    .updateTable('shards')
    .set({ post_count: sql`post_count + ${addedPosts}`, chunk_count: sql`chunk_count + 1` })
    .where('id', '=', id)
    .execute()
}

/** Replaces all saved bytes of a shard with one snapshot (compaction). */
export async function replaceShardChunks(db: Db, id: string, snapshot: Uint8Array, postCount: number): Promise<void> {
  await db.deleteFrom('shard_chunks').where('shard_id', '=', id).execute()
  await db.insertInto('shard_chunks').values({ shard_id: id, seq: 0, bytes: snapshot }).execute()
  await db.updateTable('shards').set({ post_count: postCount, chunk_count: 1 }).where('id', '=', id).execute()
}

export async function deleteShard(db: Db, id: string): Promise<void> {
  await db.deleteFrom('shard_chunks').where('shard_id', '=', id).execute()
  await db.deleteFrom('shards').where('id', '=', id).execute()
}
