import { afterEach, describe, expect, it } from 'vitest'
import { canonicalChange } from '../src/sync/canonical-change.ts'
import { makeArticle } from './helpers/articles.ts'
import { tempNode, type TempNode } from './helpers/temp-store.ts'
import { listThreads } from '../src/store/index.ts'

describe('smoke', () => {
  let node: TempNode
  afterEach(() => node?.close())
  it('ingests', async () => {
    node = await tempNode()
    const a = makeArticle()
    const b = makeArticle({ parent: a })
    const r = await node.ingest.ingestChanges([canonicalChange(a), canonicalChange(b)])
    expect(r.map((x) => x.status)).toEqual(['accepted', 'accepted'])
    const page = await listThreads(node.store.db, 'test.one', { limit: 10 })
    expect(page.items).toHaveLength(1)
    expect(page.items[0]!.post_count).toBe(2)
  })
})
