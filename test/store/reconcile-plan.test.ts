import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { parseGroupName } from '../../src/article/index.ts'
import { createLogger } from '../../src/logger.ts'
import { addGroup, openStore, type Store } from '../../src/store/index.ts'
import { articleGroupsQuery } from '../../src/store/queries.ts'
import { changesInBuckets, changesInBucketsQuery, changesQuery } from '../../src/store/reconcile.ts'
import { canonicalChange } from '../../src/sync/canonical-change.ts'
import { createIngest } from '../../src/sync/ingest.ts'
import { ShardDocuments } from '../../src/sync/shard-documents.ts'
import { makeArticle } from '../helpers/articles.ts'

let dir: string
let store: Store

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'usenet-plan-'))
  store = await openStore(join(dir, 'node.sqlite'))
  await addGroup(store.db, { name: parseGroupName('test.one'), description: '', createdAt: 0 })
  // Enough posts for many shards over several days: the case where starting from the shards is the wrong plan.
  const ingest = createIngest({ db: store.db, shards: new ShardDocuments({ cap: 20 }), log: createLogger('test') })
  const posts = Array.from({ length: 1500 }, (_, i) => makeArticle({ subject: `Post ${i}`, date: Date.UTC(2026, 9, 1 + (i % 5)) + i * 1000 }))
  for (let i = 0; i < posts.length; i += 500) await ingest.ingestChanges(posts.slice(i, i + 500).map(canonicalChange))
})

afterAll(async () => {
  await store.close()
  await rm(dir, { recursive: true, force: true })
})

describe('serving a neighbour the changes it asked for', () => {
  it('starts from the asked postings, one index probe per post, and never scans the shards or changes', () => {
    const ids = (store.sqlite.prepare('select article_id from postings limit 500').all() as { article_id: string }[]).map((r) => r.article_id)
    expect(ids).toHaveLength(500)
    const { sql, parameters } = changesQuery(store.db, 'test.one', ids).compile()
    const plan = (store.sqlite.prepare(`explain query plan ${sql}`).all(...(parameters as unknown[])) as { detail: string }[]).map((r) => r.detail)
    expect(plan[0]).toMatch(/^SEARCH postings USING PRIMARY KEY \(group_name=\? AND article_id=\?\)/)
    expect(plan.slice(1).join('\n')).toMatch(/SEARCH shards USING INDEX shards_by_day \(group_name=\? AND day=\?\)/)
    expect(plan.slice(1).join('\n')).toMatch(/SEARCH shard_changes USING INDEX \S+ \(shard_id=\? AND article_id=\?\)/)
    expect(plan.join('\n')).not.toMatch(/SCAN/)
  })
})

describe('serving a neighbour a range of a day', () => {
  it("reads one key range of each of the day's shards, never scanning the shards or changes", () => {
    const { sql, parameters } = changesInBucketsQuery(store.db, 'test.one', '2026-10-02', 0x10, 0x3f).compile()
    const plan = (store.sqlite.prepare(`explain query plan ${sql}`).all(...(parameters as unknown[])) as { detail: string }[]).map((r) => r.detail)
    expect(plan[0]).toMatch(/^SEARCH shards USING INDEX shards_by_day \(group_name=\? AND day=\?\)/)
    expect(plan.slice(1).join('\n')).toMatch(/SEARCH shard_changes USING INDEX \S+ \(shard_id=\? AND article_id>\? AND article_id<\?\)/)
    expect(plan.join('\n')).not.toMatch(/SCAN/)
  })

  it("gives exactly the changes of the day's posts whose hash begins with a byte in the range", async () => {
    const day = '2026-10-02'
    const start = Date.parse(`${day}T00:00:00Z`)
    const rows = store.sqlite
      .prepare('select article_id, date from postings where group_name = ? and date >= ? and date < ?')
      .all('test.one', start, start + 86_400_000) as { article_id: string }[]
    const inRange = rows.filter((r) => {
      const b = Number.parseInt(r.article_id.slice(1, 3), 16)
      return b >= 0x10 && b <= 0x3f
    })
    expect(inRange.length).toBeGreaterThan(20)
    const expected = store.sqlite.prepare('select change from shard_changes where article_id = ?').pluck()
    const want = inRange.map((r) => Buffer.from(expected.get(r.article_id) as Uint8Array).toString('hex')).sort()
    const got = (await changesInBuckets(store.db, 'test.one', day, 0x10, 0x3f, 10_000)).map((c) => Buffer.from(c).toString('hex')).sort()
    expect(got).toEqual(want)
    expect(await changesInBuckets(store.db, 'test.one', day, 0, 255, 10_000)).toHaveLength(rows.length)
    expect(await changesInBuckets(store.db, 'test.one', day, 0, 255, 7)).toHaveLength(7)
  })
})

describe('finding the groups of a stored article', () => {
  it('probes the postings key once per group and never scans the postings', async () => {
    const id = (store.sqlite.prepare('select article_id from postings limit 1').get() as { article_id: string }).article_id
    const { sql, parameters } = articleGroupsQuery(store.db, id).compile()
    const plan = (store.sqlite.prepare(`explain query plan ${sql}`).all(...(parameters as unknown[])) as { detail: string }[]).map((r) => r.detail)
    expect(plan.join('\n')).toMatch(/SEARCH postings USING PRIMARY KEY \(group_name=\? AND article_id=\?\)/)
    expect(plan.join('\n')).not.toMatch(/SCAN postings/)
    expect(await articleGroupsQuery(store.db, id).execute()).toEqual([{ group_name: 'test.one' }])
  })
})
