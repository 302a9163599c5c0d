import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { openArticle } from '../../src/article/index.ts'
import { makeArticle, mallory } from '../helpers/articles.ts'
import { OWNER, TEST_TOKEN, testApp } from '../helpers/web.ts'
import { apiPost, get, hex, ingest, storedState, type TestApp } from './support.ts'

let t: TestApp
beforeEach(async () => {
  t = await testApp()
})
afterEach(async () => {
  await t.close()
})

interface ArticleJson {
  id: string
  hex: string
  newsgroups: string[]
  subject: string
  from: string
  authorKey: string
  date: string
  references: string[]
  body: string
  signature?: string
  raw?: string
}
interface ThreadJson {
  root: string
  rootHex: string
  subject: string
  from: string
  authorKey: string
  posts: number
  startedAt: string
  lastPostAt: string
}

async function json<T>(path: string): Promise<{ status: number; body: T; type: string | null }> {
  const res = await get(t, path)
  return { status: res.status, type: res.headers.get('content-type'), body: (await res.json()) as T }
}

/** An API error: a 4xx status, JSON, and a non-empty `error` message. */
async function expectError(res: Response | Promise<Response>, status: number, message?: string): Promise<{ error: string; problem?: string }> {
  const r = await res
  expect(r.status).toBe(status)
  expect(r.headers.get('content-type')).toMatch(/^application\/json/)
  const body = (await r.json()) as { error: string; problem?: string }
  expect(typeof body.error).toBe('string')
  expect(body.error.length).toBeGreaterThan(0)
  if (message) expect(body.error).toContain(message)
  return body
}

describe('reading', () => {
  it('lists the carried groups with their post counts and last activity', async () => {
    const a = makeArticle({ group: 'test.one' })
    const b = makeArticle({ parent: a })
    await ingest(t, a, b)
    t.node.store.sqlite.prepare("INSERT INTO groups (name, description, created_at, subscribed) VALUES ('test.gone', 'not carried', 0, 0)").run()
    const { status, type, body } = await json<{ groups: { name: string; description: string; postCount: number; lastPostAt: string | null }[] }>('/api/groups')
    expect(status).toBe(200)
    expect(type).toMatch(/^application\/json/)
    expect(body.groups).toEqual([
      { name: 'test.one', description: 'about test.one', postCount: 2, lastPostAt: new Date(b.date).toISOString() },
      { name: 'test.two', description: 'about test.two', postCount: 0, lastPostAt: null },
    ])
    await expectError(get(t, '/api/groups/test.gone/threads'), 404)
  })

  it('lists a group’s threads newest activity first and pages through each exactly once', async () => {
    const roots = Array.from({ length: 7 }, (_, i) => makeArticle({ subject: `Thread ${i}` }))
    const bump = makeArticle({ parent: roots[2]!, key: mallory, from: 'Mallory' })
    await ingest(t, ...roots, bump)
    const expected = [roots[2]!, ...roots.filter((_, i) => i !== 2).reverse()].map(hex)

    const seen: ThreadJson[] = []
    let next: string | null = null
    let pages = 0
    do {
      const path: string = `/api/groups/test.one/threads?limit=3${next ? `&after=${next}` : ''}`
      const page = await json<{ threads: ThreadJson[]; next: string | null }>(path)
      expect(page.status).toBe(200)
      expect(page.body.threads.length).toBeLessThanOrEqual(3)
      seen.push(...page.body.threads)
      next = page.body.next
      pages++
    } while (next && pages < 10)
    expect(seen.map((x) => x.rootHex)).toEqual(expected)
    expect(pages).toBe(3)
    const bumped = seen[0]!
    expect(bumped).toEqual({
      root: roots[2]!.id,
      rootHex: hex(roots[2]!),
      subject: 'Thread 2',
      from: 'Alice',
      authorKey: roots[2]!.authorKey,
      posts: 2,
      startedAt: new Date(roots[2]!.date).toISOString(),
      lastPostAt: new Date(bump.date).toISOString(),
    })
  })

  it('returns a thread’s articles oldest first, and one article with its signature and canonical bytes', async () => {
    const a = makeArticle({ subject: 'Root', body: 'root body' })
    const b = makeArticle({ parent: a, body: 'reply body', key: mallory, from: 'Mallory' })
    await ingest(t, a, b)
    const thread = await json<{ subject: string; articles: ArticleJson[] }>(`/api/groups/test.one/threads/${hex(a)}`)
    expect(thread.status).toBe(200)
    expect(thread.body.subject).toBe('Root')
    expect(thread.body.articles.map((x) => [x.id, x.body])).toEqual([
      [a.id, 'root body'],
      [b.id, 'reply body'],
    ])

    const one = await json<ArticleJson>(`/api/articles/${hex(b)}`)
    expect(one.status).toBe(200)
    expect(one.body).toEqual({
      id: b.id,
      hex: hex(b),
      newsgroups: ['test.one'],
      subject: 'Re: Root',
      from: 'Mallory',
      authorKey: mallory.publicKey,
      date: new Date(b.date).toISOString(),
      references: [a.id],
      body: 'reply body',
      signature: b.signature,
      raw: Buffer.from(b.bytes).toString('base64'),
    })
    // A client can check the author's signature over the raw bytes itself.
    expect(openArticle(Buffer.from(one.body.raw!, 'base64')).id).toBe(b.id)
  })

  it('answers bad reads with a JSON error: unknown group or thread or article 404, malformed ids and cursors 400', async () => {
    const a = makeArticle()
    await ingest(t, a)
    await expectError(get(t, '/api/groups/no.such.group/threads'), 404, 'no.such.group')
    await expectError(get(t, '/api/groups/NOT_A_GROUP/threads'), 404)
    await expectError(get(t, `/api/groups/no.such.group/threads/${hex(a)}`), 404)
    await expectError(get(t, `/api/groups/test.two/threads/${hex(a)}`), 404, 'no such thread')
    await expectError(get(t, `/api/groups/test.one/threads/${'0'.repeat(64)}`), 404)
    await expectError(get(t, '/api/groups/test.one/threads/xyz'), 400, '64 hex digits')
    await expectError(get(t, `/api/articles/${'0'.repeat(64)}`), 404, 'no article')
    await expectError(get(t, `/api/articles/${hex(a)}0`), 400)
    await expectError(get(t, `/api/articles/${hex(a).toUpperCase()}`), 400)
    await expectError(get(t, '/api/nothing/here'), 404, 'no such API route')
    for (const after of ['x', '123', `abc.${hex(a)}`, `123.${hex(a).slice(1)}`, `1.${hex(a)}&after=2`, '']) {
      await expectError(get(t, `/api/groups/test.one/threads?after=${encodeURIComponent(after)}`), 400, 'page position')
    }
  })

  it('accepts limits from 1 to 200 and refuses anything else with 400', async () => {
    await ingest(t, makeArticle(), makeArticle())
    for (const limit of ['1', '200', '030']) {
      const page = await json<{ threads: ThreadJson[] }>(`/api/groups/test.one/threads?limit=${limit}`)
      expect(page.status, limit).toBe(200)
      expect(page.body.threads).toHaveLength(Math.min(2, Number(limit)))
    }
    for (const limit of ['0', '201', '1000', '-1', '1.5', 'abc', '', '1e2', ' 5']) {
      await expectError(get(t, `/api/groups/test.one/threads?limit=${encodeURIComponent(limit)}`), 400, 'limit must be a number from 1 to 200')
    }
  })
})

describe('posting', () => {
  it('posts a new thread as the owner and answers 201 with the article and its permalink', async () => {
    const before = storedState(t)
    const res = await apiPost(t, 'test.one', { subject: 'From a script', body: 'Line one\nLine two' })
    expect(res.status).toBe(201)
    const { article, url } = (await res.json()) as { article: ArticleJson; url: string }
    expect(article).toMatchObject({
      newsgroups: ['test.one'],
      subject: 'From a script',
      from: 'Owner',
      authorKey: OWNER.publicKey,
      references: [],
      body: 'Line one\nLine two',
    })
    expect(url).toBe(`/a/${article.hex}`)
    expect(storedState(t).articles).toBe(before.articles + 1)
    const stored = await json<ArticleJson>(`/api/articles/${article.hex}`)
    expect(stored.status).toBe(200)
    expect(openArticle(Buffer.from(stored.body.raw!, 'base64')).body).toBe('Line one\nLine two')
    const threads = await json<{ threads: ThreadJson[] }>('/api/groups/test.one/threads')
    expect(threads.body.threads.map((x) => x.rootHex)).toEqual([article.hex])
  })

  it('posts replies by the parent’s hex id or its Message-ID, with "Re: " and the references filled in', async () => {
    const root = (await (await apiPost(t, 'test.one', { subject: 'Root', body: 'r' })).json()) as { article: ArticleJson }
    const byHex = await apiPost(t, 'test.one', { body: 'reply by hex', parent: root.article.hex })
    expect(byHex.status).toBe(201)
    const first = ((await byHex.json()) as { article: ArticleJson }).article
    expect(first.subject).toBe('Re: Root')
    expect(first.references).toEqual([root.article.id])
    const byId = await apiPost(t, 'test.one', { subject: 'Changed subject', body: 'reply by id', parent: first.id })
    expect(byId.status).toBe(201)
    const second = ((await byId.json()) as { article: ArticleJson }).article
    expect(second.subject).toBe('Changed subject')
    expect(second.references).toEqual([root.article.id, first.id])
    const thread = await json<{ articles: ArticleJson[] }>(`/api/groups/test.one/threads/${root.article.hex}`)
    // Posted within a second, so their order in the thread is not fixed; each is there once.
    expect(thread.body.articles.map((x) => x.id).sort()).toEqual([root.article.id, first.id, second.id].sort())
  })

  const bad: { name: string; body: unknown; status: number; message: string; group?: string; type?: string }[] = [
    { name: 'invalid JSON', body: '{"subject": "x", "body": ', status: 400, message: 'not valid JSON' },
    { name: 'an empty request body', body: '', status: 400, message: 'not valid JSON' },
    { name: 'a JSON array', body: '[{"body":"x"}]', status: 400, message: 'JSON object' },
    { name: 'JSON null', body: 'null', status: 400, message: 'JSON object' },
    { name: 'a JSON string', body: '"hello"', status: 400, message: 'JSON object' },
    { name: 'a JSON number', body: '42', status: 400, message: 'JSON object' },
    { name: 'a missing body', body: { subject: 'x' }, status: 400, message: '"body" must be a string' },
    { name: 'a numeric body', body: { subject: 'x', body: 5 }, status: 400, message: '"body" must be a string' },
    { name: 'an object body', body: { subject: 'x', body: { text: 'hi' } }, status: 400, message: '"body" must be a string' },
    { name: 'a numeric subject', body: { subject: 1, body: 'x' }, status: 400, message: '"subject" must be a string' },
    { name: 'a null subject', body: { subject: null, body: 'x' }, status: 400, message: '"subject" must be a string' },
    { name: 'a numeric parent', body: { body: 'x', parent: 7 }, status: 400, message: '"parent" must be' },
    { name: 'a malformed parent', body: { body: 'x', parent: 'not-an-id' }, status: 400, message: '64 hex digits' },
    { name: 'an unknown parent', body: { body: 'x', parent: 'c'.repeat(64) }, status: 404, message: 'not on this node' },
    { name: 'an empty body string', body: { subject: 'x', body: ' \n ' }, status: 400, message: 'the body is empty' },
    { name: 'a new thread without a subject', body: { body: 'x' }, status: 400, message: 'subject is empty' },
    { name: 'a control character in the subject', body: { subject: 'a\u001bb', body: 'x' }, status: 400, message: 'control character' },
    { name: 'a body over 64 KiB', body: { subject: 'x', body: 'y'.repeat(70_000) }, status: 400, message: 'the limit is 65536' },
    { name: 'a group the node does not carry', body: { subject: 'x', body: 'y' }, group: 'no.such.group', status: 404, message: 'no.such.group' },
    { name: 'a malformed group name', body: { subject: 'x', body: 'y' }, group: 'Bad..Group', status: 400, message: '' },
    { name: 'a text/plain request', body: { subject: 'x', body: 'y' }, type: 'text/plain', status: 415, message: 'application/json' },
    { name: 'a form request', body: 'subject=x&body=y', type: 'application/x-www-form-urlencoded', status: 415, message: 'application/json' },
  ]
  for (const c of bad) {
    it(`answers ${c.name} with ${c.status} and a JSON error, storing nothing`, async () => {
      const before = storedState(t)
      const res = await apiPost(t, c.group ?? 'test.one', c.body, c.type ? { 'content-type': c.type } : {})
      await expectError(res, c.status, c.message || undefined)
      expect(storedState(t)).toEqual(before)
    })
  }

  it('names the article problem in a refused post', async () => {
    const body = await expectError(apiPost(t, 'test.one', { subject: 'x', body: '' }), 400)
    expect(body.problem).toBe('bad-body')
  })

  it('refuses a post with the token of another node', async () => {
    const res = await apiPost(t, 'test.one', { subject: 'x', body: 'y' }, { authorization: `Bearer ${TEST_TOKEN.replace(/.$/, '_')}` })
    await expectError(res, 401)
  })
})
