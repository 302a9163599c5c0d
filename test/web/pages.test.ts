import { afterEach, describe, expect, it } from 'vitest'
import { keyFingerprint } from '../../src/article/index.ts'
import { alice, makeArticle, mallory } from '../helpers/articles.ts'
import { OWNER, TEST_TOKEN, testApp } from '../helpers/web.ts'
import { byId, closest, contains, type El, findAll, hasClass, parseHtml, textOf } from './html.ts'
import { get, hex, ingest, ownerCookie, postForm, type TestApp } from './support.ts'

let t: TestApp
afterEach(async () => {
  await t?.close()
})

async function page(path: string, headers: Record<string, string> = {}): Promise<{ res: Response; html: string; doc: El }> {
  const res = await get(t, path, headers)
  const html = await res.text()
  return { res, html, doc: parseHtml(html) }
}

/** The thread links of a thread list (page or fragment), and its "load more" link if any. */
function threadLinks(doc: El): { roots: string[]; more: El | undefined } {
  const roots = findAll(doc, (el) => el.tag === 'a' && hasClass(el, 'subject')).map((a) => /\/t\/([0-9a-f]{64})$/.exec(a.attrs.href ?? '')![1]!)
  const moreRow = findAll(doc, (el) => el.tag === 'li' && hasClass(el, 'more'))[0]
  const more = moreRow && findAll(moreRow, (el) => el.tag === 'a')[0]
  return { roots, more }
}

describe('the group list', () => {
  it('lists every carried group with its description, post count and a link to it', async () => {
    t = await testApp()
    await ingest(t, makeArticle({ group: 'test.one' }), makeArticle({ group: 'test.one' }))
    const { res, html, doc } = await page('/')
    expect(res.status).toBe(200)
    expect(res.headers.get('content-type')).toMatch(/^text\/html/)
    expect(html.startsWith('<!DOCTYPE html>')).toBe(true)
    const links = findAll(doc, (el) => el.tag === 'a' && hasClass(el, 'group-name'))
    expect(links.map((a) => a.attrs.href)).toEqual(['/g/test.one', '/g/test.two'])
    const rows = findAll(doc, (el) => el.tag === 'tr').slice(1)
    expect(textOf(rows[0]!)).toContain('about test.one')
    expect(textOf(rows[0]!)).toContain('2 posts')
    expect(textOf(rows[1]!)).toContain('0 posts')
  })

  it('offers the owner login to a visitor and settings and logout to the owner', async () => {
    t = await testApp()
    const visitor = await page('/')
    expect(findAll(visitor.doc, (el) => el.attrs.href === '/login')).toHaveLength(1)
    expect(findAll(visitor.doc, (el) => el.attrs.href === '/settings')).toHaveLength(0)
    const owner = await page('/', { cookie: await ownerCookie(t) })
    expect(findAll(owner.doc, (el) => el.attrs.href === '/settings')).toHaveLength(1)
    expect(findAll(owner.doc, (el) => el.tag === 'form' && el.attrs.action === '/logout')).toHaveLength(1)
  })
})

describe('a group page', () => {
  it('shows the threads with subject, author, reply count, and the new-thread form only to the owner', async () => {
    t = await testApp()
    const root = makeArticle({ subject: 'Gardening tips', from: 'Alice' })
    const reply = makeArticle({ parent: root, key: mallory, from: 'Mallory' })
    await ingest(t, root, reply)
    const visitor = await page('/g/test.one')
    expect(visitor.res.status).toBe(200)
    expect(textOf(findAll(visitor.doc, (el) => el.tag === 'h1')[0]!)).toBe('test.one')
    const row = findAll(visitor.doc, (el) => el.tag === 'li' && hasClass(el, 'thread'))
    expect(row).toHaveLength(1)
    expect(textOf(row[0]!)).toContain('Gardening tips')
    expect(textOf(row[0]!)).toContain(`Alice ·${keyFingerprint(alice.publicKey)}`)
    expect(textOf(row[0]!)).toContain('1 reply')
    expect(findAll(row[0]!, (el) => el.tag === 'a' && el.attrs.href === `/g/test.one/t/${hex(root)}`)).toHaveLength(1)
    expect(findAll(visitor.doc, (el) => el.tag === 'form' && el.attrs.action === '/g/test.one/threads')).toHaveLength(0)
    const owner = await page('/g/test.one', { cookie: await ownerCookie(t) })
    expect(findAll(owner.doc, (el) => el.tag === 'form' && el.attrs.action === '/g/test.one/threads')).toHaveLength(1)
  })

  it('says so when a group has no threads yet', async () => {
    t = await testApp()
    const { res, html } = await page('/g/test.two')
    expect(res.status).toBe(200)
    expect(html).toContain('No threads yet.')
  })

  it('answers 404 for a group the node does not carry and 400 for a bad page position', async () => {
    t = await testApp()
    const missing = await page('/g/no.such.group')
    expect(missing.res.status).toBe(404)
    expect(missing.html).toContain('does not carry a group named')
    const bad = await page('/g/test.one?after=yesterday')
    expect(bad.res.status).toBe(400)
    expect(bad.html).toContain('not a page position')
  })

  it('pages through every thread exactly once, newest activity first, by following the plain links', async () => {
    t = await testApp({ pageSize: 3 })
    const expected = await manyThreads()
    const seen: string[] = []
    let path: string | undefined = '/g/test.one'
    let pages = 0
    while (path) {
      const { res, doc, html } = await page(path)
      expect(res.status).toBe(200)
      expect(html.startsWith('<!DOCTYPE html>')).toBe(true)
      if (pages > 0) expect(html).toContain('← Newest threads')
      const { roots, more } = threadLinks(doc)
      expect(roots.length).toBeLessThanOrEqual(3)
      seen.push(...roots)
      path = more?.attrs.href
      pages++
      expect(pages).toBeLessThan(20)
    }
    expect(seen).toEqual(expected)
    expect(pages).toBe(Math.ceil(expected.length / 3))
  })

  it('pages through every thread exactly once through the htmx fragments of the load-more row', async () => {
    t = await testApp({ pageSize: 3 })
    const expected = await manyThreads()
    const first = await page('/g/test.one', { 'hx-request': 'true' })
    let { roots, more } = threadLinks(first.doc)
    const seen = [...roots]
    let fragments = 0
    while (more) {
      expect(more.attrs['hx-get']).toBe(more.attrs.href)
      expect(more.attrs['hx-target']).toBe('closest li')
      expect(more.attrs['hx-swap']).toBe('outerHTML')
      const { res, html, doc } = await page(more.attrs['hx-get']!, { 'hx-request': 'true' })
      expect(res.status).toBe(200)
      // A fragment: the rows that replace the load-more row, not a page.
      expect(html).not.toContain('<html')
      expect(html).not.toContain('<!DOCTYPE')
      expect(doc.children.every((c) => typeof c !== 'string' && c.tag === 'li')).toBe(true)
      ;({ roots, more } = threadLinks(doc))
      seen.push(...roots)
      fragments++
      expect(fragments).toBeLessThan(20)
    }
    expect(seen).toEqual(expected)
    expect(fragments).toBe(Math.ceil(expected.length / 3) - 1)
  })
})

/**
 * Ten threads in test.one, four of them started in the same second (the cursor's tie-break on the root id),
 * and a late reply that moves the oldest thread to the top. Returns the root hexes in the order a reader
 * must see them, worked out from the dates, not from the app.
 */
async function manyThreads(): Promise<string[]> {
  const base = Date.UTC(2026, 9, 1, 12, 0, 0)
  const roots = Array.from({ length: 10 }, (_, i) => makeArticle({ subject: `Thread ${i}`, date: i >= 3 && i < 7 ? base + 3000 : base + i * 1000 }))
  const bump = makeArticle({ parent: roots[0]!, date: base + 60_000 })
  await ingest(t, ...roots, bump)
  const lastActivity = (i: number) => (i === 0 ? bump.date : roots[i]!.date)
  return roots
    .map((r, i) => ({ hex: hex(r), at: lastActivity(i), id: r.id }))
    .sort((a, b) => b.at - a.at || (a.id < b.id ? 1 : a.id > b.id ? -1 : 0))
    .map((r) => r.hex)
}

describe('a thread page', () => {
  it('shows every article once, each reply inside its parent’s replies list, oldest sibling first', async () => {
    t = await testApp()
    const a = makeArticle({ subject: 'Tree', body: 'root text' })
    const b = makeArticle({ parent: a, body: 'first reply', key: mallory, from: 'Mallory' })
    const c = makeArticle({ parent: b, body: 'reply to the reply' })
    const d = makeArticle({ parent: a, body: 'second reply to the root' })
    const e = makeArticle({ parent: c, body: 'third level' })
    await ingest(t, a, b, c, d, e)
    const { res, doc } = await page(`/g/test.one/t/${hex(a)}`)
    expect(res.status).toBe(200)
    expect(textOf(findAll(doc, (el) => el.tag === 'h1')[0]!)).toBe('Tree')
    const articles = findAll(doc, (el) => el.tag === 'article')
    expect(articles.map((el) => el.attrs.id).sort()).toEqual([a, b, c, d, e].map((x) => `a-${hex(x)}`).sort())

    const repliesListOf = (x: typeof a) => closest(byId(doc, `a-${hex(x)}`)!, (el) => el.tag === 'ul' && hasClass(el, 'replies'))
    expect(repliesListOf(a)).toBeUndefined()
    expect(repliesListOf(b)?.attrs.id).toBe(`replies-${hex(a)}`)
    expect(repliesListOf(c)?.attrs.id).toBe(`replies-${hex(b)}`)
    expect(repliesListOf(d)?.attrs.id).toBe(`replies-${hex(a)}`)
    expect(repliesListOf(e)?.attrs.id).toBe(`replies-${hex(c)}`)
    // The replies list sits in the same branch as its parent article.
    const branchOfB = closest(byId(doc, `a-${hex(b)}`)!, (el) => el.tag === 'li')!
    expect(contains(branchOfB, byId(doc, `replies-${hex(b)}`)!)).toBe(true)
    const rootReplies = byId(doc, `replies-${hex(a)}`)!
    const order = findAll(rootReplies, (el) => el.tag === 'article' && closest(el, (p) => p.tag === 'ul')! === rootReplies).map((el) => el.attrs.id)
    expect(order).toEqual([`a-${hex(b)}`, `a-${hex(d)}`])

    const bodyOf = (x: typeof a) => textOf(findAll(byId(doc, `a-${hex(x)}`)!, (el) => hasClass(el, 'body'))[0]!)
    expect(bodyOf(c)).toBe('reply to the reply')
    expect(textOf(byId(doc, `a-${hex(b)}`)!)).toContain(`Mallory ·${keyFingerprint(mallory.publicKey)}`)
  })

  it('shows reply forms only to the owner, one under each article', async () => {
    t = await testApp()
    const a = makeArticle()
    const b = makeArticle({ parent: a })
    await ingest(t, a, b)
    const visitor = await page(`/g/test.one/t/${hex(a)}`)
    expect(findAll(visitor.doc, (el) => el.tag === 'form')).toHaveLength(0)
    const owner = await page(`/g/test.one/t/${hex(a)}`, { cookie: await ownerCookie(t) })
    const forms = findAll(owner.doc, (el) => el.tag === 'form' && el.attrs.action === `/g/test.one/t/${hex(a)}/replies`)
    const parents = forms.map((f) => findAll(f, (el) => el.tag === 'input' && el.attrs.name === 'parent')[0]!.attrs.value)
    expect(parents.sort()).toEqual([hex(a), hex(b)].sort())
  })

  it('answers 404 for an unknown thread, 400 for a malformed id, and 404 for a thread of another group', async () => {
    t = await testApp()
    const a = makeArticle({ group: 'test.two' })
    await ingest(t, a)
    expect((await page(`/g/test.one/t/${'0'.repeat(64)}`)).res.status).toBe(404)
    expect((await page('/g/test.one/t/not-an-id')).res.status).toBe(400)
    expect((await page(`/g/test.one/t/${hex(a)}`)).res.status).toBe(404)
    expect((await page(`/g/test.two/t/${hex(a)}`)).res.status).toBe(200)
  })
})

describe('an author page', () => {
  it('shows the claimed name with the key and fingerprint, the post count, and links to each post', async () => {
    t = await testApp()
    const posts = [makeArticle({ subject: 'One' }), makeArticle({ subject: 'Two', group: 'test.two' })]
    await ingest(t, ...posts, makeArticle({ key: mallory, from: 'Mallory' }))
    const { res, doc, html } = await page(`/u/${alice.publicKey}`)
    expect(res.status).toBe(200)
    expect(textOf(findAll(doc, (el) => el.tag === 'h1')[0]!)).toBe(`Alice ·${keyFingerprint(alice.publicKey)}`)
    expect(html).toContain(alice.publicKey)
    expect(html).toContain('2 posts')
    const links = findAll(doc, (el) => el.tag === 'ul' && hasClass(el, 'author-posts')).flatMap((ul) => findAll(ul, (el) => el.tag === 'a'))
    // Newest first.
    expect(links.map((a) => [a.attrs.href, textOf(a)])).toEqual([
      [`/a/${hex(posts[1]!)}`, 'Two'],
      [`/a/${hex(posts[0]!)}`, 'One'],
    ])
  })

  it('pages through more than a page of posts, each exactly once', async () => {
    t = await testApp()
    const posts = Array.from({ length: 57 }, (_, i) => makeArticle({ subject: `Post ${i}` }))
    await ingest(t, ...posts)
    const seen: string[] = []
    let path: string | undefined = `/u/${alice.publicKey}`
    while (path) {
      const { res, doc } = await page(path)
      expect(res.status).toBe(200)
      seen.push(...findAll(doc, (el) => el.tag === 'a' && (el.attrs.href ?? '').startsWith('/a/')).map((a) => a.attrs.href!.slice(3)))
      path = findAll(doc, (el) => el.tag === 'a' && textOf(el).startsWith('Older posts'))[0]?.attrs.href
    }
    expect(seen).toEqual(posts.map(hex).reverse())
  })

  it('answers 400 for something that is not a key and 404 for a key with no posts here', async () => {
    t = await testApp()
    expect((await page('/u/short')).res.status).toBe(400)
    await ingest(t, makeArticle())
    expect((await page(`/u/${alice.publicKey}?after=later`)).res.status).toBe(400)
    const unknown = await page(`/u/${OWNER.publicKey}`)
    expect(unknown.res.status).toBe(404)
    expect(unknown.html).toContain('no posts by that author key')
  })
})

describe('the permalink', () => {
  it('redirects to the article’s place in its thread', async () => {
    t = await testApp()
    const a = makeArticle()
    const b = makeArticle({ parent: a })
    await ingest(t, a, b)
    const root = await get(t, `/a/${hex(a)}`)
    expect(root.status).toBe(302)
    expect(root.headers.get('location')).toBe(`/g/test.one/t/${hex(a)}#a-${hex(a)}`)
    const reply = await get(t, `/a/${hex(b)}`)
    expect(reply.status).toBe(302)
    expect(reply.headers.get('location')).toBe(`/g/test.one/t/${hex(a)}#a-${hex(b)}`)
    const target = await page(reply.headers.get('location')!.split('#')[0]!)
    expect(byId(target.doc, `a-${hex(b)}`)).toBeDefined()
  })

  it('answers 404 for an unknown article and 400 for a malformed id', async () => {
    t = await testApp()
    expect((await get(t, `/a/${'f'.repeat(64)}`)).status).toBe(404)
    expect((await get(t, `/a/${'F'.repeat(64)}`)).status).toBe(400)
    expect((await get(t, '/a/123')).status).toBe(400)
  })
})

describe('login, logout and settings', () => {
  it('shows a login form, and the login link sets the session and sends the owner home', async () => {
    t = await testApp()
    const form = await page('/login')
    expect(form.res.status).toBe(200)
    expect(findAll(form.doc, (el) => el.tag === 'form' && el.attrs.action === '/login' && el.attrs.method === 'post')).toHaveLength(1)
    expect(findAll(form.doc, (el) => el.tag === 'input' && el.attrs.name === 'token')).toHaveLength(1)
    const cookie = await ownerCookie(t)
    expect(cookie).toMatch(/^usenet_owner=.+/)
  })

  it('logs in through the form as well', async () => {
    t = await testApp()
    const res = await postForm(t, '/login', { token: ` ${TEST_TOKEN}\n` })
    expect(res.status).toBe(303)
    expect(res.headers.get('location')).toBe('/')
    const cookie = res.headers.getSetCookie()[0]!.split(';')[0]!
    expect((await page('/settings', { cookie })).res.status).toBe(200)
  })

  it('shows the owner their display name and key, and saves a new name', async () => {
    t = await testApp()
    const cookie = await ownerCookie(t)
    const before = await page('/settings', { cookie })
    expect(before.res.status).toBe(200)
    expect(before.html).toContain(OWNER.publicKey)
    expect(findAll(before.doc, (el) => el.tag === 'input' && el.attrs.name === 'displayName')[0]!.attrs.value).toBe('Owner')
    const saved = await postForm(t, '/settings', { displayName: '  Renamed Owner ' }, { cookie })
    expect(saved.status).toBe(303)
    expect(saved.headers.get('location')).toBe('/settings?saved=1')
    const after = await page('/settings?saved=1', { cookie })
    expect(after.html).toContain('Saved.')
    expect(findAll(after.doc, (el) => el.tag === 'input' && el.attrs.name === 'displayName')[0]!.attrs.value).toBe('Renamed Owner')
  })

  it('refuses an unusable display name with a readable message and keeps the old one', async () => {
    t = await testApp()
    const cookie = await ownerCookie(t)
    const res = await postForm(t, '/settings', { displayName: '   ' }, { cookie })
    expect(res.status).toBe(400)
    expect(await res.text()).toContain('the display name is empty')
    const after = await page('/settings', { cookie })
    expect(findAll(after.doc, (el) => el.tag === 'input' && el.attrs.name === 'displayName')[0]!.attrs.value).toBe('Owner')
  })

  it('logs out by expiring the session cookie', async () => {
    t = await testApp()
    const cookie = await ownerCookie(t)
    const res = await postForm(t, '/logout', {}, { cookie })
    expect(res.status).toBe(303)
    expect(res.headers.get('location')).toBe('/')
    const cleared = res.headers.getSetCookie()[0]!
    expect(cleared).toMatch(/^usenet_owner=;/)
    expect(cleared).toMatch(/Max-Age=0/)
  })
})

describe('static files and unknown addresses', () => {
  it('serves htmx, its CSP extension and the stylesheet from our own origin with their types', async () => {
    t = await testApp()
    for (const [path, type] of [
      ['/static/htmx.min.js', 'text/javascript'],
      ['/static/hx-csp.min.js', 'text/javascript'],
      ['/static/app.css', 'text/css'],
    ] as const) {
      const res = await get(t, path)
      expect(res.status, path).toBe(200)
      expect(res.headers.get('content-type')).toContain(type)
      expect((await res.arrayBuffer()).byteLength).toBeGreaterThan(100)
    }
    expect((await get(t, '/static/nope.js')).status).toBe(404)
    expect((await get(t, '/static/..%2Fpackage.json')).status).toBe(404)
    expect((await get(t, '/favicon.ico')).status).toBe(204)
  })

  it('answers an unknown address with a 404 page', async () => {
    t = await testApp()
    const { res, html } = await page('/no/such/page')
    expect(res.status).toBe(404)
    expect(html).toContain('There is nothing at this address.')
  })
})
