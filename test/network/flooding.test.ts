import { afterAll, describe, expect, it } from 'vitest'
import { messageIdHex } from '../../src/article/index.ts'
import { canonicalChange } from '../../src/sync/index.ts'
import { makeArticle } from '../helpers/articles.ts'
import { apiPost, eventually, hasArticle, removePeer, startPeer, type TestPeer } from '../helpers/network.ts'
import { fetchArticle, rowsOf, sleep, startRawPeer, threadPostCount, type RawPeer } from './support.ts'

/** Every node has every post. */
async function allHave(nodes: readonly TestPeer[], hexes: readonly string[]): Promise<boolean> {
  const checks = await Promise.all(nodes.flatMap((n) => hexes.map((hex) => hasArticle(n, hex))))
  return checks.every(Boolean)
}

describe('flooding', () => {
  const nodes: TestPeer[] = []
  afterAll(async () => {
    await Promise.all(nodes.map(removePeer))
  })

  it('carries a post from A to E along a line of five nodes A–B–C–D–E', async () => {
    for (let i = 0; i < 5; i++) nodes.push(await startPeer({ peers: i === 0 ? [] : [nodes[i - 1]!.address] }))
    // Meshes form on gossipsub heartbeats (1 s).
    await new Promise((r) => setTimeout(r, 2500))
    const post = await apiPost(nodes[0]!, 'misc.test', { subject: 'Down the line', body: 'From A to E.' })
    await eventually(() => hasArticle(nodes[4]!, post.hex), { timeoutMs: 10_000 })
    for (const node of nodes) expect(await hasArticle(node, post.hex)).toBe(true)
  }, 60_000)
})

describe('catching up after a restart', () => {
  const nodes: TestPeer[] = []
  afterAll(async () => {
    await Promise.all(nodes.map(removePeer))
  })

  it('brings posts made on E while A was down to A once it restarts and reconnects to the peer it remembers', async () => {
    // A line A–B–C–D–E where each node dials the next, so A knows B only from its own dial.
    for (let i = 0; i < 5; i++) nodes.unshift(await startPeer({ peers: nodes.length === 0 ? [] : [nodes[0]!.address] }))
    const [a, b, c, d, e] = nodes as [TestPeer, TestPeer, TestPeer, TestPeer, TestPeer]
    await sleep(2500)

    await a.stop()
    const posts = [
      await apiPost(e, 'misc.test', { subject: 'While A was away', body: 'First post A missed.' }),
      await apiPost(e, 'misc.test', { subject: 'While A was away, again', body: 'Second post A missed.' }),
      await apiPost(e, 'p2p.general', { subject: 'Another group', body: 'A post in another group A carries.' }),
    ]
    const hexes = posts.map((p) => p.hex)
    await eventually(() => allHave([b, c, d, e], hexes))
    // Gossip's message cache (a few heartbeats) has moved on: only catch-up can bring these now.
    await sleep(4000)

    const restartedAt = Date.now()
    // The same data directory and no --peer: A reconnects through the peers it remembers.
    const again = await startPeer({ dataDir: a.dataDir })
    nodes[0] = again
    await eventually(() => allHave([again], hexes), { timeoutMs: 8000 })
    const caughtUpMs = Date.now() - restartedAt
    expect(caughtUpMs).toBeLessThan(8000)
    // A is live again afterwards: a new post on E now floods to it.
    await sleep(2000)
    const live = await apiPost(e, 'misc.test', { subject: 'A is back', body: 'Posted after A reconnected.' })
    await eventually(() => hasArticle(again, live.hex), { timeoutMs: 8000 })
  }, 50_000)
})

describe('duplicate deliveries', () => {
  const nodes: TestPeer[] = []
  const raw: RawPeer[] = []
  afterAll(async () => {
    await Promise.all(raw.map((p) => p.stop().catch(() => undefined)))
    await Promise.all(nodes.map(removePeer))
  })

  it('stores a post that arrives many times, by two paths and from two publishers, once on every node of a triangle', async () => {
    const a = await startPeer()
    nodes.push(a)
    const b = await startPeer({ peers: [a.address] })
    nodes.push(b)
    const c = await startPeer({ peers: [a.address, b.address] })
    nodes.push(c)
    // Two raw peers publish the very same change, one into B and one into A.
    const x = await startRawPeer({ dial: [b.address], groups: ['misc.test'] })
    raw.push(x)
    const y = await startRawPeer({ dial: [a.address], groups: ['misc.test'] })
    raw.push(y)
    await sleep(2500)

    // A reply to a seeded thread, so the thread's count shows a double insert too.
    const threads = (await (await fetch(`${a.url}/api/groups/misc.test/threads`)).json()) as { threads: { root: string; rootHex: string; posts: number }[] }
    const thread = threads.threads[0]!
    const root = await fetchArticle(a, thread.rootHex)
    const reply = makeArticle({ parent: root, body: `The same reply many times ${Date.now()}`, date: Date.now() })
    const change = canonicalChange(reply)
    const before = await Promise.all(nodes.map((n) => threadPostCount(n, 'misc.test', thread.root)))
    expect(before.every((n) => n === thread.posts)).toBe(true)

    await Promise.all([x.publish('misc.test', change), x.publish('misc.test', change), y.publish('misc.test', change)])
    await eventually(() => allHave(nodes, [messageIdHex(reply.id)]))

    // And once more through catch-up: C restarts and both A and B send it what they have.
    await c.stop()
    const c2 = await startPeer({ dataDir: c.dataDir })
    nodes[2] = c2
    await eventually(async () => {
      const page = await (await fetch(`${c2.url}/node`)).text()
      return page.includes(a.peerId) && page.includes(b.peerId)
    })
    // Each connection's catch-up resends the posts of the last minutes, this one among them.
    await sleep(2000)

    for (const node of nodes) {
      expect(await rowsOf(node, reply.id)).toEqual({ articles: 1, postings: 1, shardChanges: 1 })
      expect(await threadPostCount(node, 'misc.test', thread.root)).toBe(thread.posts + 1)
    }
  }, 40_000)
})
