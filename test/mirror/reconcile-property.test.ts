import { randomBytes } from 'node:crypto'
import { rm } from 'node:fs/promises'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { composeArticle, messageIdHex, parseGroupName, type MessageId, type SignedArticle } from '../../src/article/index.ts'
import { bucketDigests, dayDigests, idsOfDay, xorInto } from '../../src/store/index.ts'
import { canonicalChange, type StreamTransport } from '../../src/sync/index.ts'
import { alice, mallory } from '../helpers/articles.ts'
import { tempNode } from '../helpers/temp-store.ts'
import { captureStderr, shardHeads } from '../network/support.ts'
import { sortedIds, startServingNode, wrapSyncAnswers, writeHistory, xorOfIds, type ServingNode } from './support.ts'

/*
 * Reconciliation finds exactly the symmetric difference: two nodes holding any overlapping sets of posts,
 * after each pulls from the other, hold exactly the union, and each asked the other for exactly what it
 * lacked, each post once. Real stores, real libp2p peers on 127.0.0.1, the real anti-entropy.
 */

const GROUPS = ['test.one', 'test.two'] as const
const DAY_MS = 86_400_000
let serial = 0

/** A post `daysAgo` days before today (always in the past), optionally crossposted to both groups. */
function post(daysAgo: number, second: number, crosspost: boolean): SignedArticle {
  const today = Math.floor(Date.now() / DAY_MS) * DAY_MS
  serial++
  return composeArticle(
    {
      newsgroups: crosspost ? GROUPS.map(parseGroupName) : [parseGroupName(GROUPS[serial % 2]!)],
      subject: `Post ${serial}`,
      from: 'Prop',
      body: `Body of post ${serial}.`,
      date: today - daysAgo * DAY_MS + second * 1000,
    },
    serial % 3 === 0 ? mallory : alice,
  )
}

const postSpec = fc.record({ daysAgo: fc.integer({ min: 1, max: 8 }), second: fc.integer({ min: 0, max: 86_399 }), crosspost: fc.boolean() })
/**
 * Posts only A has, only B has, and both have: each node holds 0–60. The protocol's thresholds are drawn too:
 * days of up to `smallDay` posts are answered with their ids (0 forces the bucket rounds for every day both
 * sides hold), and a low `answerIds` forces several comparison rounds and several bucket requests.
 */
const sets = fc.record({
  onlyA: fc.array(postSpec, { maxLength: 30 }),
  onlyB: fc.array(postSpec, { maxLength: 30 }),
  both: fc.array(postSpec, { maxLength: 30 }),
  smallDay: fc.constantFrom(0, 0, 2, 16),
  answerIds: fc.constantFrom(1, 3, 32_768),
})

async function side(
  articles: readonly SignedArticle[],
  options: { smallDay: number; answerIds: number },
  wrap?: (transport: StreamTransport) => StreamTransport,
): Promise<ServingNode> {
  const node = await startServingNode(await writeHistory([], { seeds: false, groups: [...GROUPS] }), options, wrap ? { wrap } : {})
  if (articles.length > 0) {
    const results = await node.ingest.ingestChanges(articles.map(canonicalChange), { origin: 'sync' })
    expect(results.every((r) => r.status === 'accepted')).toBe(true)
  }
  return node
}

async function allIds(node: ServingNode): Promise<string[]> {
  return (await node.store.db.selectFrom('articles').select('id').execute()).map((r) => r.id)
}

/** Answers as a node of version 3 would: a request of a later version is closed unanswered. Records each request's version. */
function versionThree(versions: number[]): (transport: StreamTransport) => StreamTransport {
  return (transport) =>
    wrapSyncAnswers(transport, (stream) => ({
      ...stream,
      async read() {
        const frame = await stream.read()
        versions.push(frame[0]!)
        if (frame[0]! > 3) throw new Error('has version 4')
        return frame
      },
    }))
}

describe('reconciling two nodes', () => {
  it('syncs with a node of version 3 by asking it in version 3 once it closed a version 4 request unanswered', async () => {
    const day = Array.from({ length: 400 }, (_, i) => post(2, i * 200, false)).filter((p) => p.newsgroups.includes(parseGroupName(GROUPS[0])))
    const versions: number[] = []
    const a = await side(day.slice(3), { smallDay: 16, answerIds: 32_768 })
    const b = await side(day, { smallDay: 16, answerIds: 32_768 }, versionThree(versions))
    const log = captureStderr({ quiet: (line) => line.includes('serving-') })
    try {
      await a.peer.dial(b.address, { signal: AbortSignal.timeout(5000) })
      expect(await a.antiEntropy.pull(b.peer.peerId, parseGroupName(GROUPS[0]))).toBe(3)
      expect(sortedIds(await allIds(a))).toEqual(sortedIds(day.map((p) => p.id)))
      // One refused request, then every request in version 3 (which has no posts in answers: a changes round trip).
      expect(versions[0]).toBe(4)
      expect(versions.slice(1).every((v) => v === 3)).toBe(true)
      expect(b.served.requests.at(-1)).toBe('changes')
      // Later pulls ask it in version 3 straight away.
      const asked = versions.length
      expect(await a.antiEntropy.pull(b.peer.peerId, parseGroupName(GROUPS[0]))).toBe(0)
      expect(versions.slice(asked)).toEqual([3])
    } finally {
      log.restore()
      for (const node of [a, b]) {
        await node.stop()
        await rm(node.dataDir, { recursive: true, force: true })
      }
    }
  })

  it('settles a few posts lost on each side of a busy day within the two comparison round trips, fetching nothing', async () => {
    const day = Array.from({ length: 400 }, (_, i) => post(1, i * 200, false))
    const inGroup = day.filter((p) => p.newsgroups.includes(parseGroupName(GROUPS[0])))
    // Each lost post alone in its level-2 bucket (the hash's first byte), but for two of those A lacks, which
    // share one: the answer carries the pair whose hashes XOR to the bucket's difference.
    const bucketOf = (p: SignedArticle) => messageIdHex(p.id).slice(0, 2)
    const twins = inGroup.flatMap((p, i) =>
      inGroup
        .slice(i + 1)
        .filter((q) => bucketOf(q) === bucketOf(p))
        .map((q) => [p, q]),
    )[0]!
    const lost: SignedArticle[] = [...twins]
    for (const p of inGroup) if (lost.length < 10 && !lost.some((q) => bucketOf(q) === bucketOf(p))) lost.push(p)
    const [aLacks, bLacks, shared] = [lost.slice(0, 5), lost.slice(5), inGroup.filter((p) => !lost.includes(p))]
    const a = await side([...bLacks, ...shared], { smallDay: 16, answerIds: 32_768 })
    const b = await side([...aLacks, ...shared], { smallDay: 16, answerIds: 32_768 })
    try {
      await a.peer.dial(b.address, { signal: AbortSignal.timeout(5000) })
      expect(await a.antiEntropy.pull(b.peer.peerId, parseGroupName(GROUPS[0]))).toBe(5)
      // Day fingerprints, then the level-2 ones of the buckets that differ: the five posts came with the answers.
      expect(b.served.requests).toEqual(['digests', 'buckets'])
      expect(b.served.answers.flat().sort()).toEqual(sortedIds(aLacks.map((p) => p.id)))
      expect(sortedIds(await allIds(a))).toEqual(sortedIds([...aLacks, ...bLacks, ...shared].map((p) => p.id)))
      // And the other way: B pulls what only A held.
      expect(await b.antiEntropy.pull(a.peer.peerId, parseGroupName(GROUPS[0]))).toBe(5)
      expect(a.served.requests).toEqual(['digests', 'buckets'])
    } finally {
      for (const node of [a, b]) {
        await node.stop()
        await rm(node.dataDir, { recursive: true, force: true })
      }
    }
  })

  it('leaves both with exactly the union, each having asked for exactly what it lacked', async () => {
    const log = captureStderr({ quiet: (line) => line.includes('serving-') })
    try {
      await fc.assert(
        fc.asyncProperty(sets, async ({ onlyA, onlyB, both, ...options }) => {
          const make = (specs: typeof onlyA) => specs.map((s) => post(s.daysAgo, s.second, s.crosspost))
          const [aOnly, bOnly, shared] = [make(onlyA), make(onlyB), make(both)]
          const a = await side([...aOnly, ...shared], options)
          const b = await side([...bOnly, ...shared], options)
          try {
            await a.peer.dial(b.address, { signal: AbortSignal.timeout(5000) })
            let pulledByA = 0
            let pulledByB = 0
            // What A's comparison found B lacks (posts of the group that only A holds), before B pulls.
            const lackedByB = new Map<string, number>()
            const stop = a.antiEntropy.onProgress((p) => {
              if (p.state === 'done') lackedByB.set(p.group, p.postsTheyLack)
              if (p.state === 'failed') throw new Error(p.error)
            })
            for (const group of GROUPS) pulledByA += await a.antiEntropy.pull(b.peer.peerId, parseGroupName(group))
            stop()
            for (const group of GROUPS) {
              expect(lackedByB.get(group), group).toBe(aOnly.filter((p) => p.newsgroups.includes(parseGroupName(group))).length)
            }
            for (const group of GROUPS) pulledByB += await b.antiEntropy.pull(a.peer.peerId, parseGroupName(group))
            // In sync: a third comparison finds nothing either way.
            for (const group of GROUPS) expect(await a.antiEntropy.pull(b.peer.peerId, parseGroupName(group))).toBe(0)
            for (const p of a.antiEntropy.status()) expect([p.state, p.postsTheyLack, p.postsWanted, p.error]).toEqual(['done', 0, 0, undefined])

            const union = sortedIds([...aOnly, ...bOnly, ...shared].map((p) => p.id))
            expect(sortedIds(await allIds(a))).toEqual(union)
            expect(sortedIds(await allIds(b))).toEqual(union)
            // B served A's fetches and A served B's: each got exactly its own lack (by id or by range), every post once.
            expect(b.served.answers.flat().sort()).toEqual(sortedIds(bOnly.map((p) => p.id)))
            expect(a.served.answers.flat().sort()).toEqual(sortedIds(aOnly.map((p) => p.id)))
            expect([pulledByA, pulledByB]).toEqual([bOnly.length, aOnly.length])
            // Same fingerprints on both, each equal to the XOR of the ids it covers; same shards and heads.
            for (const group of GROUPS) {
              const [da, db] = [await dayDigests(a.store.db, group), await dayDigests(b.store.db, group)]
              expect(da.map((d) => [d.day, d.count, Buffer.from(d.xor).toString('hex')])).toEqual(
                db.map((d) => [d.day, d.count, Buffer.from(d.xor).toString('hex')]),
              )
              for (const d of da) {
                const ids = await idsOfDay(a.store.db, group, d.day)
                expect(Buffer.from(d.xor).equals(xorOfIds(ids))).toBe(true)
                // Each of the day's 256 buckets, kept on insert, equals the XOR of its ids.
                const { counts, xors } = await bucketDigests(a.store.db, group, d.day)
                for (let bucket = 0; bucket < 256; bucket++) {
                  const inBucket = ids.filter((id) => Number.parseInt(id.slice(1, 3), 16) === bucket)
                  expect(counts[bucket]).toBe(inBucket.length)
                  expect(Buffer.from(xors[bucket]!).equals(xorOfIds(inBucket))).toBe(true)
                }
              }
            }
            expect(await shardHeads(a)).toEqual(await shardHeads(b))
          } finally {
            for (const node of [a, b]) {
              await node.stop()
              await rm(node.dataDir, { recursive: true, force: true })
            }
          }
        }),
        { numRuns: 20 },
      )
    } finally {
      log.restore()
    }
  }, 120_000)
})

describe('the day fingerprint', () => {
  it('kept on insert equals the XOR of the stored ids, also when the id hashes are read as Buffer views at an offset', async () => {
    const node = await tempNode({ groups: ['test.one'] })
    try {
      const articles = Array.from({ length: 40 }, (_, i) => post(1 + (i % 3), i * 60, false)).filter((p) => p.newsgroups[0] === 'test.one')
      const results = await node.ingest.ingestChanges(articles.map(canonicalChange), { origin: 'sync' })
      expect(results.every((r) => r.status === 'accepted')).toBe(true)
      const digests = await dayDigests(node.store.db, 'test.one')
      expect(digests.length).toBe(3)

      for (const digest of digests) {
        const ids = await idsOfDay(node.store.db, 'test.one', digest.day)
        expect(digest.count).toBe(ids.length)
        expect(Buffer.from(digest.xor).equals(xorOfIds(ids))).toBe(true)

        // The hashes packed into one larger buffer at an odd offset, as frames off the network arrive, and
        // read back as views of it: the fingerprint must come out the same, into an accumulator that is a
        // view itself.
        const offset = 5
        // A buffer of its own: Buffer.concat may place it in Node's shared pool right after the hashes it was made
        // from, where reading without the offset would find those same hashes by chance.
        const packed = new Uint8Array(
          Buffer.concat([randomBytes(offset), ...ids.map((id) => Buffer.from(messageIdHex(id as MessageId), 'hex')), randomBytes(3)]),
        )
        const accBacking = Buffer.alloc(45)
        const acc = Buffer.from(accBacking.buffer, accBacking.byteOffset + 9, 32)
        const ignoringOffset = Buffer.alloc(32)
        for (let i = 0; i < ids.length; i++) {
          const view = Buffer.from(packed.buffer, packed.byteOffset + offset + 32 * i, 32)
          expect(view.byteOffset).toBeGreaterThan(0)
          xorInto(acc, view)
          // What a reader that takes `view.buffer` without the offset would compute (a known pitfall).
          xorInto(ignoringOffset, new Uint8Array(view.buffer, 32 * i, 32))
        }
        expect(acc.equals(Buffer.from(digest.xor))).toBe(true)
        expect(ignoringOffset.equals(Buffer.from(digest.xor))).toBe(false)
        expect(accBacking.subarray(0, 9).equals(Buffer.alloc(9))).toBe(true)
        expect(accBacking.subarray(41).equals(Buffer.alloc(4))).toBe(true)
      }
    } finally {
      await node.close()
    }
  })
})
