import { afterAll, describe, expect, it } from 'vitest'
import { apiPost, eventually, removePeer, type TestPeer } from '../helpers/network.ts'
import { shardHeads, sleep, storedMessageIds } from '../network/support.ts'
import { connectAsOwner, startResyncingPeer } from './support.ts'

/*
 * A network split in two keeps working on both sides; when one link joins the halves again, every node ends
 * with every post of both sides (none lost) and the same shard documents.
 *
 * The two nodes of the new link compare on connect. Posts stored by sync are not flooded again, so each of
 * them then hints its other neighbours, which compare with it at once. The periodic comparison (every five
 * minutes in a real node) is kept at that production value here, so the test shows the heal spreading by
 * hints alone.
 */
const RESYNC_MS = 5 * 60_000

const POSTS_PER_SIDE = 200
const IN_FLIGHT = 4
const GROUPS = ['misc.test', 'p2p.general']

const nodes: TestPeer[] = []
afterAll(async () => {
  await Promise.all(nodes.map(removePeer))
})

/** Three nodes, each connected to the others: A dialled by B, C dialling both. */
async function cluster(): Promise<TestPeer[]> {
  const a = await startResyncingPeer({ resyncIntervalMs: RESYNC_MS })
  const b = await startResyncingPeer({ peers: [a.address], resyncIntervalMs: RESYNC_MS })
  const c = await startResyncingPeer({ peers: [a.address, b.address], resyncIntervalMs: RESYNC_MS })
  nodes.push(a, b, c)
  return [a, b, c]
}

/** `count` posts through the JSON API, spread round-robin over the side's nodes and two groups. */
async function postOnSide(side: readonly TestPeer[], label: string, count: number): Promise<string[]> {
  const ids: string[] = []
  let next = 0
  async function worker() {
    while (next < count) {
      const i = next++
      const post = await apiPost(side[i % side.length]!, GROUPS[i % GROUPS.length]!, {
        subject: `${label} ${i}`,
        body: `Post ${i} made on side ${label} during the split.`,
      })
      ids.push(post.id)
    }
  }
  await Promise.all(Array.from({ length: IN_FLIGHT }, worker))
  return ids
}

const lacking = (ids: Set<string>, wanted: Iterable<string>) => [...wanted].filter((id) => !ids.has(id)).length

describe('a network split in two halves', () => {
  it('converges after the heal with no post lost and the same shard heads on all six nodes', async () => {
    const left = await cluster()
    const right = await cluster()
    // Let the gossip meshes form before posting.
    await sleep(2000)

    const posting = Date.now()
    const [leftIds, rightIds] = await Promise.all([postOnSide(left, 'L', POSTS_PER_SIDE), postOnSide(right, 'R', POSTS_PER_SIDE)])
    const all = new Set([...leftIds, ...rightIds])
    expect(all.size).toBe(2 * POSTS_PER_SIDE)
    const postingMs = Date.now() - posting

    // While split, each half holds its own posts and none of the other's.
    await eventually(async () => (await Promise.all(left.map(storedMessageIds))).every((ids) => lacking(ids, leftIds) === 0), {
      timeoutMs: 15_000,
      intervalMs: 200,
    })
    await eventually(async () => (await Promise.all(right.map(storedMessageIds))).every((ids) => lacking(ids, rightIds) === 0), {
      timeoutMs: 15_000,
      intervalMs: 200,
    })
    for (const n of left) expect(lacking(await storedMessageIds(n), rightIds)).toBe(POSTS_PER_SIDE)
    for (const n of right) expect(lacking(await storedMessageIds(n), leftIds)).toBe(POSTS_PER_SIDE)

    const healed = Date.now()
    await connectAsOwner(left[0]!, right[0]!.address)
    const missing = async () => Promise.all(nodes.map(async (n) => lacking(await storedMessageIds(n), all)))
    let linkedMs: number | undefined
    try {
      // First the two ends of the new link (they compare on connect), then everyone.
      await eventually(async () => (await Promise.all([left[0]!, right[0]!].map(async (n) => lacking(await storedMessageIds(n), all)))).every((n) => n === 0), {
        timeoutMs: 15_000,
        intervalMs: 100,
      })
      linkedMs = Date.now() - healed
      await eventually(async () => (await missing()).every((n) => n === 0), { timeoutMs: 30_000, intervalMs: 250 })
    } finally {
      console.log(
        `partition: ${all.size} posts made in ${postingMs} ms while split; after the heal the linked pair held all at ${linkedMs ?? '-'} ms; ` +
          `posts missing per node (L1 L2 L3 R1 R2 R3): ${JSON.stringify(await missing())} at ${Date.now() - healed} ms`,
      )
    }

    const idSets = await Promise.all(nodes.map(storedMessageIds))
    const reference = [...idSets[0]!].sort()
    for (const ids of idSets.slice(1)) expect([...ids].sort()).toEqual(reference)
    const heads = await Promise.all(nodes.map(shardHeads))
    expect(Object.values(heads[0]!).flat()).toHaveLength(reference.length)
    for (const h of heads.slice(1)) expect(h).toEqual(heads[0])
  }, 60_000)
})
