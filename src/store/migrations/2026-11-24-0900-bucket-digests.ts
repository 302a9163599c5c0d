import { sql, type Kysely } from 'kysely'

/**
 * A fingerprint per (group, UTC day, first byte of the Message-ID hash): 256 buckets under each day digest,
 * so two nodes whose day digests differ find the differing posts without listing a whole day. Kept up to date
 * on insert, like the day digests; filled here from the postings already stored.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('bucket_digests')
    .addColumn('group_name', 'text', (c) => c.notNull())
    .addColumn('day', 'text', (c) => c.notNull())
    .addColumn('bucket', 'integer', (c) => c.notNull())
    .addColumn('count', 'integer', (c) => c.notNull())
    .addColumn('xor', 'blob', (c) => c.notNull())
    .addPrimaryKeyConstraint('bucket_digests_pk', ['group_name', 'day', 'bucket'])
    .execute()
  const { rows } = await sql<{ group_name: string; article_id: string; date: number }>`select group_name, article_id, date from postings`.execute(db)
  const buckets = new Map<string, { group_name: string; day: string; bucket: number; count: number; xor: Buffer }>()
  for (const { group_name, article_id, date } of rows) {
    // Message-IDs are `<64 hex@usenet-p2p>`: the hash is in the id.
    const hash = Buffer.from(article_id.slice(1, 65), 'hex')
    const day = new Date(date).toISOString().slice(0, 10)
    const key = `${group_name} ${day} ${hash[0]}`
    const row = buckets.get(key) ?? { group_name, day, bucket: hash[0]!, count: 0, xor: Buffer.alloc(32) }
    buckets.set(key, row)
    row.count += 1
    for (let i = 0; i < 32; i++) row.xor[i]! ^= hash[i]!
  }
  const all = [...buckets.values()]
  for (let i = 0; i < all.length; i += 500) {
    await db
      .insertInto('bucket_digests' as never)
      .values(all.slice(i, i + 500) as never)
      .execute()
  }
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('bucket_digests').execute()
}
