import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { composeArticle, parseGroupName, replyReferences, type AuthorKey, type SignedArticle } from '../../src/article/index.ts'
import {
  getAuthor,
  getGroup,
  getThread,
  listAuthorArticles,
  listThreads,
  threadArticles,
  type ArticleCursor,
  type AuthorArticle,
  type Db,
  type ThreadCursor,
  type ThreadSummary,
} from '../../src/store/index.ts'
import { canonicalChange } from '../../src/sync/canonical-change.ts'
import { alice, makeArticle, mallory } from '../helpers/articles.ts'
import { tempNode, type TempNode } from '../helpers/temp-store.ts'

const BASE = Date.UTC(2026, 9, 1)
const MINUTE = 60_000

async function ingest(node: TempNode, articles: readonly SignedArticle[]): Promise<void> {
  const results = await node.ingest.ingestChanges(articles.map(canonicalChange))
  expect(results.map((r) => r.status)).toEqual(articles.map(() => 'accepted'))
}

async function allThreads(db: Db, group: string, limit: number): Promise<{ items: ThreadSummary[]; pages: number }> {
  const items: ThreadSummary[] = []
  let after: ThreadCursor | undefined
  let pages = 0
  do {
    const page = await listThreads(db, group, { limit, after })
    expect(page.items.length).toBeLessThanOrEqual(limit)
    if (page.next) expect(page.items).toHaveLength(limit)
    items.push(...page.items)
    after = page.next
    pages += 1
    expect(pages).toBeLessThan(1000)
  } while (after)
  return { items, pages }
}

async function allAuthorArticles(db: Db, key: string, limit: number): Promise<AuthorArticle[]> {
  const items: AuthorArticle[] = []
  let after: ArticleCursor | undefined
  do {
    const page = await listAuthorArticles(db, key, { limit, after })
    expect(page.items.length).toBeLessThanOrEqual(limit)
    items.push(...page.items)
    after = page.next
  } while (after)
  return items
}

/** Newest activity first; ties broken by root id, descending (as strings, like SQLite's BINARY collation). */
function byActivity(a: { last: number; root: string }, b: { last: number; root: string }): number {
  return b.last - a.last || (a.root < b.root ? 1 : a.root > b.root ? -1 : 0)
}

describe('thread list paging', () => {
  let node: TempNode
  const threads: { root: SignedArticle; posts: SignedArticle[] }[] = []

  beforeAll(async () => {
    node = await tempNode()
    const all: SignedArticle[] = []
    for (let i = 0; i < 120; i++) {
      // Only 25 distinct start times and few distinct reply times: many threads tie on last_post_at.
      const root = makeArticle({ subject: `Thread ${i}`, body: `Root ${i}`, date: BASE + ((i * 7) % 25) * MINUTE, key: i % 3 ? alice : mallory })
      const posts = [root]
      const replies = (i * 13) % 6
      for (let r = 0; r < replies; r++) {
        posts.push(makeArticle({ parent: posts.at(-1)!, body: `Reply ${r} in ${i}`, date: BASE + (30 + ((i + r) % 4) * 10) * MINUTE }))
      }
      threads.push({ root, posts })
      all.push(...posts)
    }
    // Posts arrive in no particular order, in several batches.
    const shuffled = all.map((a, i) => ({ a, k: (i * 7919) % all.length })).sort((x, y) => x.k - y.k)
    for (let i = 0; i < shuffled.length; i += 50)
      await ingest(
        node,
        shuffled.slice(i, i + 50).map((x) => x.a),
      )
  })
  afterAll(() => node.close())

  function expected() {
    return threads.map(({ root, posts }) => ({ root: root.id, last: Math.max(...posts.map((p) => p.date)), count: posts.length })).sort(byActivity)
  }

  it('returns every thread exactly once, newest activity first with ties broken by root id', async () => {
    const want = expected()
    expect(new Set(want.map((t) => t.last)).size).toBeLessThan(want.length / 3)
    for (const limit of [7, 8, 1, 119, 120, 500]) {
      const { items, pages } = await allThreads(node.store.db, 'test.one', limit)
      expect(items.map((t) => t.root_id)).toEqual(want.map((t) => t.root))
      expect(items.map((t) => t.last_post_at)).toEqual(want.map((t) => t.last))
      expect(items.map((t) => t.post_count)).toEqual(want.map((t) => t.count))
      expect(pages).toBe(Math.max(1, Math.ceil(want.length / limit)))
    }
  })

  it('shows the root’s subject and author for every thread', async () => {
    const { items } = await allThreads(node.store.db, 'test.one', 50)
    const roots = new Map(threads.map(({ root }) => [root.id as string, root]))
    for (const item of items) {
      const root = roots.get(item.root_id)!
      expect(item).toMatchObject({ subject: root.subject, author_key: root.authorKey, from_name: root.from, started_at: root.date })
    }
  })

  it('returns an empty page for a group without threads', async () => {
    expect(await listThreads(node.store.db, 'test.two', { limit: 10 })).toEqual({ items: [], next: undefined })
  })

  it('moves a thread to the top when a reply arrives', async () => {
    const want = expected()
    const oldest = threads.find((t) => t.root.id === want.at(-1)!.root)!
    const reply = makeArticle({ parent: oldest.posts.at(-1)!, body: 'Bump.', date: BASE + 2 * 60 * MINUTE })
    await ingest(node, [reply])
    oldest.posts.push(reply)
    const first = await listThreads(node.store.db, 'test.one', { limit: 3 })
    expect(first.items[0]).toMatchObject({ root_id: oldest.root.id, last_post_at: reply.date, post_count: oldest.posts.length })
    const { items } = await allThreads(node.store.db, 'test.one', 9)
    expect(items.map((t) => t.root_id)).toEqual(expected().map((t) => t.root))
  })

  it('does not move a thread when a reply with an older date arrives (back-fill)', async () => {
    const before = expected()
    const top = threads.find((t) => t.root.id === before[0]!.root)!
    const lateComer = threads.find((t) => t.root.id === before.at(-1)!.root)!
    const old = makeArticle({ parent: lateComer.root, body: 'Old reply, delivered late.', date: lateComer.root.date })
    await ingest(node, [old])
    lateComer.posts.push(old)
    const first = await listThreads(node.store.db, 'test.one', { limit: 1 })
    expect(first.items[0]!.root_id).toBe(top.root.id)
    const thread = await getThread(node.store.db, 'test.one', lateComer.root.id)
    expect(thread).toMatchObject({ post_count: lateComer.posts.length, last_post_at: Math.max(...lateComer.posts.map((p) => p.date)) })
  })
})

describe('replies before their root', () => {
  let node: TempNode
  beforeEach(async () => {
    node = await tempNode()
  })
  afterEach(() => node.close())

  const root = makeArticle({ subject: 'The real subject', from: 'Alice', body: 'First!', date: BASE })
  const reply = makeArticle({ parent: root, key: mallory, from: 'Mallory', body: 'Second.', date: BASE + MINUTE })
  const reply2 = makeArticle({ parent: reply, key: mallory, from: 'Mallory', body: 'Third.', date: BASE + 2 * MINUTE })

  it('creates the thread from a reply, and the root arriving later sets its subject and author', async () => {
    await ingest(node, [reply2])
    expect(await getThread(node.store.db, 'test.one', root.id)).toMatchObject({
      root_id: root.id,
      subject: reply2.subject,
      author_key: mallory.publicKey,
      post_count: 1,
      started_at: reply2.date,
    })
    await ingest(node, [reply])
    expect(await getThread(node.store.db, 'test.one', root.id)).toMatchObject({ post_count: 2, started_at: reply.date, last_post_at: reply2.date })

    await ingest(node, [root])
    expect(await getThread(node.store.db, 'test.one', root.id)).toMatchObject({
      subject: 'The real subject',
      author_key: alice.publicKey,
      from_name: 'Alice',
      started_at: root.date,
      last_post_at: reply2.date,
      post_count: 3,
    })
    const page = await listThreads(node.store.db, 'test.one', { limit: 10 })
    expect(page.items.map((t) => t.root_id)).toEqual([root.id])
    expect((await threadArticles(node.store.db, 'test.one', root.id, { limit: 10 })).map((a) => a.id)).toEqual([root.id, reply.id, reply2.id])
  })

  it('keeps the root’s subject when replies arrive after it', async () => {
    await ingest(node, [reply2])
    await ingest(node, [root])
    await ingest(node, [reply])
    expect(await getThread(node.store.db, 'test.one', root.id)).toMatchObject({ subject: 'The real subject', author_key: alice.publicKey, post_count: 3 })
  })

  it('uses the root when a reply comes before it in the same batch', async () => {
    await ingest(node, [reply2, root, reply])
    expect(await getThread(node.store.db, 'test.one', root.id)).toMatchObject({
      subject: 'The real subject',
      author_key: alice.publicKey,
      started_at: root.date,
      post_count: 3,
    })
  })
})

describe('author article paging', () => {
  let node: TempNode
  const written: SignedArticle[] = []
  const key: AuthorKey = mallory

  beforeAll(async () => {
    node = await tempNode()
    for (let i = 0; i < 53; i++) {
      // 9 distinct dates: most articles tie with others on date.
      written.push(makeArticle({ key, from: i < 50 ? 'Mallory' : 'Mal', body: `Article ${i}`, subject: `S${i}`, date: BASE + (i % 9) * MINUTE }))
    }
    await ingest(node, [...written.slice(30), makeArticle({ body: 'Someone else' }), ...written.slice(0, 30)])
  })
  afterAll(() => node.close())

  it('returns every article of the author exactly once, newest first with ties broken by id', async () => {
    const want = [...written].sort((a, b) => b.date - a.date || (a.id < b.id ? 1 : a.id > b.id ? -1 : 0)).map((a) => a.id)
    for (const limit of [6, 1, 53, 100]) {
      const items = await allAuthorArticles(node.store.db, key.publicKey, limit)
      expect(items.map((a) => a.id)).toEqual(want)
    }
  })

  it('counts the author’s posts and shows the name from the newest one', async () => {
    const author = await getAuthor(node.store.db, key.publicKey)
    const newest = Math.max(...written.map((a) => a.date))
    // Only "Mallory" posts carry the newest date; "Mal" is on older ones that arrived first.
    expect(author).toMatchObject({ post_count: 53, first_post_at: BASE, last_post_at: newest, from_name: 'Mallory' })
  })

  it('returns nothing for an unknown author', async () => {
    expect(await listAuthorArticles(node.store.db, 'x'.repeat(43), { limit: 5 })).toEqual({ items: [], next: undefined })
  })
})

describe('crossposts', () => {
  it('shows a crossposted thread in both groups, with its replies', async () => {
    const node = await tempNode()
    try {
      const root = composeArticle(
        { newsgroups: [parseGroupName('test.one'), parseGroupName('test.two')], subject: 'Everywhere', from: 'Alice', body: 'Hello both.', date: BASE },
        alice,
      )
      const reply = composeArticle(
        { newsgroups: root.newsgroups, subject: 'Re: Everywhere', from: 'Mallory', body: 'Hi.', references: replyReferences(root), date: BASE + MINUTE },
        mallory,
      )
      await ingest(node, [root, reply])
      for (const group of ['test.one', 'test.two']) {
        const page = await listThreads(node.store.db, group, { limit: 10 })
        expect(page.items).toEqual([expect.objectContaining({ root_id: root.id, subject: 'Everywhere', post_count: 2, last_post_at: reply.date })])
        expect((await threadArticles(node.store.db, group, root.id, { limit: 10 })).map((a) => a.id)).toEqual([root.id, reply.id])
        expect(await getGroup(node.store.db, group)).toMatchObject({ post_count: 2, last_post_at: reply.date })
      }
    } finally {
      await node.close()
    }
  })
})
