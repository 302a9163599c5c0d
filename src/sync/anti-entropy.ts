import { isGroupName, isMessageId, messageIdFromHex, messageIdHex, type GroupName, type MessageId } from '../article/index.ts'
import type { Logger } from '../logger.ts'
import { changesOf, dayDigests, getGroup, idsOfDay, type Db, type DayDigest } from '../store/index.ts'
import type { FrameStream, StreamTransport } from './transport.ts'
import type { Ingest } from './ingest.ts'

/**
 * Set reconciliation between neighbours (`/usenet/sync/1`), so every node that carries a group ends with the
 * same posts whatever gossip lost. Coarse to fine: compare the per-day fingerprints of the group (count and
 * XOR of Message-ID hashes, kept up to date on insert), list the ids of the days that differ, then fetch the
 * missing posts' changes in bulk and store them through ingest, which verifies each like any post from
 * outside. Each side pulls what it lacks; both run it on connect and then periodically.
 */
export const SYNC_PROTOCOL = '/usenet/sync/1'
const VERSION = 1
const MAX_IDS_PER_REQUEST = 500
const ID_BYTES = 32

export interface SyncProgress {
  readonly group: GroupName
  readonly peer: string
  readonly state: 'comparing' | 'fetching' | 'done' | 'failed'
  readonly daysToCheck: number
  readonly daysChecked: number
  readonly postsWanted: number
  readonly postsStored: number
  readonly startedAt: number
  /** When the comparison ended (done or failed). */
  readonly finishedAt?: number
  readonly error?: string
}

export interface AntiEntropy {
  serve(): Promise<void>
  /** Pulls from one neighbour what this node lacks of a group; returns how many posts were new. */
  pull(peerId: string, group: GroupName): Promise<number>
  onProgress(listener: (progress: SyncProgress) => void): () => void
  /** The latest progress of each (group, neighbour) pair: syncing, or how the last comparison ended. */
  status(): SyncProgress[]
  /**
   * Tells a neighbour this node's set of a group has changed (it just pulled posts the neighbour may lack),
   * so the neighbour compares with it soon instead of at its next periodic comparison.
   */
  hint(peerId: string, group: GroupName): Promise<void>
  /** Cancels pending work (hinted pulls). */
  stop(): void
}

type Request =
  | { op: 'days'; group: GroupName }
  | { op: 'ids'; group: GroupName; day: string }
  | { op: 'changes'; group: GroupName; ids: MessageId[] }
  | { op: 'hint'; group: GroupName }

/** A hinted pull waits this long, so several hints about one group become one comparison. */
const HINT_DELAY_MS = 500

const utf8 = new TextEncoder()
const strictUtf8 = new TextDecoder('utf-8', { fatal: true })

export function createAntiEntropy(
  { transport, db, ingest, log }: { transport: StreamTransport; db: Db; ingest: Ingest; log: Logger },
  { timeoutMs = 120_000 }: { timeoutMs?: number } = {},
): AntiEntropy {
  const listeners = new Set<(p: SyncProgress) => void>()
  // At most one pending hinted pull per (neighbour, group): a chatty neighbour cannot make us loop.
  const hinted = new Map<string, NodeJS.Timeout>()
  const latest = new Map<string, SyncProgress>()
  const emit = (p: SyncProgress) => {
    latest.set(`${p.group} ${p.peer}`, p)
    // Bounded: forget the oldest pairs when many neighbours came and went.
    if (latest.size > 1000) latest.delete(latest.keys().next().value!)
    for (const listener of listeners) listener(p)
  }

  async function answer(stream: FrameStream, from: string): Promise<void> {
    const request = parseRequest(await stream.read())
    if (!request) {
      log.debug(`sync request from ${from} is malformed`)
      return
    }
    // Serving is read-only, and only for groups this node carries.
    if (!(await getGroup(db, request.group))?.subscribed) {
      await stream.write(new Uint8Array(0))
      return
    }
    switch (request.op) {
      case 'days': {
        const digests = await dayDigests(db, request.group)
        await stream.write(utf8.encode(JSON.stringify(digests.map((d) => [d.day, d.count, Buffer.from(d.xor).toString('hex')]))))
        return
      }
      case 'ids': {
        const ids = await idsOfDay(db, request.group, request.day)
        await stream.write(Buffer.concat(ids.map((id) => Buffer.from(messageIdHex(id as MessageId), 'hex'))))
        return
      }
      case 'changes': {
        for (const change of await changesOf(db, request.group, request.ids)) await stream.write(change)
        await stream.write(new Uint8Array(0))
        return
      }
      case 'hint': {
        const key = `${request.group} ${from}`
        if (!hinted.has(key)) {
          const timer = setTimeout(() => {
            hinted.delete(key)
            void pull(from, request.group)
          }, HINT_DELAY_MS)
          timer.unref()
          hinted.set(key, timer)
        }
        await stream.write(new Uint8Array(0))
        return
      }
    }
  }

  async function ask(peerId: string, request: Request, signal: AbortSignal): Promise<FrameStream> {
    const stream = await transport.open(peerId, SYNC_PROTOCOL, { signal })
    await stream.write(Uint8Array.from([VERSION, ...utf8.encode(JSON.stringify(request))]))
    return stream
  }

  async function once<T>(peerId: string, request: Request, signal: AbortSignal, read: (frame: Uint8Array) => T): Promise<T> {
    const stream = await ask(peerId, request, signal)
    try {
      return read(await stream.read())
    } finally {
      await stream.close().catch(() => undefined)
    }
  }

  async function pull(peerId: string, group: GroupName): Promise<number> {
    const signal = AbortSignal.timeout(timeoutMs)
    const startedAt = Date.now()
    let progress: SyncProgress = { group, peer: peerId, state: 'comparing', daysToCheck: 0, daysChecked: 0, postsWanted: 0, postsStored: 0, startedAt }
    const update = (change: Partial<SyncProgress>) => {
      progress = { ...progress, ...change }
      emit(progress)
    }
    // Said before the first await, so whoever started the pull sees it running at once.
    update({})
    try {
      const theirs = await once(peerId, { op: 'days', group }, signal, parseDays)
      const mine = new Map((await dayDigests(db, group)).map((d) => [d.day, d]))
      // Newest first, so a group being mirrored is readable while it fills.
      const differing = theirs.filter((d) => !sameDigest(d, mine.get(d.day))).sort((a, b) => (a.day < b.day ? 1 : -1))
      // Until a day's ids are in, the difference of the counts is the best guess of what it lacks.
      const guess = (d: { day: string; count: number }) => Math.max(0, d.count - (mine.get(d.day)?.count ?? 0))
      update({ daysToCheck: differing.length, postsWanted: differing.reduce((sum, d) => sum + guess(d), 0) })
      // The network side: ids of each differing day, then the missing posts in batches.
      async function* batches(): AsyncGenerator<{ wanted: MessageId[]; changes: Uint8Array[] }> {
        for (const day of differing) {
          const theirIds = await once(peerId, { op: 'ids', group, day: day.day }, signal, parseIds)
          const have = new Set(await idsOfDay(db, group, day.day))
          const missing = theirIds.filter((id) => !have.has(id))
          update({
            daysChecked: progress.daysChecked + 1,
            postsWanted: progress.postsWanted - guess(day) + missing.length,
            state: missing.length > 0 ? 'fetching' : progress.state,
          })
          for (let i = 0; i < missing.length; i += MAX_IDS_PER_REQUEST) {
            const wanted = missing.slice(i, i + MAX_IDS_PER_REQUEST)
            yield { wanted, changes: await fetchChanges(peerId, group, wanted, signal) }
          }
        }
      }
      // Pipelined: the next batch is fetched while this one is verified and stored.
      const source = batches()
      let next = source.next()
      try {
        for (;;) {
          const item = await next
          if (item.done) break
          next = source.next()
          next.catch(() => undefined)
          const { wanted, changes } = item.value
          const results = await ingest.ingestChanges(changes, { origin: 'sync', group })
          const bad = results.find((r) => r.status === 'rejected')
          if (bad?.status === 'rejected') throw new Error(`sent an invalid post (${bad.problem}): ${bad.reason}`)
          // Valid posts are worth keeping, but a neighbour that answers with others than we asked for is broken.
          const asked = new Set<string>(wanted)
          if (results.some((r) => r.status !== 'rejected' && !asked.has(r.id))) throw new Error('sent posts it was not asked for')
          update({ postsStored: progress.postsStored + results.filter((r) => r.status === 'accepted').length })
        }
      } finally {
        await next.catch(() => undefined)
        await source.return(undefined)
      }
      update({ state: 'done', finishedAt: Date.now() })
      if (progress.postsStored > 0) log.info(`synced ${progress.postsStored} posts of ${group} from ${peerId} in ${Date.now() - startedAt} ms`)
      return progress.postsStored
    } catch (err) {
      update({ state: 'failed', error: (err as Error).message, finishedAt: Date.now() })
      log.warn(`syncing ${group} with ${peerId} failed: ${(err as Error).message}`)
      return progress.postsStored
    }
  }

  async function fetchChanges(peerId: string, group: GroupName, ids: MessageId[], signal: AbortSignal): Promise<Uint8Array[]> {
    const stream = await ask(peerId, { op: 'changes', group, ids }, signal)
    const changes: Uint8Array[] = []
    try {
      for (;;) {
        const frame = await stream.read()
        if (frame.length === 0) break
        if (changes.length >= ids.length) throw new Error('sent more posts than asked for')
        changes.push(frame)
      }
    } finally {
      await stream.close().catch(() => undefined)
    }
    return changes
  }

  return {
    serve: () => transport.handle(SYNC_PROTOCOL, answer),
    pull,
    onProgress(listener) {
      listeners.add(listener)
      return () => listeners.delete(listener)
    },
    status: () => [...latest.values()],
    async hint(peerId, group) {
      const stream = await transport.open(peerId, SYNC_PROTOCOL, { signal: AbortSignal.timeout(10_000) })
      try {
        await stream.write(Uint8Array.from([VERSION, ...utf8.encode(JSON.stringify({ op: 'hint', group }))]))
        await stream.read()
      } finally {
        await stream.close().catch(() => undefined)
      }
    },
    stop() {
      for (const timer of hinted.values()) clearTimeout(timer)
      hinted.clear()
    },
  }
}

function sameDigest(a: { count: number; xor: Uint8Array }, b: DayDigest | undefined): boolean {
  return b !== undefined && a.count === b.count && Buffer.from(a.xor).equals(Buffer.from(b.xor))
}

function parseDays(frame: Uint8Array): { day: string; count: number; xor: Uint8Array }[] {
  if (frame.length === 0) return []
  const value: unknown = JSON.parse(strictUtf8.decode(frame))
  if (!Array.isArray(value) || value.length > 100_000) throw new Error('sent a malformed list of days')
  return value.map((entry) => {
    if (!Array.isArray(entry) || entry.length !== 3) throw new Error('sent a malformed day digest')
    const [day, count, xor] = entry as unknown[]
    if (typeof day !== 'string' || !/^\d{4}-\d{2}-\d{2}$/.test(day)) throw new Error('sent a malformed day')
    if (typeof count !== 'number' || !Number.isSafeInteger(count) || count < 0) throw new Error('sent a malformed count')
    if (typeof xor !== 'string' || !/^[0-9a-f]{64}$/.test(xor)) throw new Error('sent a malformed fingerprint')
    return { day, count, xor: Buffer.from(xor, 'hex') }
  })
}

function parseIds(frame: Uint8Array): MessageId[] {
  if (frame.length % ID_BYTES !== 0) throw new Error('sent a malformed list of ids')
  const ids: MessageId[] = []
  for (let i = 0; i < frame.length; i += ID_BYTES) ids.push(messageIdFromHex(Buffer.from(frame.subarray(i, i + ID_BYTES)).toString('hex')))
  return ids
}

function parseRequest(frame: Uint8Array): Request | undefined {
  if (frame[0] !== VERSION || frame.length > 64 * 1024) return undefined
  let value: unknown
  try {
    value = JSON.parse(strictUtf8.decode(frame.subarray(1)))
  } catch {
    return undefined
  }
  const { op, group, day, ids } = (value ?? {}) as Record<string, unknown>
  if (typeof group !== 'string' || !isGroupName(group)) return undefined
  if (op === 'days' || op === 'hint') return { op, group }
  if (op === 'ids' && typeof day === 'string' && /^\d{4}-\d{2}-\d{2}$/.test(day)) return { op, group, day }
  if (op === 'changes' && Array.isArray(ids) && ids.length <= MAX_IDS_PER_REQUEST && ids.every((id) => typeof id === 'string' && isMessageId(id))) {
    return { op, group, ids: ids as MessageId[] }
  }
  return undefined
}
