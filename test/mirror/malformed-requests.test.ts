import fc from 'fast-check'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { parseGroupName } from '../../src/article/index.ts'
import type { Logger } from '../../src/logger.ts'
import { createLogger } from '../../src/logger.ts'
import { createPeer, newPeerKey, type Peer } from '../../src/node/index.ts'
import { dayDigests, hashOf, idsOfDay, xorInto } from '../../src/store/index.ts'
import { readIfCanonical } from '../../src/sync/canonical-change.ts'
import { canonicalChange, createAntiEntropy, MAX_CHANGE_BYTES, SYNC_PROTOCOL } from '../../src/sync/index.ts'
import {
  dayNumber,
  decodeRequest,
  encodeRequest,
  FrameWriter,
  MalformedFrameError,
  readBucketEntries,
  readDayEntries,
  REFUSAL,
  type SyncRequest,
  writeBucketEntry,
  writeDayEntry,
} from '../../src/sync/sync-frames.ts'
import { tempNode, type TempNode } from '../helpers/temp-store.ts'
import { makeHistory } from './support.ts'

/*
 * The frames of `/usenet/sync/1` (version 4, and 2-3 from older askers) from a neighbour are untrusted: every field is checked, and a request that
 * is out of format or over a limit closes its stream with one debug line, without an answer, a crash or a
 * write. The node keeps answering good requests.
 */

const GROUP = parseGroupName('test.one')
const xor = new Uint8Array(16).fill(7)
const group = new TextEncoder().encode(GROUP)
/** The header of a request of `op`: version 2 (unless said), op, group. */
const header = (op: number, version = 2) => new FrameWriter().u8(version).u8(op).u8(group.length).bytes(group)

const MALFORMED: Record<string, Uint8Array> = {
  'an empty frame': new Uint8Array(0),
  'the JSON of version 1': new Uint8Array([1, ...new TextEncoder().encode(JSON.stringify({ op: 'days', group: GROUP }))]),
  'an unknown op': header(9).take(),
  'version 5': header(1, 5).varint(0).varint(30_000).varint(0).take(),
  'a range in a version 2 request': header(5).varint(1).varint(20_000).u8(0).u8(255).take(),
  'range: no part': header(5, 3).varint(0).take(),
  'range: more parts than allowed': header(5, 3).varint(65).take(),
  'range: fewer parts than announced': header(5, 3).varint(2).varint(20_000).u8(0).u8(255).take(),
  'range: a last bucket before the first': header(5, 3).varint(1).varint(20_000).u8(9).u8(8).take(),
  'range: a day past the largest': header(5, 3)
    .varint(1)
    .varint(2 ** 22)
    .u8(0)
    .u8(1)
    .take(),
  'range: bytes after the parts': header(5, 3).varint(1).varint(20_000).u8(0).u8(1).u8(0).take(),
  'op 0': header(0).take(),
  'a group name running past the frame': new FrameWriter().u8(2).u8(1).u8(200).bytes(group).take(),
  'an invalid group name': new FrameWriter().u8(2).u8(4).u8(9).bytes(new TextEncoder().encode('Bad Group')).take(),
  'digests: to before from': header(1).varint(20_000).varint(19_000).varint(0).take(),
  'digests: a day past the largest': header(1)
    .varint(0)
    .varint(2 ** 22)
    .varint(0)
    .take(),
  'digests: more days than allowed': header(1)
    .varint(0)
    .varint(2 ** 20)
    .varint(5000)
    .take(),
  'digests: a repeated day': header(1).varint(0).varint(30_000).varint(2).varint(20_000).varint(3).bytes(xor).varint(0).varint(3).bytes(xor).take(),
  'digests: a day out of its range': header(1).varint(0).varint(100).varint(1).varint(101).varint(3).bytes(xor).take(),
  'digests: an empty day': header(1).varint(0).varint(30_000).varint(1).varint(20_000).varint(0).take(),
  'digests: a cut fingerprint': header(1).varint(0).varint(30_000).varint(1).varint(20_000).varint(3).bytes(xor.subarray(0, 9)).take(),
  'digests: fewer days than announced': header(1).varint(0).varint(30_000).varint(3).varint(20_000).varint(3).bytes(xor).take(),
  'digests: bytes after the days': header(1).varint(0).varint(30_000).varint(0).u8(0).take(),
  'digests: a varint that is not minimal': header(1).u8(0x80).u8(0).varint(30_000).varint(0).take(),
  'digests: a varint of six bytes': header(1)
    .bytes(new Uint8Array([0xff, 0xff, 0xff, 0xff, 0xff, 0x01]))
    .take(),
  'buckets: no bucket of a day': header(2).varint(1).varint(20_000).u8(0).u8(0).take(),
  'buckets: a repeated day': (() => {
    const w = header(2).varint(2)
    for (let d = 0; d < 2; d++) {
      w.varint(20_000).u8(1).u8(0)
      for (let i = 0; i < 16; i++) w.varint(0)
    }
    return w.take()
  })(),
  'buckets: more than 256 level-1 buckets': (() => {
    const w = header(2).varint(17)
    for (let d = 0; d < 17; d++) {
      w.varint(20_000 + d)
        .u8(0xff)
        .u8(0xff)
      for (let i = 0; i < 256; i++) w.varint(0)
    }
    return w.take()
  })(),
  'buckets: more than 64 days': header(2).varint(65).take(),
  'buckets: fewer level-2 digests than the mask says': (() => {
    const w = header(2).varint(1).varint(20_000).u8(3).u8(0)
    for (let i = 0; i < 20; i++) w.varint(0)
    return w.take()
  })(),
  'changes: more than 500 ids': header(3).varint(501).take(),
  'changes: a cut id': header(3).varint(1).bytes(new Uint8Array(31)).take(),
  'hint: bytes after the group': header(4).u8(0).take(),
}

describe('sync frames', () => {
  it('decode what they encode, for every op', () => {
    const requests: SyncRequest[] = [
      {
        op: 'digests',
        group: GROUP,
        from: 0,
        to: 2 ** 21,
        days: [
          { day: 20_000, count: 3, xor },
          { day: 20_410, count: 100_000, xor },
        ],
      },
      {
        op: 'buckets',
        group: GROUP,
        days: [
          {
            day: 20_000,
            mask: 0b1000_0000_0000_0001,
            digests: Array.from({ length: 32 }, (_, i) => ({ count: i % 3, xor: i % 3 ? xor : new Uint8Array(16) })),
          },
        ],
      },
      { op: 'changes', group: GROUP, ids: makeHistory(GROUP, [3]).map((a) => a.id) },
      { op: 'hint', group: GROUP },
      {
        op: 'range',
        group: GROUP,
        parts: [
          { day: 20_410, first: 16, last: 47 },
          { day: 20_409, first: 0, last: 255 },
        ],
      },
    ]
    // Buffers turn into { type, data } before a replacer sees them: bytes of either kind become hex.
    const plain = (v: unknown) =>
      JSON.stringify(v, (_, x) => (x instanceof Uint8Array ? Buffer.from(x).toString('hex') : x?.type === 'Buffer' ? Buffer.from(x.data).toString('hex') : x))
    for (const request of requests) expect(plain(decodeRequest(encodeRequest(request)))).toEqual(plain(request))
  })

  it('carry a post in a comparison answer, and refuse one that is empty, longer than a change may be, or cut', () => {
    const change = canonicalChange(makeHistory(GROUP, [1])[0]!)
    const day = new FrameWriter()
    writeDayEntry(day, { kind: 'post', day: 20_000, change })
    const bucket = new FrameWriter()
    writeBucketEntry(bucket, { kind: 'post', day: 20_000, bucket: 7, change })
    expect(readDayEntries(day.take())).toEqual([{ kind: 'post', day: 20_000, change }])
    expect(readBucketEntries(bucket.take())).toEqual([{ kind: 'post', day: 20_000, bucket: 7, change }])
    const POST = 6
    const bad = {
      empty: new FrameWriter().u8(POST).varint(20_000).varint(0).take(),
      'too long': new FrameWriter()
        .u8(POST)
        .varint(20_000)
        .varint(MAX_CHANGE_BYTES + 1)
        .bytes(new Uint8Array(MAX_CHANGE_BYTES + 1))
        .take(),
      cut: new FrameWriter().u8(POST).varint(20_000).varint(change.length).bytes(change.subarray(1)).take(),
    }
    for (const [name, frame] of Object.entries(bad)) expect(() => readDayEntries(frame), name).toThrow(MalformedFrameError)
  })

  it('refuse every malformed request with MalformedFrameError', () => {
    for (const [name, frame] of Object.entries(MALFORMED)) expect(() => decodeRequest(frame), name).toThrow(MalformedFrameError)
  })

  it('throw nothing but MalformedFrameError on arbitrary bytes, as requests or as answers', () => {
    const onlyMalformed = (read: () => unknown) => {
      try {
        read()
      } catch (err) {
        if (!(err instanceof MalformedFrameError)) throw err
      }
    }
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 600 }), fc.integer({ min: 1, max: 4 }), (bytes, op) => {
        onlyMalformed(() => decodeRequest(bytes))
        onlyMalformed(() => decodeRequest(Uint8Array.from([...header(op).take(), ...bytes])))
        onlyMalformed(() => readDayEntries(bytes))
        onlyMalformed(() => readBucketEntries(bytes))
      }),
      { numRuns: 2000 },
    )
  })
})

describe('a node served malformed sync requests', () => {
  let node: TempNode
  let server: Peer
  let client: Peer
  const lines: string[] = []
  const log: Logger = { ...createLogger('sync'), debug: (m) => lines.push(m) }

  beforeAll(async () => {
    node = await tempNode({ groups: [GROUP] })
    const results = await node.ingest.ingestChanges(makeHistory(GROUP, [20, 30]).map(canonicalChange), { origin: 'sync' })
    expect(results.every((r) => r.status === 'accepted')).toBe(true)
    const peerLog = createLogger('malformed-test-peer')
    server = await createPeer({ key: await newPeerKey(), listen: ['/ip4/127.0.0.1/tcp/0'], maxMessageBytes: MAX_CHANGE_BYTES, log: peerLog })
    client = await createPeer({ key: await newPeerKey(), listen: ['/ip4/127.0.0.1/tcp/0'], maxMessageBytes: MAX_CHANGE_BYTES, log: peerLog })
    await createAntiEntropy({ transport: server, db: node.store.db, ingest: node.ingest, log }).serve()
    const address = server.multiaddrs().find((a) => a.includes('/tcp/'))!
    await client.dial(address.includes('/p2p/') ? address : `${address}/p2p/${server.peerId}`, { signal: AbortSignal.timeout(5000) })
  })
  afterAll(async () => {
    await Promise.all([client?.stop(), server?.stop()])
    await node?.close()
  })

  /** Sends one frame on a fresh stream; the frames of the answer up to the empty one, or 'closed'. */
  async function send(frame: Uint8Array): Promise<Uint8Array[] | 'closed'> {
    const stream = await client.open(server.peerId, SYNC_PROTOCOL, { signal: AbortSignal.timeout(5000) })
    try {
      await stream.write(frame)
      const frames: Uint8Array[] = []
      for (;;) {
        const answer = await stream.read()
        if (answer.length === 0) return frames
        frames.push(answer)
      }
    } catch {
      return 'closed'
    } finally {
      await stream.close().catch(() => undefined)
    }
  }

  it('closes each stream without an answer, logs it once, stores nothing, and still answers good requests', async () => {
    const before = await dayDigests(node.store.db, GROUP)
    for (const [name, frame] of Object.entries(MALFORMED)) {
      const logged = lines.length
      expect(await send(frame), name).toBe('closed')
      expect(lines.slice(logged), name).toHaveLength(1)
      expect(lines.at(-1), name).toMatch(/sync request from .* is malformed/)
    }
    expect(await dayDigests(node.store.db, GROUP)).toEqual(before)

    // A good request on the same connection: this node has two days, the asker none, so both are offered
    // whole, as bucket counts, to fetch by range.
    const request = encodeRequest({ op: 'digests', group: GROUP, from: 0, to: 2 ** 21, days: [] })
    const answer = await send(request)
    expect(answer).not.toBe('closed')
    const newestFirst = (kind: string) => before.map((d) => [kind, dayNumber(d.day), d.count]).sort((a, b) => (b[1] as number) - (a[1] as number))
    const entries = (answer as Uint8Array[]).flatMap(readDayEntries)
    expect(entries.map((e) => [e.kind, e.day, e.kind === 'whole' ? e.counts.reduce((n, c) => n + c, 0) : 0])).toEqual(newestFirst('whole'))
    // An asker of version 2 knows no whole days: it gets the ids.
    const older = Uint8Array.from(request)
    older[0] = 2
    const olderEntries = ((await send(older)) as Uint8Array[]).flatMap(readDayEntries)
    expect(olderEntries.map((e) => [e.kind, e.day, e.kind === 'ids' ? e.ids.length : 0])).toEqual(newestFirst('ids'))
  })

  it('refuses a neighbour that asks for the whole history too often, saying so to an asker of version 4', async () => {
    // A neighbour of its own: the node counts whole-history comparisons per neighbour and group.
    const asker = await createPeer({ key: await newPeerKey(), listen: ['/ip4/127.0.0.1/tcp/0'], maxMessageBytes: MAX_CHANGE_BYTES, log: createLogger('asker') })
    try {
      const address = server.multiaddrs().find((a) => a.includes('/tcp/'))!
      await asker.dial(address.includes('/p2p/') ? address : `${address}/p2p/${server.peerId}`, { signal: AbortSignal.timeout(5000) })
      const whole = encodeRequest({ op: 'digests', group: GROUP, from: 0, to: 2 ** 21, days: [] })
      const firstFrame = async (request: Uint8Array): Promise<Uint8Array | 'closed'> => {
        const stream = await asker.open(server.peerId, SYNC_PROTOCOL, { signal: AbortSignal.timeout(5000) })
        try {
          await stream.write(request)
          return await stream.read()
        } catch {
          return 'closed'
        } finally {
          await stream.close().catch(() => undefined)
        }
      }
      const answers: (Uint8Array | 'closed')[] = []
      for (let i = 0; i < 7; i++) answers.push(await firstFrame(whole))
      // Six are answered (two whole days), the seventh refused in one frame; an asker of version 3 gets its stream closed.
      for (const answer of answers.slice(0, 6)) expect(typeof answer !== 'string' && readDayEntries(answer).map((e) => e.kind)).toEqual(['whole', 'whole'])
      expect(Buffer.from(answers[6] as Uint8Array)).toEqual(Buffer.from(REFUSAL))
      const older = Uint8Array.from(whole)
      older[0] = 3
      expect(await firstFrame(older)).toBe('closed')
    } finally {
      await asker.stop()
    }
  })

  it('sends the one post an asker lacks of a day with the answer, and only its id to an asker of version 3', async () => {
    const [newest] = [...(await dayDigests(node.store.db, GROUP))].sort((a, b) => b.day.localeCompare(a.day))
    const ids = await idsOfDay(node.store.db, GROUP, newest!.day)
    const lacked = ids[3]!
    // The asker's fingerprint of the day: every post but `lacked`.
    const theirXor = Buffer.from(newest!.xor)
    xorInto(theirXor, hashOf(lacked))
    const request = encodeRequest({
      op: 'digests',
      group: GROUP,
      from: 0,
      to: 2 ** 21,
      days: [{ day: dayNumber(newest!.day), count: newest!.count - 1, xor: theirXor.subarray(0, 16) }],
    })
    const entries = ((await send(request)) as Uint8Array[]).flatMap(readDayEntries).filter((e) => e.day === dayNumber(newest!.day))
    expect(entries.map((e) => e.kind)).toEqual(['post'])
    expect(entries[0]!.kind === 'post' && readIfCanonical(entries[0]!.change)?.article.id).toBe(lacked)
    const older = Uint8Array.from(request)
    older[0] = 3
    const olderEntries = ((await send(older)) as Uint8Array[]).flatMap(readDayEntries).filter((e) => e.day === dayNumber(newest!.day))
    expect(olderEntries).toEqual([{ kind: 'one', day: dayNumber(newest!.day), id: hashOf(lacked) }])
  })
})
