import { sql } from 'kysely'
import { bucketHex, type DayBuckets, decodeBuckets, emptyBlobs } from './day-buckets.ts'
import type { Db } from './schema.ts'

export interface DayDigest {
  day: string
  count: number
  xor: Uint8Array
}

/** The fingerprint of every day of a group that has posts, oldest first. */
export async function dayDigests(db: Db, group: string): Promise<DayDigest[]> {
  return db.selectFrom('day_digests').select(['day', 'count', 'xor']).where('group_name', '=', group).where('count', '>', 0).orderBy('day').execute()
}

/** The Message-IDs of a group's posts dated on one UTC day ("2026-11-23"). */
export async function idsOfDay(db: Db, group: string, day: string): Promise<string[]> {
  const start = Date.parse(`${day}T00:00:00Z`)
  const rows = await db
    .selectFrom('postings')
    .select('article_id')
    .where('group_name', '=', group)
    .where('date', '>=', start)
    .where('date', '<', start + 86_400_000)
    .execute()
  return rows.map((r) => r.article_id)
}

/** The fingerprints of one day's 256 buckets (by first byte of the hash); a day without posts has all empty (count 0, XOR zero). */
export async function bucketDigests(db: Db, group: string, day: string): Promise<DayBuckets> {
  const row = await db.selectFrom('day_buckets').select(['counts', 'xors']).where('group_name', '=', group).where('day', '=', day).executeTakeFirst()
  const { counts, xors } = row ?? emptyBlobs()
  return decodeBuckets(counts, xors)
}

/**
 * The Message-IDs of a group's posts of one UTC day whose hash begins with `prefix` (hex digits, lower case).
 * An index range on (group, Message-ID), filtered by date: the Message-ID starts with its hash.
 */
export async function idsWithPrefix(db: Db, group: string, day: string, prefix: string): Promise<string[]> {
  const start = Date.parse(`${day}T00:00:00Z`)
  const rows = await db
    .selectFrom('postings')
    .select('article_id')
    .where('group_name', '=', group)
    .where('article_id', '>=', `<${prefix}`)
    // '~' sorts after every hex digit and '@'.
    .where('article_id', '<', `<${prefix}~`)
    // Unary plus: filter by date without letting SQLite pick the date index, which would scan the whole day.
    .where(sql<number>`+date`, '>=', start)
    .where(sql<number>`+date`, '<', start + 86_400_000)
    .execute()
  return rows.map((r) => r.article_id)
}

/**
 * The canonical changes of these posts of a group, as saved in its shards (unknown ids are skipped).
 * Each id is found through its posting: the date gives the day's few shards and the Message-ID's hex prefix
 * the leaf, so one index probe reaches its change. (Probing every shard of the group for every id cost
 * 0.1 ms a post on a 20k-post group and grew with the number of shards.)
 *
 * CROSS JOIN is SQLite's way to fix the join order: postings first. Left to choose, once postings had no rowid
 * SQLite started from the group's shards and probed every asked id in each: 0.3 ms a post on a 50k group.
 */
export async function changesOf(db: Db, group: string, ids: readonly string[]): Promise<Uint8Array[]> {
  const out: Uint8Array[] = []
  for (let i = 0; i < ids.length; i += 500) {
    const rows = await changesQuery(db, group, ids.slice(i, i + 500)).execute()
    for (const row of rows) out.push(row.change)
  }
  return out
}

/** The query of `changesOf`, for at most 500 ids (exported for its query-plan test). */
export function changesQuery(db: Db, group: string, ids: readonly string[]) {
  return (
    db
      .selectFrom('postings')
      .crossJoin('shards')
      .crossJoin('shard_changes')
      .select('shard_changes.change')
      .where('postings.group_name', '=', group)
      .where('postings.article_id', 'in', ids)
      .whereRef('shards.group_name', '=', 'postings.group_name')
      // Article dates are whole seconds from 1970 to 9999, so this is utcDay(date).
      .where('shards.day', '=', sql<string>`strftime('%Y-%m-%d', postings.date / 1000, 'unixepoch')`)
      // A Message-ID is "<" + its hash in hex + "@…"; a leaf's prefix is the start of that hex.
      .where(sql<string>`substr(postings.article_id, 2, length(shards.prefix))`, '=', sql<string>`shards.prefix`)
      .whereRef('shard_changes.shard_id', '=', 'shards.id')
      .whereRef('shard_changes.article_id', '=', 'postings.article_id')
  )
}

/**
 * The canonical changes of a group's posts of one UTC day whose hash's first byte is in [first, last] (a
 * neighbour that held none of the day fetches it this way, without listing ids). One range of the day's
 * shards' changes each: the shard's key is (shard, Message-ID) and the Message-ID starts with its hash.
 */
export async function changesInBuckets(db: Db, group: string, day: string, first: number, last: number, limit: number): Promise<Uint8Array[]> {
  return (await changesInBucketsQuery(db, group, day, first, last).limit(limit).execute()).map((row) => row.change)
}

/** The query of `changesInBuckets` (exported for its query-plan test). */
export function changesInBucketsQuery(db: Db, group: string, day: string, first: number, last: number) {
  return (
    db
      .selectFrom('shards')
      .crossJoin('shard_changes')
      .select('shard_changes.change')
      .where('shards.group_name', '=', group)
      .where('shards.day', '=', day)
      .whereRef('shard_changes.shard_id', '=', 'shards.id')
      .where('shard_changes.article_id', '>=', `<${bucketHex(first)}`)
      // '~' sorts after every hex digit and '@'.
      .where('shard_changes.article_id', '<', `<${bucketHex(last)}~`)
  )
}
