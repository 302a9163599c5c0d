import { randomBytes } from 'node:crypto'
import * as Automerge from '@automerge/automerge'
import { afterAll, describe, expect, it } from 'vitest'
import { encodeArticle, messageIdHex, type SignedArticle } from '../../src/article/index.ts'
import { createLogger } from '../../src/logger.ts'
import { createPeer, newPeerKey, type Peer } from '../../src/node/index.ts'
import { canonicalChange, MAX_CHANGE_BYTES, SYNC_PROTOCOL } from '../../src/sync/index.ts'
import { dayNumber, decodeRequest, FrameWriter, type SyncRequest, writeDayEntry } from '../../src/sync/sync-frames.ts'
import { makeArticle, mallory } from '../helpers/articles.ts'
import { apiPost, eventually, removePeer, startPeer, type TestPeer } from '../helpers/network.ts'
import { captureStderr, shardHeads, storedMessageIds } from '../network/support.ts'
import { connectAsOwner } from './support.ts'

/*
 * A neighbour that lies in `/usenet/sync/1`: it claims a day of posts the node lacks, then answers the
 * node's request for them with forged changes, or with more than was asked, or sends a forged or misplaced
 * post with its comparison answer. The node must store none of
 * it, say which neighbour lied, stay up, and still sync correctly with an honest neighbour afterwards.
 */

const GROUP = 'misc.test'
const DAY_MS = 86_400_000

const nodes: TestPeer[] = []
const fakes: Peer[] = []
afterAll(async () => {
  await Promise.all(fakes.map((f) => f.stop().catch(() => undefined)))
  await Promise.all(nodes.map(removePeer))
})

/** A date ten days ago, inside a day the node has no posts of. */
const claimedDate = Math.floor(Date.now() / DAY_MS) * DAY_MS - 10 * DAY_MS + 3600_000
const claimedDay = new Date(claimedDate).toISOString().slice(0, 10)

interface Lie {
  /** The Message-IDs the fake lists for the claimed day. */
  claimed: string[]
  /**
   * Offers the day whole (its bucket counts, as to a node that holds none of it) instead of listing the ids:
   * the node then asks for the day by range.
   */
  whole?: boolean
  /** Sends the first of `answer` with its comparison answer (a `post` entry) instead of listing ids: nothing is fetched. */
  inline?: boolean
  /** The frames it answers the `changes` (or `range`) request with (an empty frame follows). */
  answer: Uint8Array[]
  /** Ids that must not end up stored. */
  forged: string[]
  /** What the node's warning names as the reason. */
  reason: RegExp
}

/** The change of a valid post built outside the canonical rule (another actor): same post, other bytes. */
function nonCanonicalChange(article: SignedArticle): Uint8Array {
  const doc = Automerge.change(Automerge.init<Record<string, Uint8Array>>({ actor: randomBytes(16).toString('hex') }), { time: 0 }, (d) => {
    d[article.id] = article.bytes
  })
  const change = Automerge.getLastLocalChange(doc)!
  Automerge.free(doc)
  return change
}

const original = makeArticle({ group: GROUP, subject: 'An honest post', body: 'Nothing to see here.', date: claimedDate })
/** The same article with its body changed after signing: canonical bytes, a signature that does not match. */
const tampered = encodeArticle({ ...original, body: 'Send your coins to mallory.' }, original.signature)
const otherGroup = makeArticle({ group: 'p2p.general', subject: 'Posted elsewhere', body: 'This post is not in misc.test.', date: claimedDate, key: mallory })
const asked = makeArticle({ group: GROUP, subject: 'Asked for', body: 'The node asked for this one.', date: claimedDate + 1000 })
const unasked = makeArticle({ group: GROUP, subject: 'Not asked for', body: 'The node never asked for this one.', date: claimedDate + 2000, key: mallory })
const reframed = makeArticle({ group: GROUP, subject: 'Reframed', body: 'A valid post in a change that is not its canonical one.', date: claimedDate + 3000 })
const garbageId = `<${randomBytes(32).toString('hex')}@usenet-p2p>`
const otherDay = makeArticle({ group: GROUP, subject: 'Another day', body: 'Dated three days before the day it is sent for.', date: claimedDate - 3 * DAY_MS })

const LIES: Record<string, Lie> = {
  'a canonical change of a tampered article': {
    claimed: [tampered.id],
    answer: [canonicalChange(tampered)],
    forged: [tampered.id, original.id],
    reason: /bad-signature/,
  },
  garbage: { claimed: [garbageId], answer: [randomBytes(700)], forged: [garbageId], reason: /invalid post/ },
  'a valid post of another group': { claimed: [otherGroup.id], answer: [canonicalChange(otherGroup)], forged: [otherGroup.id], reason: /wrong-group/ },
  'a valid post in a non-canonical change': { claimed: [reframed.id], answer: [nonCanonicalChange(reframed)], forged: [reframed.id], reason: /invalid post/ },
  'more changes than asked for': {
    claimed: [asked.id],
    answer: [canonicalChange(asked), canonicalChange(unasked)],
    forged: [unasked.id],
    reason: /more posts than asked for/,
  },
  'a day offered whole, then a tampered post in its range': {
    claimed: [tampered.id],
    whole: true,
    answer: [canonicalChange(tampered)],
    forged: [tampered.id, original.id],
    reason: /bad-signature/,
  },
  'a tampered post sent with the comparison': {
    claimed: [tampered.id],
    inline: true,
    answer: [canonicalChange(tampered)],
    forged: [tampered.id, original.id],
    reason: /bad-signature/,
  },
  'a post of another day sent with the comparison': {
    claimed: [otherDay.id],
    inline: true,
    answer: [canonicalChange(otherDay)],
    forged: [otherDay.id],
    reason: /another day or bucket than its answer named/,
  },
  'a day offered whole, then endless posts in its range': {
    claimed: [asked.id],
    whole: true,
    // Far more than the one post it counted: the node stops reading before storing any of it.
    answer: Array.from({ length: 200 }, () => canonicalChange(asked)),
    forged: [asked.id],
    reason: /more posts than it said it holds/,
  },
}

/** What the node asks a liar for: ids, or the parts of a range (day and buckets). */
function askedOf(request: SyncRequest): string[] {
  if (request.op === 'changes') return [...request.ids]
  if (request.op === 'range') return request.parts.map((p) => `range ${p.day} ${p.first}-${p.last}`)
  return []
}

/** The first byte of a post's hash: its level-2 bucket. */
const bucketOf = (id: string) => Number.parseInt(messageIdHex(id as SignedArticle['id']).slice(0, 2), 16)

/**
 * A peer that speaks `/usenet/sync/1` and lies: for GROUP it claims one day holding `lie.claimed`, whatever
 * the node has; every other group it says it has nothing of. Records the `changes` requests it gets.
 */
async function startLiar(lie: Lie): Promise<{ peer: Peer; asked: string[][] }> {
  const peer = await createPeer({ key: await newPeerKey(), listen: ['/ip4/127.0.0.1/tcp/0'], maxMessageBytes: MAX_CHANGE_BYTES, log: createLogger('liar') })
  fakes.push(peer)
  const asked: string[][] = []
  await peer.handle(SYNC_PROTOCOL, async (stream) => {
    const request = decodeRequest(await stream.read())
    if (request.op === 'digests') {
      // The node has nothing of the claimed day: the liar lists its ids, or offers it whole.
      const w = new FrameWriter()
      if (request.group === GROUP && lie.inline) {
        writeDayEntry(w, { kind: 'post', day: dayNumber(claimedDay), change: lie.answer[0]! })
      } else if (request.group === GROUP && lie.whole) {
        const counts = new Array<number>(256).fill(0)
        for (const id of lie.claimed) counts[bucketOf(id)]!++
        writeDayEntry(w, { kind: 'whole', day: dayNumber(claimedDay), counts })
      } else if (request.group === GROUP) {
        writeDayEntry(w, { kind: 'ids', day: dayNumber(claimedDay), ids: lie.claimed.map((id) => Buffer.from(messageIdHex(id as SignedArticle['id']), 'hex')) })
      }
      if (w.length > 0) await stream.write(w.take())
      await stream.write(new Uint8Array(0))
    } else if (request.op === 'changes' || request.op === 'range') {
      asked.push(askedOf(request))
      for (const change of lie.answer) await stream.write(change)
      await stream.write(new Uint8Array(0))
    } else {
      await stream.write(new Uint8Array(0))
    }
  })
  return { peer, asked }
}

describe('a neighbour that lies in the sync protocol', () => {
  it('is named in the log, nothing it forged is stored, and the node still syncs with an honest neighbour', async () => {
    const node = await startPeer()
    nodes.push(node)
    const before = await storedMessageIds(node)
    const warnings: string[] = []

    for (const [name, lie] of Object.entries(LIES)) {
      const log = captureStderr({ quiet: () => true })
      try {
        const liar = await startLiar(lie)
        // The node compares its groups with every neighbour it connects to: its owner adds the liar (the node
        // dials, since libp2p refuses more than five connections a second from one host, and all are 127.0.0.1).
        await connectAsOwner(node, `${liar.peer.multiaddrs()[0]!.split('/p2p/')[0]}/p2p/${liar.peer.peerId}`)
        const warning = () => log.lines.find((l) => l.includes(`syncing ${GROUP} with ${liar.peer.peerId} failed`))
        await eventually(() => warning() !== undefined, { timeoutMs: 10_000 })
        // The node took up the claim and asked for exactly the posts it lacked: by id, or the whole day (one range).
        // (Nothing, when the post came with the comparison.)
        expect(liar.asked, name).toEqual(lie.inline ? [] : [lie.whole ? [`range ${dayNumber(claimedDay)} 0-255`] : lie.claimed])
        expect(warning(), name).toMatch(lie.reason)
        warnings.push(`${name}: ${warning()!.replace(/^.*failed: /, '')}`)
        await liar.peer.stop()
      } finally {
        log.restore()
      }
      const stored = await storedMessageIds(node)
      for (const id of lie.forged) expect(stored.has(id), `${name}: ${id}`).toBe(false)
      expect([...stored].sort(), name).toEqual([...before].sort())
      // Still up: its API answers.
      const res = await fetch(`${node.url}/api/groups`)
      await res.body?.cancel()
      expect(res.status, name).toBe(200)
    }

    console.log(`lying neighbour: the node's warnings:\n  ${warnings.join('\n  ')}`)

    // An honest neighbour with posts the node lacks: once connected, the node ends with exactly its posts.
    const honest = await startPeer()
    nodes.push(honest)
    const posted: string[] = []
    for (let i = 0; i < 20; i++) posted.push((await apiPost(honest, GROUP, { subject: `Honest ${i}`, body: `Honest post ${i}.` })).id)
    await connectAsOwner(node, honest.address)
    await eventually(async () => {
      const ids = await storedMessageIds(node)
      return posted.every((id) => ids.has(id))
    })
    expect([...(await storedMessageIds(node))].sort()).toEqual([...(await storedMessageIds(honest))].sort())
    expect(await shardHeads(node)).toEqual(await shardHeads(honest))
  }, 60_000)
})
