import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { MAX_REQUEST_BODY_BYTES } from '../../src/web/security.ts'
import { makeArticle } from '../helpers/articles.ts'
import { OWNER, TEST_TOKEN, testApp } from '../helpers/web.ts'
import { byId, elements, findAll, parseHtml, textOf } from './html.ts'
import { apiPost, FORM, get, hex, ingest, ownerCookie, postForm, SAME_ORIGIN, storedState, type TestApp } from './support.ts'

let t: TestApp
let cookie: string
const root = makeArticle({ subject: 'A thread' })
const reply = makeArticle({ parent: root })

beforeEach(async () => {
  t = await testApp()
  await ingest(t, root, reply)
  cookie = await ownerCookie(t)
})
afterEach(async () => {
  await t.close()
})

/** Every GET route with a real target, so a 403 can only come from the check under test. */
function readRoutes(): string[] {
  return [
    '/',
    '/g/test.one',
    `/g/test.one?after=${reply.date}.${hex(root)}`,
    `/g/test.one/t/${hex(root)}`,
    `/a/${hex(reply)}`,
    `/u/${root.authorKey}`,
    '/login',
    `/login?token=${TEST_TOKEN}`,
    '/settings',
    '/static/htmx.min.js',
    '/static/hx-csp.min.js',
    '/static/app.css',
    '/favicon.ico',
    '/no/such/page',
    '/api/groups',
    '/api/groups/test.one/threads',
    `/api/groups/test.one/threads/${hex(root)}`,
    `/api/articles/${hex(reply)}`,
  ]
}

/** Every state-changing route with a body it would accept from the owner's own page. */
function writeRoutes(): { path: string; type: string; body: string }[] {
  return [
    { path: '/g/test.one/threads', type: FORM, body: new URLSearchParams({ subject: 'CSRF', body: 'forged thread' }).toString() },
    { path: `/g/test.one/t/${hex(root)}/replies`, type: FORM, body: new URLSearchParams({ parent: hex(root), body: 'forged reply' }).toString() },
    { path: '/login', type: FORM, body: new URLSearchParams({ token: TEST_TOKEN }).toString() },
    { path: '/logout', type: FORM, body: '' },
    { path: '/settings', type: FORM, body: new URLSearchParams({ displayName: 'Forged' }).toString() },
    { path: '/api/groups/test.one/articles', type: 'application/json', body: JSON.stringify({ subject: 'CSRF', body: 'forged api post' }) },
  ]
}

describe('the Host allow-list (DNS rebinding)', () => {
  for (const host of ['evil.example', 'localhost.evil.example', 'localhost:8080', '127.0.0.1', 'attacker.test:80']) {
    it(`answers 403 to every route when the Host is "${host}", without the page content`, async () => {
      for (const path of readRoutes()) {
        const res = await t.app.request(path, { headers: { host, cookie } })
        expect(res.status, `GET ${path}`).toBe(403)
        const text = await res.text()
        expect(text, path).toContain('does not answer to the host name')
        expect(text, path).not.toContain('A thread')
        expect(res.headers.getSetCookie(), path).toEqual([])
      }
      const before = storedState(t)
      for (const { path, type, body } of writeRoutes()) {
        const res = await t.app.request(path, {
          method: 'POST',
          headers: { host, origin: `http://${host}`, cookie, 'content-type': type, authorization: `Bearer ${TEST_TOKEN}` },
          body,
        })
        expect(res.status, `POST ${path}`).toBe(403)
        expect(res.headers.getSetCookie(), path).toEqual([])
      }
      expect(storedState(t)).toEqual(before)
    })
  }

  it('answers the API’s refusal as JSON', async () => {
    const res = await t.app.request('/api/groups', { headers: { host: 'evil.example' } })
    expect(res.status).toBe(403)
    expect(((await res.json()) as { error: string }).error).toContain('evil.example')
  })

  it('answers to the allowed host whatever its letter case', async () => {
    const res = await t.app.request('/', { headers: { host: 'LocalHost' } })
    expect(res.status).toBe(200)
  })
})

describe('cross-site request forgery', () => {
  const forged: { name: string; headers: Record<string, string>; type?: string | null }[] = [
    { name: 'an Origin of another site', headers: { origin: 'http://evil.example' } },
    { name: 'an Origin of another port', headers: { origin: 'http://localhost:8080' } },
    { name: 'an https Origin of the same name', headers: { origin: 'https://localhost' } },
    { name: 'the Origin "null"', headers: { origin: 'null' } },
    { name: 'Sec-Fetch-Site: cross-site', headers: { 'sec-fetch-site': 'cross-site' } },
    { name: 'Sec-Fetch-Site: same-site', headers: { 'sec-fetch-site': 'same-site' } },
    { name: 'Sec-Fetch-Site: cross-site beside a matching Origin', headers: { 'sec-fetch-site': 'cross-site', origin: 'http://localhost' } },
    { name: 'Sec-Fetch-Site: none', headers: { 'sec-fetch-site': 'none' } },
    { name: 'neither Origin nor Sec-Fetch-Site', headers: {} },
    { name: 'a text/plain body from another site', headers: { origin: 'http://evil.example' }, type: 'text/plain' },
    { name: 'no Content-Type from another site', headers: { origin: 'http://evil.example' }, type: null },
    { name: 'a JSON body from another site', headers: { 'sec-fetch-site': 'cross-site' }, type: 'application/json' },
    { name: 'a multipart body with no Origin', headers: {}, type: 'multipart/form-data; boundary=x' },
  ]

  for (const f of forged) {
    it(`refuses every state-changing route (403, or 401 for the token-only API) for ${f.name}, even with the owner’s cookie, and stores nothing`, async () => {
      const before = storedState(t)
      for (const { path, type, body } of writeRoutes()) {
        const contentType = f.type === undefined ? type : f.type
        const res = await t.app.request(path, {
          method: 'POST',
          headers: { host: 'localhost', cookie, ...(contentType ? { 'content-type': contentType } : {}), ...f.headers },
          body,
        })
        // The API never takes the cookie: a forged request without the bearer token is unauthenticated.
        const api = path.startsWith('/api/')
        expect(res.status, `POST ${path}`).toBe(api ? 401 : 403)
        expect(await res.text(), path).toContain(api ? 'Authorization: Bearer' : 'did not come from one of this node')
        // Neither a session set (login CSRF) nor one cleared (logout CSRF).
        expect(res.headers.getSetCookie(), path).toEqual([])
      }
      expect(storedState(t)).toEqual(before)
      const settings = await get(t, '/settings', { cookie })
      expect(await settings.text()).not.toContain('Forged')
    })
  }

  it('accepts the owner’s own page by Sec-Fetch-Site: same-origin alone', async () => {
    const res = await t.app.request('/g/test.one/threads', {
      method: 'POST',
      headers: { host: 'localhost', cookie, 'sec-fetch-site': 'same-origin', 'content-type': FORM },
      body: new URLSearchParams({ subject: 'Mine', body: 'real post' }).toString(),
    })
    expect(res.status).toBe(303)
  })

  it('refuses other methods than GET and HEAD from another site too', async () => {
    for (const method of ['PUT', 'DELETE', 'PATCH']) {
      const res = await t.app.request('/settings', { method, headers: { host: 'localhost', cookie, origin: 'http://evil.example' } })
      expect(res.status, method).toBe(403)
    }
  })
})

describe('owner-only routes', () => {
  const impostors: { name: string; cookie: () => string | undefined }[] = [
    { name: 'no session cookie', cookie: () => undefined },
    { name: 'a made-up session cookie', cookie: () => 'usenet_owner=forged' },
    { name: 'the token itself as the cookie', cookie: () => `usenet_owner=${TEST_TOKEN}` },
    { name: 'a session cookie one character off', cookie: () => `${cookie.slice(0, -1)}${cookie.endsWith('A') ? 'B' : 'A'}` },
  ]
  for (const who of impostors) {
    it(`refuses posting and settings with 403 for ${who.name}, and stores nothing`, async () => {
      const c = who.cookie()
      const headers: Record<string, string> = c ? { cookie: c } : {}
      const before = storedState(t)
      const attempts = [
        await postForm(t, '/g/test.one/threads', { subject: 'Hi', body: 'text' }, headers),
        await postForm(t, `/g/test.one/t/${hex(root)}/replies`, { parent: hex(root), body: 'text' }, headers),
        await postForm(t, `/g/test.one/t/${hex(root)}/replies`, { parent: hex(root), body: 'text' }, { ...headers, 'hx-request': 'true' }),
        await postForm(t, '/settings', { displayName: 'Impostor' }, headers),
        await get(t, '/settings', headers),
      ]
      for (const res of attempts) {
        expect(res.status).toBe(403)
        expect(await res.text()).toContain('only this node’s owner can do that')
      }
      expect(storedState(t)).toEqual(before)
      expect(await (await get(t, '/settings', { cookie })).text()).not.toContain('Impostor')
    })
  }

  it('refuses API posts without the bearer token with 401, even from the owner’s page with the session cookie', async () => {
    const before = storedState(t)
    const res = await t.app.request('/api/groups/test.one/articles', {
      method: 'POST',
      headers: { ...SAME_ORIGIN, cookie, 'content-type': 'application/json' },
      body: JSON.stringify({ subject: 'No token', body: 'text' }),
    })
    expect(res.status).toBe(401)
    expect(((await res.json()) as { error: string }).error).toContain('Authorization: Bearer')
    expect(storedState(t)).toEqual(before)
  })

  for (const authorization of [
    `Bearer ${TEST_TOKEN}x`,
    `Bearer ${TEST_TOKEN.slice(0, -1)}`,
    'Bearer ',
    `bearer ${TEST_TOKEN}`,
    `Basic ${TEST_TOKEN}`,
    TEST_TOKEN,
  ]) {
    it(`refuses API posts with 401 for the Authorization header "${authorization.slice(0, 12)}…"`, async () => {
      const before = storedState(t)
      const res = await apiPost(t, 'test.one', { subject: 'Wrong token', body: 'text' }, { authorization })
      expect(res.status).toBe(401)
      expect((await res.json()) as object).toHaveProperty('error')
      expect(storedState(t)).toEqual(before)
    })
  }
})

describe('request size', () => {
  const big = 'x'.repeat(MAX_REQUEST_BODY_BYTES + 1)

  it('answers 413 to a body over 256 KiB on every state-changing route, with or without Content-Length, and stores nothing', async () => {
    const before = storedState(t)
    const small = await postForm(t, '/g/test.one/threads', {}, { cookie })
    expect(small.status).toBe(400) // the same route answers a normal bad form with 400, not 413
    for (const { path, type, body: fields } of writeRoutes()) {
      const body = `${fields}&pad=${big}`
      const lengths: Record<string, string>[] = [{ 'content-length': String(body.length) }]
      // Without a declared length the limit applies as the body is read, and logging out reads none.
      if (path !== '/logout') lengths.push({})
      for (const headers of lengths) {
        const api = path.startsWith('/api/')
        const res = await t.app.request(path, {
          method: 'POST',
          headers: { ...SAME_ORIGIN, cookie, 'content-type': type, ...(api ? { authorization: `Bearer ${TEST_TOKEN}` } : {}), ...headers },
          body,
        })
        expect(res.status, `${path} ${JSON.stringify(headers)}`).toBe(413)
        expect(await res.text()).toContain('larger than 256 KiB')
        expect(res.headers.getSetCookie(), path).toEqual([])
      }
    }
    expect(storedState(t)).toEqual(before)
  })

  it('answers 413 to a streamed body over 256 KiB that declares no length', async () => {
    const before = storedState(t)
    const chunk = new TextEncoder().encode('x'.repeat(64 * 1024))
    let sent = 0
    const stream = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (sent === 0) controller.enqueue(new TextEncoder().encode('subject=Big&body='))
        if (sent++ < 6) controller.enqueue(chunk)
        else controller.close()
      },
    })
    const res = await t.app.request('/g/test.one/threads', {
      method: 'POST',
      headers: { ...SAME_ORIGIN, cookie, 'content-type': FORM },
      body: stream,
      duplex: 'half',
    } as RequestInit)
    expect(res.status).toBe(413)
    expect(storedState(t)).toEqual(before)
  })

  it('answers 413 to an API post over 256 KiB as JSON', async () => {
    const before = storedState(t)
    const res = await apiPost(t, 'test.one', { subject: 'Big', body: big })
    expect(res.status).toBe(413)
    expect(((await res.json()) as { error: string }).error).toContain('256 KiB')
    expect(storedState(t)).toEqual(before)
  })
})

describe('Content-Security-Policy', () => {
  /** HTML responses of every kind: pages, later pages, errors, fragments. */
  async function htmlResponses(): Promise<{ what: string; res: Response }[]> {
    const out: { what: string; res: Response }[] = []
    for (const path of readRoutes().filter(
      (p) => !p.startsWith('/api/') && !p.startsWith('/static/') && p !== '/favicon.ico' && !p.includes('token=') && !p.startsWith('/a/'),
    )) {
      out.push({ what: `GET ${path} (owner)`, res: await get(t, path, { cookie }) })
      out.push({ what: `GET ${path} (visitor)`, res: await get(t, path) })
    }
    out.push({ what: 'htmx page of threads', res: await get(t, `/g/test.one?after=${reply.date}.${hex(root)}`, { 'hx-request': 'true' }) })
    out.push({ what: 'bad cursor', res: await get(t, '/g/test.one?after=x') })
    out.push({ what: 'wrong login', res: await get(t, '/login?token=wrong') })
    out.push({ what: 'host refused', res: await t.app.request('/', { headers: { host: 'evil.example' } }) })
    out.push({
      what: 'htmx reply',
      res: await postForm(t, `/g/test.one/t/${hex(root)}/replies`, { parent: hex(root), body: 'csp reply' }, { cookie, 'hx-request': 'true' }),
    })
    out.push({
      what: 'htmx error',
      res: await postForm(t, `/g/test.one/t/${hex(root)}/replies`, { parent: hex(root), body: '' }, { cookie, 'hx-request': 'true' }),
    })
    return out
  }

  it('comes with every HTML response, with a fresh nonce that every script tag and hx-nonce carries, and no unsafe sources', async () => {
    const nonces = new Set<string>()
    const responses = await htmlResponses()
    for (const { what, res } of responses) {
      expect(res.headers.get('content-type'), what).toMatch(/^text\/html/)
      const csp = res.headers.get('content-security-policy') ?? ''
      expect(csp, what).toContain("default-src 'none'")
      expect(csp, what).not.toMatch(/unsafe-inline|unsafe-eval|unsafe-hashes|strict-dynamic|\*/)
      const scriptSrc = /(?:^|;)\s*script-src ([^;]*)/.exec(csp)?.[1]?.trim().split(/\s+/) ?? []
      expect(scriptSrc, what).toHaveLength(1)
      const nonce = /^'nonce-([A-Za-z0-9+/=]{16,})'$/.exec(scriptSrc[0] ?? '')?.[1]
      expect(nonce, what).toBeDefined()
      expect(nonces.has(nonce!), `${what}: nonce reused`).toBe(false)
      nonces.add(nonce!)
      expect(res.headers.get('x-content-type-options'), what).toBe('nosniff')
      expect(res.headers.get('x-frame-options'), what).toBe('DENY')

      const doc = parseHtml(await res.text())
      const scripts = findAll(doc, (el) => el.tag === 'script')
      for (const script of scripts) {
        expect(script.attrs.nonce, what).toBe(nonce)
        expect(script.attrs.src, what).toMatch(/^\/static\//)
        expect(textOf(script), what).toBe('')
      }
      for (const el of findAll(doc, (e) => e.attrs['hx-nonce'] !== undefined)) expect(el.attrs['hx-nonce'], what).toBe(nonce)
      for (const el of elements(doc)) {
        expect(
          Object.keys(el.attrs).filter((a) => a.startsWith('on')),
          what,
        ).toEqual([])
      }
    }
    // Whole pages load htmx with the nonce; a page without scripts would make the check above vacuous.
    expect(findAll(parseHtml(await (await get(t, '/')).text()), (el) => el.tag === 'script')).toHaveLength(3)
  })
})

describe('escaping user text', () => {
  const payloads = ['<script>alert(1)</script>', '"><img src=x onerror=alert(1)>', '<div hx-get="/x" hx-trigger="load">']
  const forbidden = ['<script>alert', '<img', 'hx-get="/x"', 'onerror=alert(1)>', '<div hx-']

  it('shows subjects, bodies and display names from the API as text on the group, thread, author and settings pages', async () => {
    const saved = await postForm(t, '/settings', { displayName: payloads[1]! }, { cookie })
    expect(saved.status).toBe(303)
    const rootRes = await apiPost(t, 'test.one', { subject: payloads[0], body: payloads.join('\n') })
    expect(rootRes.status).toBe(201)
    const posted = (await rootRes.json()) as { article: { hex: string; id: string } }
    const replyRes = await apiPost(t, 'test.one', { subject: payloads[2], body: `> ${payloads[0]}\n${payloads[2]}`, parent: posted.article.hex })
    expect(replyRes.status).toBe(201)
    const replyHex = ((await replyRes.json()) as { article: { hex: string } }).article.hex

    const pages = {
      group: `/g/test.one`,
      thread: `/g/test.one/t/${posted.article.hex}`,
      author: `/u/${OWNER.publicKey}`,
      settings: '/settings',
      groups: '/',
    }
    for (const [name, path] of Object.entries(pages)) {
      const res = await get(t, path, { cookie })
      expect(res.status, name).toBe(200)
      const html = await res.text()
      for (const bad of forbidden) expect(html, `${name} contains ${bad}`).not.toContain(bad)
      const doc = parseHtml(html)
      expect(
        findAll(doc, (el) => el.tag === 'img'),
        name,
      ).toEqual([])
      expect(
        findAll(doc, (el) => el.attrs['hx-get'] === '/x' || el.attrs['hx-trigger'] === 'load'),
        name,
      ).toEqual([])
      expect(
        findAll(doc, (el) => el.tag === 'script' && !el.attrs.src),
        name,
      ).toEqual([])
    }

    // And the text is there, shown literally, not dropped.
    const thread = parseHtml(await (await get(t, pages.thread)).text())
    expect(textOf(findAll(thread, (el) => el.tag === 'title')[0]!)).toBe(`${payloads[0]} · usenet-p2p`)
    expect(textOf(findAll(thread, (el) => el.tag === 'h1')[0]!)).toBe(payloads[0])
    expect(textOf(byId(thread, `a-${posted.article.hex}`)!)).toContain(payloads[1])
    expect(textOf(byId(thread, `a-${posted.article.hex}`)!)).toContain(payloads[2])
    expect(textOf(byId(thread, `a-${replyHex}`)!)).toContain(payloads[2])
    const group = parseHtml(await (await get(t, pages.group)).text())
    expect(textOf(group)).toContain(payloads[0])
    expect(textOf(group)).toContain(payloads[1])
    const author = parseHtml(await (await get(t, pages.author)).text())
    expect(textOf(findAll(author, (el) => el.tag === 'h1')[0]!)).toContain(payloads[1])
    expect(textOf(author)).toContain(payloads[2])
    const settings = parseHtml(await (await get(t, pages.settings, { cookie })).text())
    expect(findAll(settings, (el) => el.tag === 'input' && el.attrs.name === 'displayName')[0]!.attrs.value).toBe(payloads[1])
  })

  it('escapes the reply an htmx post returns', async () => {
    await postForm(t, '/settings', { displayName: payloads[1]! }, { cookie })
    const res = await postForm(t, `/g/test.one/t/${hex(root)}/replies`, { parent: hex(root), body: payloads.join('\n') }, { cookie, 'hx-request': 'true' })
    expect(res.status).toBe(200)
    const html = await res.text()
    for (const bad of forbidden) expect(html).not.toContain(bad)
    const doc = parseHtml(html)
    const article = findAll(doc, (el) => el.tag === 'article')[0]!
    for (const p of payloads) expect(textOf(article)).toContain(p)
  })
})

describe('login', () => {
  it('refuses a wrong token with 403 and sets no cookie, by link and by form', async () => {
    for (const res of [
      await get(t, '/login?token=wrong'),
      await get(t, `/login?token=${TEST_TOKEN}x`),
      await get(t, '/login?token='),
      await postForm(t, '/login', { token: 'wrong' }),
      await postForm(t, '/login', { token: '' }),
    ]) {
      expect(res.status).toBe(403)
      expect(res.headers.getSetCookie()).toEqual([])
      expect(await res.text()).toContain('That token is not this node')
    }
  })

  it('sets an HttpOnly, SameSite=Strict session cookie for the whole site that is not the token itself', async () => {
    const res = await get(t, `/login?token=${TEST_TOKEN}`)
    expect(res.status).toBe(303)
    const cookies = res.headers.getSetCookie()
    expect(cookies).toHaveLength(1)
    const attributes = cookies[0]!.split(';').map((s) => s.trim())
    expect(attributes).toContain('HttpOnly')
    expect(attributes).toContain('SameSite=Strict')
    expect(attributes).toContain('Path=/')
    expect(cookies[0]).not.toContain(TEST_TOKEN)
    // The redirect drops the token from the address bar.
    expect(res.headers.get('location')).toBe('/')
  })
})
