import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { openGroupDescriptor, parseGroupName, signGroupDescriptor } from '../../src/article/index.ts'
import { addGroup, getGroup } from '../../src/store/index.ts'
import { mallory } from '../helpers/articles.ts'
import { OWNER, testApp } from '../helpers/web.ts'
import { get, ownerCookie, postForm, type TestApp } from './support.ts'

let t: TestApp
let cookie: string
beforeEach(async () => {
  t = await testApp()
  cookie = await ownerCookie(t)
})
afterEach(() => t.close())

describe('groups the owner manages', () => {
  it('creates a group signed by the owner, carried at once, with its announcement stored', async () => {
    const res = await postForm(t, '/groups', { name: 'rec.music.folk', description: 'Folk music, old and new.' }, { cookie })
    expect(res.status).toBe(303)
    expect(res.headers.get('location')).toBe('/g/rec.music.folk')
    const group = await getGroup(t.node.store.db, 'rec.music.folk')
    expect(group?.subscribed).toBe(1)
    const row = await t.node.store.db.selectFrom('groups').select('descriptor').where('name', '=', 'rec.music.folk').executeTakeFirstOrThrow()
    const descriptor = openGroupDescriptor(row.descriptor!)
    expect(descriptor.authorKey).toBe(OWNER.publicKey)
    expect(descriptor.description).toBe('Folk music, old and new.')
    expect(await (await get(t, '/')).text()).toContain('rec.music.folk')
  })

  it('refuses a bad name, an empty description, a duplicate group and a request without the owner session', async () => {
    expect((await postForm(t, '/groups', { name: 'Not A Group', description: 'x' }, { cookie })).status).toBe(400)
    expect((await postForm(t, '/groups', { name: 'rec.music.folk', description: '   ' }, { cookie })).status).toBe(400)
    expect((await postForm(t, '/groups', { name: 'test.one', description: 'again' }, { cookie })).status).toBe(400)
    expect((await postForm(t, '/groups', { name: 'rec.music.jazz', description: 'Jazz.' })).status).toBe(403)
    expect(await getGroup(t.node.store.db, 'rec.music.jazz')).toBeUndefined()
    expect(await getGroup(t.node.store.db, 'rec.music.folk')).toBeUndefined()
  })

  it('subscribes to a group known from a neighbour and unsubscribes again', async () => {
    const descriptor = signGroupDescriptor({ name: parseGroupName('sci.astro.amateur'), description: 'Telescopes.', date: Date.UTC(2026, 10, 1) }, mallory)
    await addGroup(t.node.store.db, {
      name: descriptor.name,
      description: descriptor.description,
      createdAt: 0,
      subscribed: false,
      descriptor: descriptor.bytes,
    })
    const before = await (await get(t, '/', { cookie })).text()
    expect(before).toContain('Other groups')
    expect(before).toContain('/g/sci.astro.amateur/subscribe')
    expect((await get(t, '/g/sci.astro.amateur')).status).toBe(404)

    expect((await postForm(t, '/g/sci.astro.amateur/subscribe', {}, { cookie })).status).toBe(303)
    expect((await getGroup(t.node.store.db, 'sci.astro.amateur'))?.subscribed).toBe(1)
    expect((await get(t, '/g/sci.astro.amateur')).status).toBe(200)

    expect((await postForm(t, '/g/sci.astro.amateur/unsubscribe', {}, { cookie })).status).toBe(303)
    expect((await getGroup(t.node.store.db, 'sci.astro.amateur'))?.subscribed).toBe(0)
    expect((await get(t, '/g/sci.astro.amateur')).status).toBe(404)
    expect((await postForm(t, '/g/no.such.group/subscribe', {}, { cookie })).status).toBe(404)
  })

  it('refuses posting to a group after unsubscribing', async () => {
    await postForm(t, '/g/test.one/unsubscribe', {}, { cookie })
    const res = await postForm(t, '/g/test.one/threads', { subject: 'Hi', body: 'Still here?' }, { cookie })
    expect(res.status).toBe(404)
  })
})

describe('group announcements', () => {
  it('round-trips and refuses tampering, another key and non-canonical text', () => {
    const d = signGroupDescriptor({ name: parseGroupName('rec.music.folk'), description: 'Folk.', date: Date.UTC(2026, 10, 1, 12) }, OWNER)
    expect(openGroupDescriptor(d.bytes).name).toBe('rec.music.folk')
    const text = new TextDecoder().decode(d.bytes)
    const tampered = new TextEncoder().encode(text.replace('Folk.', 'Fake.'))
    expect(() => openGroupDescriptor(tampered)).toThrow(/signature/)
    const other = signGroupDescriptor({ name: parseGroupName('rec.music.folk'), description: 'Folk.', date: Date.UTC(2026, 10, 1, 12) }, mallory)
    const swapped = new TextEncoder().encode(text.replace(/Signature: .*/, `Signature: ${other.signature}`))
    expect(() => openGroupDescriptor(swapped)).toThrow(/signature/)
    expect(() => openGroupDescriptor(new TextEncoder().encode(`${text}\n`))).toThrow()
    expect(() => openGroupDescriptor(new TextEncoder().encode(text.replace('\n', '\r\n')))).toThrow()
    expect(() => openGroupDescriptor(new Uint8Array(5000))).toThrow(/too large/)
  })
})
