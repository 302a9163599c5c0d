import { mkdtemp } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import {
  authorKeyFromSeed,
  composeArticle,
  messageIdHex,
  parseGroupName,
  replyReferences,
  type AuthorKey,
  type SignedArticle,
} from '../../src/article/index.ts'
import { loadConfig } from '../../src/config.ts'
import { createLogger } from '../../src/logger.ts'
import { startNode } from '../../src/main.ts'
import { createPeer, newPeerKey, type FrameStream, type Peer } from '../../src/node/index.ts'
import { addGroup, openStore, prepareDataDir, putSetting, type Db, type Store } from '../../src/store/index.ts'
import {
  canonicalChange,
  createAntiEntropy,
  createIngest,
  importSeeds,
  MAX_CHANGE_BYTES,
  readSeeds,
  ShardDocuments,
  SYNC_PROTOCOL,
  type AntiEntropy,
  type Ingest,
  type StreamTransport,
} from '../../src/sync/index.ts'
import { readIfCanonical } from '../../src/sync/canonical-change.ts'
import { decodeRequest, isRefusal, readBucketEntries, readDayEntries } from '../../src/sync/sync-frames.ts'
import { expect } from 'vitest'
import type { TestPeer } from '../helpers/network.ts'
import { readStore } from '../network/support.ts'

export const SEEDS_DIR = resolve(import.meta.dirname, '..', '..', 'seeds')
/** The setting main.ts writes once the demo posts are in: a data dir that has it is not seeded again. */
const SEEDS_SETTING = 'seeds_imported'
const DAY_MS = 86_400_000

const authors: { key: AuthorKey; name: string }[] = Array.from({ length: 12 }, (_, i) => ({
  key: authorKeyFromSeed(Buffer.alloc(32, 100 + i)),
  name: `Historian ${i + 1}`,
}))

const FILLER = 'A line of history that makes the post about as long as a real one, so the mirror moves realistic bytes. '.repeat(7)

/**
 * `counts[d]` signed posts of `group` on each of `counts.length` UTC days, the last of them yesterday (so
 * every Date is in the past), in threads of up to ten. Returned in date order, parents before replies.
 */
export function makeHistory(group: string, counts: readonly number[], { tag = 'h' }: { tag?: string } = {}): SignedArticle[] {
  const name = parseGroupName(group)
  const today = Math.floor(Date.now() / DAY_MS) * DAY_MS
  const out: SignedArticle[] = []
  let thread: SignedArticle[] = []
  counts.forEach((count, d) => {
    const dayStart = today - (counts.length - d) * DAY_MS
    for (let i = 0; i < count; i++) {
      if (thread.length >= 10) thread = []
      const author = authors[out.length % authors.length]!
      const parent = thread.length === 0 ? undefined : thread[(out.length * 7) % thread.length]
      // Whole seconds (the Date header has no finer resolution), spread over the day.
      const date = dayStart + Math.floor(((i + 0.5) * DAY_MS) / count / 1000) * 1000
      const article = composeArticle(
        {
          newsgroups: [name],
          subject: parent ? `Re: ${thread[0]!.subject}` : `History ${tag} ${out.length}`,
          from: author.name,
          body: `Post ${out.length} of history ${tag}, day ${d}.\n${FILLER}`,
          references: parent ? replyReferences(parent) : [],
          date,
        },
        author.key,
      )
      thread.push(article)
      out.push(article)
    }
  })
  return out
}

/**
 * A data directory holding `articles` before any node runs on it: the store is written through the real
 * ingest (every post verified, filed into its shards, digests kept), in batches of 500. With `seeds`, the
 * demo content is imported first as a node's first start does, so the node will not import it again.
 */
export async function writeHistory(
  articles: readonly SignedArticle[],
  { dataDir, seeds = true, groups = [] }: { dataDir?: string; seeds?: boolean; groups?: string[] } = {},
): Promise<string> {
  const dir = dataDir ?? (await mkdtemp(join(tmpdir(), 'usenet-mirror-')))
  await prepareDataDir(dir)
  const store = await openStore(join(dir, 'node.sqlite'))
  try {
    const ingest = createIngest({ db: store.db, shards: new ShardDocuments(), log: createLogger('history') })
    if (seeds) {
      await importSeeds(store.db, ingest, await readSeeds(SEEDS_DIR), Date.now())
      await putSetting(store.db, SEEDS_SETTING, new Date().toISOString())
    }
    for (const group of groups) await addGroup(store.db, { name: parseGroupName(group), description: `about ${group}`, createdAt: 0 })
    for (let i = 0; i < articles.length; i += 500) {
      const results = await ingest.ingestChanges(articles.slice(i, i + 500).map(canonicalChange), { origin: 'seed' })
      const refused = results.find((r) => r.status !== 'accepted')
      if (refused) throw new Error(`a history post was not stored: ${JSON.stringify(refused)}`)
    }
  } finally {
    await store.close()
  }
  return dir
}

/** The Message-IDs a node files under a group. */
export function groupIds(node: { dataDir: string }, group: string): Promise<Set<string>> {
  return readStore(
    node,
    async (db) => new Set((await db.selectFrom('postings').select('article_id').where('group_name', '=', group).execute()).map((r) => r.article_id)),
  )
}

export function groupCount(node: { dataDir: string }, group: string): Promise<number> {
  return readStore(node, (db) => countPostings(db, group))
}

export async function countPostings(db: Db, group: string): Promise<number> {
  const row = await db
    .selectFrom('postings')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where('group_name', '=', group)
    .executeTakeFirstOrThrow()
  return Number(row.n)
}

/** The days a set of articles falls on, with how many posts each. */
export function daysOf(articles: readonly SignedArticle[]): Map<string, number> {
  const out = new Map<string, number>()
  for (const a of articles) {
    const day = new Date(a.date).toISOString().slice(0, 10)
    out.set(day, (out.get(day) ?? 0) + 1)
  }
  return out
}

/** The XOR of the Message-ID hashes, recomputed from scratch (what a day digest must equal). */
export function xorOfIds(ids: Iterable<string>): Buffer {
  const acc = Buffer.alloc(32)
  for (const id of ids) {
    const hash = Buffer.from(messageIdHex(id as SignedArticle['id']), 'hex')
    for (let i = 0; i < 32; i++) acc[i]! ^= hash[i]!
  }
  return acc
}

export const sortedIds = (ids: Iterable<string>) => [...ids].sort()

/**
 * What a node's sync server answered with posts: per answer, the Message-IDs of the posts it wrote back (to
 * `changes` and `range` requests, by id or by range, the asker names no ids for days it fetches whole; and
 * the posts a comparison answer carried itself, version 4's `post` entries), and the changes it wrote in all.
 */
export interface ServedLog {
  answers: string[][]
  framesWritten: number
  /** The op of each request it answered, in order (one stream, one round trip, each). */
  requests: string[]
}

/**
 * The peer as the sync code sees it, with a tap on the server side of `/usenet/sync/1`: it reads the
 * first frame of each inbound stream (the request, which the real handler parses again) and reads the post
 * of each non-empty frame the handler writes back to a fetch. The answering is the real code's.
 */
export function tappedTransport(peer: Peer, served: ServedLog): StreamTransport {
  return wrapSyncAnswers(peer, (stream) => {
    let answer: string[] | undefined
    let comparison: 'digests' | 'buckets' | undefined
    const post = (change: Uint8Array) => {
      served.framesWritten++
      answer!.push(readIfCanonical(change)?.article.id ?? '(not a canonical change)')
    }
    const written = (frames: readonly Uint8Array[]) => {
      for (const frame of frames) {
        if (frame.length === 0 || isRefusal(frame)) continue
        if (comparison) {
          const entries = comparison === 'digests' ? readDayEntries(frame) : readBucketEntries(frame)
          for (const e of entries) {
            if (e.kind !== 'post') continue
            if (!answer) {
              answer = []
              served.answers.push(answer)
            }
            post(e.change)
          }
        } else if (answer) post(frame)
      }
    }
    return {
      async read() {
        const frame = await stream.read()
        try {
          const request = decodeRequest(frame)
          served.requests.push(request.op)
          if (request.op === 'changes' || request.op === 'range') {
            answer = []
            served.answers.push(answer)
          } else if (request.op === 'digests' || request.op === 'buckets') comparison = request.op
        } catch {
          // Not a request the tap understands; the handler will say so.
        }
        return frame
      },
      async write(frame) {
        await stream.write(frame)
        written([frame])
      },
      async writeFrames(frames) {
        await stream.writeFrames(frames)
        written(frames)
      },
      close: () => stream.close(),
    }
  })
}

/** A transport whose answers to `/usenet/sync/1` go through `wrap` (each inbound stream wrapped once); all else is `transport`'s. */
export function wrapSyncAnswers(transport: StreamTransport, wrap: (stream: FrameStream) => FrameStream): StreamTransport {
  return {
    open: (peerId, protocol, options) => transport.open(peerId, protocol, options),
    handle: (protocol, handler) => transport.handle(protocol, (stream, from) => handler(protocol === SYNC_PROTOCOL ? wrap(stream) : stream, from)),
  }
}

/**
 * A node reduced to what a neighbour being mirrored needs, from the real parts: its store over an existing
 * data directory, a libp2p peer on 127.0.0.1, ingest, and the real anti-entropy serving `/usenet/sync/1`
 * through `tappedTransport`, so the test sees what it served. It does not pull on its own.
 */
export interface ServingNode {
  readonly dataDir: string
  readonly peer: Peer
  readonly store: Store
  readonly ingest: Ingest
  readonly antiEntropy: AntiEntropy
  readonly address: string
  readonly served: ServedLog
  stop(): Promise<void>
}

export async function startServingNode(
  dataDir: string,
  syncOptions: Parameters<typeof createAntiEntropy>[1] = {},
  { wrap = (t) => t }: { wrap?: (transport: StreamTransport) => StreamTransport } = {},
): Promise<ServingNode> {
  const store = await openStore(join(dataDir, 'node.sqlite'))
  const peer = await createPeer({
    key: await newPeerKey(),
    listen: ['/ip4/127.0.0.1/tcp/0'],
    maxMessageBytes: MAX_CHANGE_BYTES,
    log: createLogger('serving-peer'),
  })
  const ingest = createIngest({ db: store.db, shards: new ShardDocuments(), log: createLogger('serving-ingest') })
  const served: ServedLog = { answers: [], framesWritten: 0, requests: [] }
  const antiEntropy = createAntiEntropy(
    { transport: wrap(tappedTransport(peer, served)), db: store.db, ingest, log: createLogger('serving-sync') },
    syncOptions,
  )
  await antiEntropy.serve()
  const address = `${
    peer
      .multiaddrs()
      .find((a) => a.includes('/tcp/'))!
      .split('/p2p/')[0]
  }/p2p/${peer.peerId}`
  return {
    dataDir,
    peer,
    store,
    ingest,
    antiEntropy,
    address,
    served,
    async stop() {
      await peer.stop()
      await store.close()
    },
  }
}

/**
 * A whole node as `startPeer` (test/helpers/network.ts) makes it, whose periodic anti-entropy runs every
 * `resyncIntervalMs` instead of every five minutes, optionally losing the gossip deliveries `dropGossipDelivery`
 * picks (startNode's test hook).
 */
export async function startResyncingPeer({
  peers = [],
  resyncIntervalMs,
  dropGossipDelivery,
}: {
  peers?: string[]
  resyncIntervalMs: number
  dropGossipDelivery?: (data: Uint8Array) => boolean
}): Promise<TestPeer> {
  const dir = await mkdtemp(join(tmpdir(), 'usenet-peer-'))
  const args = ['--port', '0', '--listen', '/ip4/127.0.0.1/tcp/0', '--data-dir', dir, ...peers.flatMap((p) => ['--peer', p])]
  const node = await startNode(loadConfig(args), createLogger('test-peer'), {
    resyncIntervalMs,
    ...(dropGossipDelivery ? { testOnlyDropGossipDelivery: dropGossipDelivery } : {}),
  })
  const address = node.multiaddrs.find((a) => a.includes('/tcp/'))!
  return { ...node, dataDir: dir, address: address.includes('/p2p/') ? address : `${address}/p2p/${node.peerId}` }
}

/** Connects a node to a peer as its owner does, with the form of the node page; the node dials. */
export async function connectAsOwner(node: TestPeer, address: string): Promise<void> {
  const cookie = (await fetch(node.loginUrl, { redirect: 'manual' })).headers.getSetCookie()[0]!.split(';')[0]!
  const res = await fetch(`${node.url}/node/peers`, {
    method: 'POST',
    headers: { cookie, origin: node.url, 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ address }).toString(),
  })
  const page = await res.text()
  expect(res.status, /Could not connect[^<]*/.exec(page)?.[0]).toBe(200)
}
