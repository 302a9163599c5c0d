import { afterAll, describe, expect, it } from 'vitest'
import { eventually, removePeer, startPeer, type TestPeer } from '../helpers/network.ts'

async function addPeer(node: TestPeer, address: string, { owner = true } = {}): Promise<{ status: number; text: string }> {
  const cookie = owner ? (await fetch(node.loginUrl, { redirect: 'manual' })).headers.getSetCookie()[0]!.split(';')[0]! : ''
  const res = await fetch(`${node.url}/node/peers`, {
    method: 'POST',
    headers: { cookie, origin: node.url, 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ address }).toString(),
  })
  return { status: res.status, text: await res.text() }
}

describe('the node page', () => {
  const nodes: TestPeer[] = []
  afterAll(async () => {
    await Promise.all(nodes.map(removePeer))
  })

  it('shows the peer id and a dialable address, and lets the owner connect to a peer, remembered across a restart', async () => {
    const a = await startPeer({ seeds: false })
    const b = await startPeer({ seeds: false })
    nodes.push(a, b)
    const page = await (await fetch(`${a.url}/node`)).text()
    expect(page).toContain(a.peerId)
    expect(page).toContain(a.address)

    expect((await addPeer(b, a.address, { owner: false })).status).toBe(403)
    const bad = await addPeer(b, '/ip4/127.0.0.1/tcp/1')
    expect(bad.status).toBe(400)
    expect(bad.text).toContain('not a peer address')

    const added = await addPeer(b, a.address)
    expect(added.status).toBe(200)
    expect(added.text).toContain(`Connected to ${a.peerId}`)
    await eventually(async () => (await (await fetch(`${a.url}/node`)).text()).includes(b.peerId))

    // B remembers A: restarted without --peer, it reconnects by itself.
    await b.stop()
    const again = await startPeer({ seeds: false, dataDir: b.dataDir })
    nodes[1] = again
    await eventually(async () => (await (await fetch(`${again.url}/node`)).text()).includes(a.peerId), { timeoutMs: 15_000 })
  }, 60_000)
})
