import { afterAll, describe, expect, it } from 'vitest'
import { apiPost, eventually, hasArticle, removePeer, startPeer, type TestPeer } from '../helpers/network.ts'

async function ownerSession(node: TestPeer): Promise<string> {
  const res = await fetch(node.loginUrl, { redirect: 'manual' })
  return res.headers.getSetCookie()[0]!.split(';')[0]!
}

async function ownerForm(node: TestPeer, path: string, fields: Record<string, string>): Promise<number> {
  const res = await fetch(`${node.url}${path}`, {
    method: 'POST',
    redirect: 'manual',
    headers: { cookie: await ownerSession(node), origin: node.url, 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams(fields).toString(),
  })
  await res.body?.cancel()
  return res.status
}

async function groupListed(node: TestPeer, name: string): Promise<boolean> {
  return (await (await fetch(`${node.url}/`)).text()).includes(name)
}

describe('groups across nodes', () => {
  const nodes: TestPeer[] = []
  afterAll(async () => {
    await Promise.all(nodes.map(removePeer))
  })

  it('makes a group created on one node known to its neighbours, which carry it once subscribed', async () => {
    const a = await startPeer()
    nodes.push(a)
    const b = await startPeer({ peers: [a.address] })
    nodes.push(b)
    await eventually(async () => (await fetch(`${b.url}/node`).then((r) => r.text())).includes(a.peerId))

    expect(await ownerForm(a, '/groups', { name: 'rec.music.folk', description: 'Folk music, old and new.' })).toBe(303)
    await eventually(() => groupListed(b, 'rec.music.folk'))
    // Known, not carried: B neither shows the group's page nor takes its posts.
    expect((await fetch(`${b.url}/g/rec.music.folk`)).status).toBe(404)
    const early = await apiPost(a, 'rec.music.folk', { subject: 'First tune', body: 'The first post of the group.' })
    await new Promise((r) => setTimeout(r, 1500))
    expect(await hasArticle(b, early.hex)).toBe(false)

    // Subscribing fetches recent posts from neighbours, and new ones flood in.
    expect(await ownerForm(b, '/g/rec.music.folk/subscribe', {})).toBe(303)
    await eventually(() => hasArticle(b, early.hex))
    await new Promise((r) => setTimeout(r, 2500))
    const later = await apiPost(a, 'rec.music.folk', { subject: 'Second tune', body: 'After B subscribed.' })
    await eventually(() => hasArticle(b, later.hex))

    // A node that connects later learns of the group when it connects.
    const c = await startPeer({ peers: [b.address] })
    nodes.push(c)
    await eventually(() => groupListed(c, 'rec.music.folk'))
  }, 60_000)
})
