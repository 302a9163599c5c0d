import { afterAll, describe, expect, it } from 'vitest'
import { utcDay } from '../../src/sync/index.ts'
import { apiPost, eventually, removePeer, startPeer, type TestPeer } from '../helpers/network.ts'
import { shardHeads, sleep, storedMessageIds } from './support.ts'

/*
 * Many posts at once from several nodes: every node must end with the same posts and, shard by shard, the
 * same Automerge documents (same heads), whatever order the posts arrived in.
 */

const POSTERS = 3
const POSTS_PER_POSTER = 334
const IN_FLIGHT = 6
/** Two groups; misc.test gets two thirds, so its shard of the day passes the cap (500) and splits. */
const groupOf = (i: number) => (i % 3 === 0 ? 'p2p.general' : 'misc.test')

const nodes: TestPeer[] = []
afterAll(async () => {
  await Promise.all(nodes.map(removePeer))
})

/** Posts `count` articles through a node's JSON API, `IN_FLIGHT` requests at a time. */
async function postMany(node: TestPeer, label: string, count: number): Promise<string[]> {
  const ids: string[] = []
  let next = 0
  async function worker() {
    while (next < count) {
      const i = next++
      const post = await apiPost(node, groupOf(i), { subject: `${label} post ${i}`, body: `Post ${i} of ${count} from ${label}.` })
      ids.push(post.id)
    }
  }
  await Promise.all(Array.from({ length: IN_FLIGHT }, worker))
  return ids
}

describe('a burst of posts from three nodes at once', () => {
  it('leaves five nodes with the same Message-IDs and the same shard heads', async () => {
    // A ring of five with one chord: A–B–C–D–E–A and B–D. Each node dials the ones listed.
    const a = await startPeer()
    nodes.push(a)
    const b = await startPeer({ peers: [a.address] })
    nodes.push(b)
    const c = await startPeer({ peers: [b.address] })
    nodes.push(c)
    const d = await startPeer({ peers: [c.address, b.address] })
    nodes.push(d)
    const e = await startPeer({ peers: [d.address, a.address] })
    nodes.push(e)
    await sleep(3000)

    const started = Date.now()
    const dayAtStart = utcDay(started)
    const posted = await Promise.all([postMany(a, 'A', POSTS_PER_POSTER), postMany(c, 'C', POSTS_PER_POSTER), postMany(e, 'E', POSTS_PER_POSTER)])
    const postingMs = Date.now() - started
    const all = new Set(posted.flat())
    expect(all.size).toBe(POSTERS * POSTS_PER_POSTER)

    /** How many of the burst's posts each node lacks. */
    const missing = () =>
      Promise.all(
        nodes.map(async (n) => {
          const ids = await storedMessageIds(n)
          return [...all].filter((id) => !ids.has(id)).length
        }),
      )
    const converged = async () => (await missing()).every((n) => n === 0)
    let byGossip = true
    try {
      await eventually(converged, { timeoutMs: 15_000, intervalMs: 500 })
    } catch {
      // Gossip alone lost some posts under this burst (overload drops messages; see DESIGN.md). The repair
      // today is catch-up on reconnect (anti-entropy is a later issue): restart each node that lacks posts.
      byGossip = false
      const lacking = await missing()
      console.warn(`gossip alone left posts missing after the burst: ${JSON.stringify(lacking)} (nodes A–E); restarting those nodes`)
      for (const [i, n] of lacking.entries()) {
        if (n === 0) continue
        await nodes[i]!.stop()
        nodes[i] = await startPeer({ dataDir: nodes[i]!.dataDir })
      }
      await eventually(converged, { timeoutMs: 15_000, intervalMs: 500 })
    }
    console.log(
      `posted ${all.size} in ${postingMs} ms; all nodes hold all of them after ${Date.now() - started} ms (${byGossip ? 'by gossip alone' : 'after catch-up'})`,
    )

    const idSets = await Promise.all(nodes.map(storedMessageIds))
    const reference = [...idSets[0]!].sort()
    expect(reference.length).toBeGreaterThan(all.size)
    for (const ids of idSets.slice(1)) expect([...ids].sort()).toEqual(reference)

    const heads = await Promise.all(nodes.map(shardHeads))
    // Every post is its own head (no dependencies): the heads count the posts, shard by shard.
    expect(Object.values(heads[0]!).flat()).toHaveLength(reference.length)
    for (const h of heads.slice(1)) expect(h).toEqual(heads[0])
    // The day's misc.test shard passed the cap and split into sixteen, alike on every node (unless the burst
    // straddled midnight UTC and its posts fell into two days).
    if (utcDay(Date.now()) === dayAtStart) {
      expect(Object.keys(heads[0]!).filter((id) => id.startsWith(`misc.test/${dayAtStart}/`))).toHaveLength(16)
    }
  }, 58_000)
})
