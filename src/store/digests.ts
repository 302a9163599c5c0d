import { messageIdHex, utcDay, type MessageId } from '../article/index.ts'
import { upsertRows } from './bulk-insert.ts'
import { addToBucket, blobsOf, emptyBlobs, xorInto } from './day-buckets.ts'
import type { ArticleToRecord } from './read-model.ts'
import type { Db } from './schema.ts'

/**
 * Range fingerprints of a group's set of posts, kept up to date on insert so reconciliation never rehashes
 * history: per (group, UTC day) and per (group, UTC day, first byte of the Message-ID hash), the count and the
 * XOR of the 32-byte hashes. The 16 coarser buckets of a day (first hex digit) are XORs of 16 rows each,
 * computed when asked.
 */

// 5 columns × 500 rows = 2,500 bound values per statement, well below SQLite's 32,766.
const ROWS_PER_UPSERT = 500

interface Delta {
  count: number
  xor: Buffer
}

/** Adds the posts of a batch (not stored before) to the day and bucket digests, inside the caller's transaction. */
export async function recordDigests(db: Db, items: readonly ArticleToRecord[]): Promise<void> {
  // group → day → { day delta, bucket → delta }
  const byGroup = new Map<string, Map<string, { day: Delta; buckets: Map<number, Delta> }>>()
  for (const { article, groups } of items) {
    const hash = Buffer.from(messageIdHex(article.id), 'hex')
    const day = utcDay(article.date)
    for (const group of groups) {
      const days = getOrAdd(byGroup, group, () => new Map())
      const entry = getOrAdd(days, day, () => ({ day: { count: 0, xor: Buffer.alloc(32) }, buckets: new Map<number, Delta>() }))
      entry.day.count += 1
      xorInto(entry.day.xor, hash)
      const bucket = getOrAdd(entry.buckets, hash[0]!, () => ({ count: 0, xor: Buffer.alloc(32) }))
      bucket.count += 1
      xorInto(bucket.xor, hash)
    }
  }
  for (const [group, days] of byGroup) {
    const dayList = [...days.keys()]
    const dayRows: { group_name: string; day: string; count: number; xor: Buffer }[] = []
    for (let i = 0; i < dayList.length; i += ROWS_PER_UPSERT) {
      const existing = await db
        .selectFrom('day_digests')
        .select(['day', 'count', 'xor'])
        .where('group_name', '=', group)
        .where('day', 'in', dayList.slice(i, i + ROWS_PER_UPSERT))
        .execute()
      for (const row of existing) {
        const delta = days.get(row.day)!.day
        delta.count += row.count
        xorInto(delta.xor, row.xor)
      }
    }
    const bucketRows: { group_name: string; day: string; counts: Buffer; xors: Buffer }[] = []
    for (let i = 0; i < dayList.length; i += ROWS_PER_UPSERT) {
      const existing = await db
        .selectFrom('day_buckets')
        .select(['day', 'counts', 'xors'])
        .where('group_name', '=', group)
        .where('day', 'in', dayList.slice(i, i + ROWS_PER_UPSERT))
        .execute()
      const stored = new Map(existing.map((row) => [row.day, blobsOf(row.counts, row.xors)]))
      for (const day of dayList.slice(i, i + ROWS_PER_UPSERT)) {
        const blobs = stored.get(day) ?? emptyBlobs()
        for (const [bucket, b] of days.get(day)!.buckets) addToBucket(blobs, bucket, b.count, b.xor)
        bucketRows.push({ group_name: group, day, ...blobs })
      }
    }
    for (const [day, { day: delta }] of days) dayRows.push({ group_name: group, day, count: delta.count, xor: delta.xor })
    for (let i = 0; i < dayRows.length; i += ROWS_PER_UPSERT) {
      const rows = dayRows.slice(i, i + ROWS_PER_UPSERT).map((r) => [r.group_name, r.day, r.count, r.xor])
      await upsertRows(db, 'day_digests', ['group_name', 'day', 'count', 'xor'], rows, REPLACE_DAY_DIGEST)
    }
    for (let i = 0; i < bucketRows.length; i += ROWS_PER_UPSERT) {
      const rows = bucketRows.slice(i, i + ROWS_PER_UPSERT).map((r) => [r.group_name, r.day, r.counts, r.xors])
      await upsertRows(db, 'day_buckets', ['group_name', 'day', 'counts', 'xors'], rows, REPLACE_DAY_BUCKETS)
    }
  }
}

// The rows written are the stored ones with the batch added (read above), so a conflict replaces.
const REPLACE_DAY_DIGEST = { key: ['group_name', 'day'], set: 'count = excluded.count, xor = excluded.xor' } as const
const REPLACE_DAY_BUCKETS = { key: ['group_name', 'day'], set: 'counts = excluded.counts, xors = excluded.xors' } as const

function getOrAdd<K, V>(map: Map<K, V>, key: K, make: () => V): V {
  let value = map.get(key)
  if (value === undefined) {
    value = make()
    map.set(key, value)
  }
  return value
}

/** The 32-byte hash a Message-ID carries. */
export function hashOf(id: string): Buffer {
  return Buffer.from(messageIdHex(id as MessageId), 'hex')
}
