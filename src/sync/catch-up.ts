import { isGroupName, type GroupName } from '../article/index.ts'
import type { Logger } from '../logger.ts'
import { changesSince, getGroup, type Db } from '../store/index.ts'
import type { Ingest } from './ingest.ts'

/**
 * A minimal request for what a neighbour missed while it was away: "the changes of group G dated since T".
 * Gossip only carries the live flood; this repairs a restart or a short outage. Mirroring a whole history
 * by range reconciliation is the back-fill protocol's job.
 */
export const CATCH_UP_PROTOCOL = '/usenet/catchup/1'
const VERSION = 1

export interface FrameStream {
  read(): Promise<Uint8Array>
  write(frame: Uint8Array): Promise<void>
  close(): Promise<void>
}

/** What catch-up needs from the network (src/node's Peer has it). */
export interface StreamTransport {
  handle(protocol: string, handler: (stream: FrameStream, from: string) => Promise<void>): Promise<void>
  open(peerId: string, protocol: string, options?: { signal?: AbortSignal }): Promise<FrameStream>
}

export interface CatchUpInit {
  /** Most posts one request returns. */
  maxPosts?: number
  /** A request, with its whole answer, must finish within this many ms. */
  timeoutMs?: number
  /** Ask from this long before our newest post, so clocks a little apart do not leave gaps. */
  marginMs?: number
}

export interface CatchUp {
  /** Answers neighbours' requests. */
  serve(): Promise<void>
  /** Asks one neighbour for what this node is missing in these groups; returns how many posts were new. */
  from(peerId: string, groups: readonly GroupName[]): Promise<number>
}

const utf8 = new TextEncoder()
const END = new Uint8Array(0)

export function createCatchUp(
  { transport, db, ingest, log }: { transport: StreamTransport; db: Db; ingest: Ingest; log: Logger },
  { maxPosts = 5000, timeoutMs = 30_000, marginMs = 10 * 60_000 }: CatchUpInit = {},
): CatchUp {
  async function answer(stream: FrameStream, from: string): Promise<void> {
    const request = parseRequest(await stream.read(), maxPosts)
    if (!request) {
      log.debug(`catch-up request from ${from} is malformed`)
      return
    }
    const group = await getGroup(db, request.group)
    const changes = group?.subscribed ? await changesSince(db, request.group, request.since, request.limit) : []
    for (const change of changes) await stream.write(change)
    await stream.write(END)
  }

  async function ask(peerId: string, group: GroupName): Promise<number> {
    const newest = (await getGroup(db, group))?.last_post_at ?? 0
    const since = Math.max(0, newest - marginMs)
    const signal = AbortSignal.timeout(timeoutMs)
    const stream = await transport.open(peerId, CATCH_UP_PROTOCOL, { signal })
    let added = 0
    try {
      await stream.write(Uint8Array.from([VERSION, ...utf8.encode(JSON.stringify({ group, since, limit: maxPosts }))]))
      let batch: Uint8Array[] = []
      let received = 0
      const store = async () => {
        const results = await ingest.ingestChanges(batch, { origin: 'catch-up', group })
        batch = []
        added += results.filter((r) => r.status === 'accepted').length
        const bad = results.find((r) => r.status === 'rejected')
        if (bad?.status === 'rejected') throw new Error(`sent an invalid post (${bad.problem}): ${bad.reason}`)
      }
      for (;;) {
        if (signal.aborted) throw new Error('took too long')
        const frame = await stream.read()
        if (frame.length === 0) break
        if (++received > maxPosts) throw new Error(`sent more than the ${maxPosts} posts asked for`)
        batch.push(frame)
        if (batch.length >= 200) await store()
      }
      if (batch.length > 0) await store()
    } finally {
      await stream.close().catch(() => undefined)
    }
    return added
  }

  return {
    serve: () => transport.handle(CATCH_UP_PROTOCOL, answer),
    async from(peerId, groups) {
      let added = 0
      for (const group of groups) {
        try {
          added += await ask(peerId, group)
        } catch (err) {
          log.warn(`catching up ${group} from ${peerId} failed: ${(err as Error).message}`)
        }
      }
      if (added > 0) log.info(`caught up ${added} posts from ${peerId}`)
      return added
    },
  }
}

function parseRequest(frame: Uint8Array, maxPosts: number): { group: GroupName; since: number; limit: number } | undefined {
  if (frame[0] !== VERSION || frame.length > 512) return undefined
  let value: unknown
  try {
    value = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(frame.subarray(1)))
  } catch {
    return undefined
  }
  const { group, since, limit } = (value ?? {}) as Record<string, unknown>
  if (typeof group !== 'string' || !isGroupName(group)) return undefined
  if (typeof since !== 'number' || !Number.isSafeInteger(since) || since < 0) return undefined
  if (typeof limit !== 'number' || !Number.isSafeInteger(limit) || limit < 1) return undefined
  return { group, since, limit: Math.min(limit, maxPosts) }
}
