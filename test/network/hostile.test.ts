import * as Automerge from '@automerge/automerge'
import { randomBytes } from 'node:crypto'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { encodeArticle, messageIdHex, signArticle, type SignedArticle } from '../../src/article/index.ts'
import { canonicalChange } from '../../src/sync/index.ts'
import { alice, makeArticle, mallory } from '../helpers/articles.ts'
import { apiPost, eventually, hasArticle, removePeer, startPeer, type TestPeer } from '../helpers/network.ts'
import { articleCount, captureStderr, sleep, startRawPeer, storedMessageIds, type RawPeer } from './support.ts'

/*
 * A peer that breaks the rules: whatever it publishes on a group's topic goes through the receiving node's
 * validator (ingest itself), and nothing invalid may be stored or relayed by any node.
 */

const GROUP = 'misc.test'
let counter = 0

/** A fresh honest post to misc.test, dated now. */
function honest(label: string, group = GROUP): SignedArticle {
  return makeArticle({ group, subject: `${label} ${++counter}`, body: `${label}: ${randomBytes(6).toString('hex')}`, date: Date.now() })
}

/** The change of an article with a second key put beside it: valid Automerge, not the canonical change. */
function withExtraOp(article: SignedArticle): Uint8Array {
  const actor = messageIdHex(article.id).slice(0, 32)
  const doc = Automerge.change(Automerge.init<Record<string, Uint8Array | string>>({ actor }), { time: 0 }, (d) => {
    d[article.id] = article.bytes
    d.extra = 'a second key'
  })
  const change = Automerge.getLastLocalChange(doc)!
  Automerge.free(doc)
  return change
}

const previousLogLevel = process.env.USENET_LOG
let stderr: ReturnType<typeof captureStderr>
const nodes: TestPeer[] = []
const raw: RawPeer[] = []

beforeAll(() => {
  // Rejections are logged at debug level; the loggers read the level when the nodes start.
  process.env.USENET_LOG = 'debug'
  stderr = captureStderr({ quiet: (line) => / debug /.test(line) })
})

afterAll(async () => {
  await Promise.all(raw.map((p) => p.stop().catch(() => undefined)))
  await Promise.all(nodes.map(removePeer))
  stderr.restore()
  if (previousLogLevel === undefined) delete process.env.USENET_LOG
  else process.env.USENET_LOG = previousLogLevel
})

describe('a peer publishing forged and malformed messages', () => {
  it('gets every bad message rejected, none stored on any node, while honest posts still flow A–B–C', async () => {
    const a = await startPeer()
    nodes.push(a)
    const b = await startPeer({ peers: [a.address] })
    nodes.push(b)
    const c = await startPeer({ peers: [b.address] })
    nodes.push(c)
    const attacker = await startRawPeer({ dial: [b.address], groups: [GROUP] })
    raw.push(attacker)
    await sleep(2500)

    // Control: a valid post through the same path reaches all three, so what is missing later was refused.
    const control = honest('control')
    expect(await attacker.publish(GROUP, canonicalChange(control))).toBeGreaterThanOrEqual(1)
    const controlHex = messageIdHex(control.id)
    await eventually(async () => (await Promise.all([a, b, c].map((n) => hasArticle(n, controlHex)))).every(Boolean))
    const before = await Promise.all([a, b, c].map(articleCount))

    const truncatedOf = honest('truncated')
    const extraOf = honest('extra op')
    const tamperedOf = honest('tampered')
    const tampered = encodeArticle({ ...tamperedOf, body: `${tamperedOf.body} (edited after signing)` }, tamperedOf.signature)
    const forgedDraft = honest('forged')
    // Signed by Mallory's key while its Author-Key says Alice.
    const forged = signArticle(forgedDraft, { publicKey: alice.publicKey, privateKey: mallory.privateKey })
    const wrongGroup = honest('wrong group', 'p2p.general')
    const bad: { label: string; data: Uint8Array; id?: string; problem: string }[] = [
      { label: 'garbage', data: randomBytes(300), problem: 'bad-change' },
      { label: 'truncated', data: canonicalChange(truncatedOf).subarray(0, -20), id: truncatedOf.id, problem: 'bad-change' },
      { label: 'extra op', data: withExtraOp(extraOf), id: extraOf.id, problem: 'bad-change' },
      { label: 'tampered', data: canonicalChange(tampered), id: tampered.id, problem: 'bad-signature' },
      { label: 'forged', data: canonicalChange(forged), id: forged.id, problem: 'bad-signature' },
      { label: 'wrong group', data: canonicalChange(wrongGroup), id: wrongGroup.id, problem: 'wrong-group' },
    ]
    expect(forged.authorKey).toBe(alice.publicKey)
    await Promise.all(bad.map((m) => attacker.publish(GROUP, m.data)))

    // Each reached B's validator and was refused for its own reason, and logged once (at debug level).
    const rejections = () => stderr.lines.filter((l) => / debug [a-z-]+: rejected a (message|change)/.test(l))
    await eventually(() => rejections().length >= bad.length, { timeoutMs: 5000 })
    // An honest post from C crosses B to A: B is up and still relays.
    const fromC = await apiPost(c, GROUP, { subject: 'Still flowing', body: 'Posted on C after the attack.' })
    await eventually(() => hasArticle(a, fromC.hex), { timeoutMs: 8000 })
    expect(await hasArticle(b, fromC.hex)).toBe(true)

    expect(rejections()).toHaveLength(bad.length)
    expect(rejections().every((l) => l.includes(` debug gossip: rejected a message from ${attacker.peer.peerId} in ${GROUP} `))).toBe(true)
    const problems = rejections().map((l) => /\(([a-z-]+)\)/.exec(l)?.[1])
    expect(problems.sort()).toEqual(bad.map((m) => m.problem).sort())

    // Nothing bad is stored anywhere; each node holds exactly one more article: C's.
    const after = await Promise.all([a, b, c].map(articleCount))
    expect(after).toEqual(before.map((n) => n + 1))
    for (const [i, node] of [a, b, c].entries()) {
      const ids = await storedMessageIds(node)
      for (const m of bad) if (m.id) expect(ids.has(m.id), `the ${m.label} post is stored on ${'ABC'[i]}`).toBe(false)
    }
  }, 45_000)
})
