import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { decodeArticle, messageIdFromHex } from '../../src/article/index.ts'
import { getArticle } from '../../src/store/index.ts'
import { makeArticle } from '../helpers/articles.ts'
import { OWNER, testApp } from '../helpers/web.ts'
import { byId, closest, findAll, hasClass, parseHtml, textOf } from './html.ts'
import { get, hex, ingest, ownerCookie, postForm, SAME_ORIGIN, storedState, type TestApp } from './support.ts'

let t: TestApp
let cookie: string
beforeEach(async () => {
  t = await testApp()
  cookie = await ownerCookie(t)
})
afterEach(async () => {
  await t.close()
})

const HEX_LOCATION = /^\/g\/test\.one\/t\/([0-9a-f]{64})$/

async function newThread(fields: Record<string, string>) {
  return postForm(t, '/g/test.one/threads', fields, { cookie })
}

async function threadPage(rootHex: string) {
  const res = await get(t, `/g/test.one/t/${rootHex}`, { cookie })
  expect(res.status).toBe(200)
  return parseHtml(await res.text())
}

describe('starting a thread without JavaScript', () => {
  it('redirects with 303 to the new thread, which shows the subject and body signed by the owner', async () => {
    const before = storedState(t)
    const res = await newThread({ subject: 'A new topic', body: 'First line\r\n\r\n> quoted\r\nlast line  \r\n' })
    expect(res.status).toBe(303)
    const rootHex = HEX_LOCATION.exec(res.headers.get('location') ?? '')?.[1]
    expect(rootHex).toBeDefined()
    expect(storedState(t).articles).toBe(before.articles + 1)

    const stored = decodeArticle((await getArticle(t.node.store.db, messageIdFromHex(rootHex!)))!.bytes)
    expect(stored.subject).toBe('A new topic')
    expect(stored.authorKey).toBe(OWNER.publicKey)
    expect(stored.from).toBe('Owner')
    // Forms send CRLF; the article holds LF lines without trailing space.
    expect(stored.body).toBe('First line\n\n> quoted\nlast line')

    const doc = await threadPage(rootHex!)
    expect(textOf(findAll(doc, (el) => el.tag === 'h1')[0]!)).toBe('A new topic')
    const lines = findAll(byId(doc, `a-${rootHex}`)!, (el) => el.tag === 'p' && hasClass(el, 'line'))
    expect(lines.map(textOf)).toEqual(['First line', '\u00a0', '> quoted', 'last line'])
    expect(lines.map((p) => hasClass(p, 'quote'))).toEqual([false, false, true, false])

    const group = await get(t, '/g/test.one')
    expect(await group.text()).toContain(`/g/test.one/t/${rootHex}`)
  })

  it('accepts the same form sent as multipart/form-data', async () => {
    const form = new FormData()
    form.set('subject', 'Multipart topic')
    form.set('body', 'sent as multipart')
    const res = await t.app.request('/g/test.one/threads', { method: 'POST', headers: { ...SAME_ORIGIN, cookie }, body: form })
    expect(res.status).toBe(303)
    const doc = await threadPage(HEX_LOCATION.exec(res.headers.get('location') ?? '')![1]!)
    expect(textOf(doc)).toContain('sent as multipart')
  })
})

describe('replying', () => {
  it('without JavaScript redirects with 303 to the reply’s place, and the thread shows it under its parent', async () => {
    const root = makeArticle({ subject: 'Question' })
    await ingest(t, root)
    const before = storedState(t)
    const res = await postForm(t, `/g/test.one/t/${hex(root)}/replies`, { parent: hex(root), body: 'An answer' }, { cookie })
    expect(res.status).toBe(303)
    const m = /^\/g\/test\.one\/t\/([0-9a-f]{64})#a-([0-9a-f]{64})$/.exec(res.headers.get('location') ?? '')
    expect(m?.[1]).toBe(hex(root))
    const replyHex = m![2]!
    expect(storedState(t).articles).toBe(before.articles + 1)

    const doc = await threadPage(hex(root))
    const reply = byId(doc, `a-${replyHex}`)!
    expect(textOf(reply)).toContain('An answer')
    expect(closest(reply, (el) => el.tag === 'ul' && hasClass(el, 'replies'))?.attrs.id).toBe(`replies-${hex(root)}`)
    const stored = decodeArticle((await getArticle(t.node.store.db, messageIdFromHex(replyHex)))!.bytes)
    expect(stored.subject).toBe('Re: Question')
    expect(stored.references).toEqual([root.id])
  })

  it('with htmx answers 200 with a fresh form and the new reply in an hx-partial aimed at the parent’s replies list', async () => {
    const root = makeArticle({ subject: 'Question' })
    const first = makeArticle({ parent: root })
    await ingest(t, root, first)
    const before = storedState(t)
    const res = await postForm(t, `/g/test.one/t/${hex(root)}/replies`, { parent: hex(first), body: 'Nested answer' }, { cookie, 'hx-request': 'true' })
    expect(res.status).toBe(200)
    const html = await res.text()
    expect(html).not.toContain('<html')
    expect(storedState(t).articles).toBe(before.articles + 1)
    const doc = parseHtml(html)

    const fresh = byId(doc, `reply-${hex(first)}`)!
    expect(fresh.tag).toBe('details')
    expect(fresh.parent?.tag).toBe('#root')
    const form = findAll(fresh, (el) => el.tag === 'form')[0]!
    expect(form.attrs['hx-post']).toBe(`/g/test.one/t/${hex(root)}/replies`)
    expect(findAll(form, (el) => el.tag === 'input' && el.attrs.name === 'parent')[0]!.attrs.value).toBe(hex(first))
    expect(textOf(findAll(form, (el) => el.tag === 'textarea')[0]!)).toBe('')

    const partials = findAll(doc, (el) => el.tag === 'hx-partial')
    expect(partials).toHaveLength(1)
    expect(partials[0]!.attrs['hx-target']).toBe(`#replies-${hex(first)}`)
    expect(partials[0]!.attrs['hx-swap']).toBe('beforeend')
    const articles = findAll(partials[0]!, (el) => el.tag === 'article')
    expect(articles).toHaveLength(1)
    expect(textOf(articles[0]!)).toContain('Nested answer')
    const replyHex = articles[0]!.attrs.id!.slice(2)

    // The same reply is on the thread page, nested under the article it answers.
    const page = await threadPage(hex(root))
    expect(closest(byId(page, `a-${replyHex}`)!, (el) => el.tag === 'ul' && hasClass(el, 'replies'))?.attrs.id).toBe(`replies-${hex(first)}`)
  })
})

describe('bad input', () => {
  const root = makeArticle({ subject: 'Existing thread' })
  const elsewhere = makeArticle({ group: 'test.two', subject: 'In another group' })

  async function seed() {
    await ingest(t, root, elsewhere)
  }

  const threadPath = '/g/test.one/threads'
  const replyPath = () => `/g/test.one/t/${hex(root)}/replies`

  const cases: { name: string; send: () => Promise<Response>; status: number; message: string }[] = [
    { name: 'an empty body', send: () => newThread({ subject: 'Hi', body: '' }), status: 400, message: 'the body is empty' },
    { name: 'a whitespace-only body', send: () => newThread({ subject: 'Hi', body: ' \r\n\t \r\n ' }), status: 400, message: 'the body is empty' },
    { name: 'an empty subject', send: () => newThread({ subject: '', body: 'text' }), status: 400, message: 'subject is empty' },
    { name: 'a whitespace-only subject', send: () => newThread({ subject: '   ', body: 'text' }), status: 400, message: 'subject is empty' },
    { name: 'a body over 64 KiB', send: () => newThread({ subject: 'Big', body: 'x'.repeat(64 * 1024 + 1) }), status: 400, message: 'the limit is 65536' },
    {
      name: 'a control character in the subject',
      send: () => newThread({ subject: 'Hi\u0007there', body: 'text' }),
      status: 400,
      message: 'control character',
    },
    { name: 'a line break in the subject', send: () => newThread({ subject: 'Hi\nthere', body: 'text' }), status: 400, message: 'control character' },
    { name: 'a control character in the body', send: () => newThread({ subject: 'Hi', body: 'a\u0000b' }), status: 400, message: 'control character' },
    { name: 'a form without a body field', send: () => newThread({ subject: 'Hi' }), status: 400, message: 'no body field' },
    {
      name: 'a new thread in a group the node does not carry',
      send: () => postForm(t, '/g/no.such.group/threads', { subject: 'Hi', body: 'text' }, { cookie }),
      status: 404,
      message: 'does not carry a group named "no.such.group"',
    },
    {
      name: 'a reply in a group the node does not carry',
      send: () => postForm(t, `/g/no.such.group/t/${hex(root)}/replies`, { parent: hex(root), body: 'text' }, { cookie }),
      status: 404,
      message: 'does not carry a group',
    },
    {
      name: 'a reply to an unknown article',
      send: () => postForm(t, replyPath(), { parent: 'a'.repeat(64), body: 'text' }, { cookie }),
      status: 404,
      message: 'not on this node',
    },
    {
      name: 'a reply to an article of another group',
      send: () => postForm(t, replyPath(), { parent: hex(elsewhere), body: 'text' }, { cookie }),
      status: 404,
      message: 'not in test.one',
    },
    {
      name: 'a malformed parent id',
      send: () => postForm(t, replyPath(), { parent: 'not-a-hex-id', body: 'text' }, { cookie }),
      status: 400,
      message: '64 hex digits',
    },
    {
      name: 'an upper-case parent id',
      send: () => postForm(t, replyPath(), { parent: hex(root).toUpperCase(), body: 'text' }, { cookie }),
      status: 400,
      message: '64 hex digits',
    },
    {
      name: 'an empty reply',
      send: () => postForm(t, replyPath(), { parent: hex(root), body: '\r\n' }, { cookie }),
      status: 400,
      message: 'the body is empty',
    },
    {
      name: 'a file upload instead of the body text',
      send: () => {
        const form = new FormData()
        form.set('subject', 'Hi')
        form.set('body', new File(['file content'], 'post.txt', { type: 'text/plain' }))
        return Promise.resolve(t.app.request(threadPath, { method: 'POST', headers: { ...SAME_ORIGIN, cookie }, body: form }))
      },
      status: 400,
      message: 'the body field must be text',
    },
    {
      name: 'a file upload as a reply',
      send: () => {
        const form = new FormData()
        form.set('parent', hex(root))
        form.set('body', new File(['file content'], 'post.txt'))
        return Promise.resolve(t.app.request(replyPath(), { method: 'POST', headers: { ...SAME_ORIGIN, cookie }, body: form }))
      },
      status: 400,
      message: 'the body field must be text',
    },
    {
      name: 'a body sent as text/plain',
      send: () =>
        Promise.resolve(
          t.app.request(threadPath, { method: 'POST', headers: { ...SAME_ORIGIN, cookie, 'content-type': 'text/plain' }, body: 'subject=Hi&body=x' }),
        ),
      status: 415,
      message: 'application/x-www-form-urlencoded',
    },
    {
      name: 'a form sent as JSON',
      send: () =>
        Promise.resolve(
          t.app.request(replyPath(), {
            method: 'POST',
            headers: { ...SAME_ORIGIN, cookie, 'content-type': 'application/json' },
            body: JSON.stringify({ parent: hex(root), body: 'x' }),
          }),
        ),
      status: 415,
      message: 'application/x-www-form-urlencoded',
    },
  ]

  for (const c of cases) {
    it(`answers ${c.name} with ${c.status}, a readable message, and stores nothing`, async () => {
      await seed()
      const before = storedState(t)
      const res = await c.send()
      expect(res.status).toBe(c.status)
      const html = await res.text()
      expect(res.headers.get('content-type')).toMatch(/^text\/html/)
      const alert = findAll(parseHtml(html), (el) => el.attrs.role === 'alert')[0]
      expect(alert && textOf(alert)).toContain(c.message)
      expect(storedState(t)).toEqual(before)
    })
  }

  it('gives htmx the message alone as a fragment with the 4xx status, and stores nothing', async () => {
    await seed()
    const before = storedState(t)
    for (const [fields, status, message] of [
      [{ parent: hex(root), body: '   ' }, 400, 'the body is empty'],
      [{ parent: 'zz', body: 'text' }, 400, '64 hex digits'],
      [{ parent: 'b'.repeat(64), body: 'text' }, 404, 'not on this node'],
    ] as const) {
      const res = await postForm(t, replyPath(), fields, { cookie, 'hx-request': 'true' })
      expect(res.status).toBe(status)
      const text = await res.text()
      expect(text).not.toContain('<')
      expect(text).toContain(message)
    }
    const wrongType = await t.app.request(replyPath(), {
      method: 'POST',
      headers: { ...SAME_ORIGIN, cookie, 'hx-request': 'true', 'content-type': 'text/plain' },
      body: 'x',
    })
    expect(wrongType.status).toBe(415)
    expect(await wrongType.text()).toBe('send the form as application/x-www-form-urlencoded or multipart/form-data')
    expect(storedState(t)).toEqual(before)
  })

  it('escapes the message in an htmx error fragment', async () => {
    const before = storedState(t)
    const res = await postForm(t, '/g/%3Cscript%3Ealert(1)/threads', { subject: 'Hi', body: 'text' }, { cookie, 'hx-request': 'true' })
    expect(res.status).toBe(404)
    const text = await res.text()
    expect(text).not.toContain('<script')
    expect(text).toContain('&lt;script&gt;alert(1)')
    expect(storedState(t)).toEqual(before)
  })
})
