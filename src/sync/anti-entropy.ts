import { type GroupName, type MessageId, messageIdFromHex } from '../article/index.ts'
import type { Logger } from '../logger.ts'
import {
  bucketDigests,
  bucketHex,
  bucketOfId,
  changesInBuckets,
  changesOf,
  dayDigests,
  getGroup,
  hashOf,
  idsOfDay,
  idsWithPrefix,
  xorInto,
  type Db,
} from '../store/index.ts'
import { type FetchRange, FetchQueue, planRanges, RangeQueue } from './fetch-queue.ts'
import { type InlinePost, inlineBudget, pairWithXor, whereItSaid } from './inline-posts.ts'
import { type Ingest, type IngestResult, MAX_CHANGES_PER_COMMIT } from './ingest.ts'
import { PeerVersions } from './peer-versions.ts'
import {
  type BucketEntry,
  type DayEntry,
  type Digest,
  dayNumber,
  dayString,
  encodeRequest,
  FrameWriter,
  isRefusal,
  MalformedFrameError,
  MAX_BUCKET_DAYS,
  MAX_DAY,
  MAX_IDS_PER_ENTRY,
  MAX_IDS_PER_REQUEST,
  MAX_INLINE_POSTS,
  MAX_RANGE_POSTS,
  MAX_LEVEL1_BUCKETS,
  MAX_REQUEST_DAYS,
  readBucketEntries,
  readDayEntries,
  readRequest,
  REFUSAL,
  sameDigest,
  type SyncRequest,
  writeBucketEntry,
  writeDayEntry,
  XOR_BYTES,
  ZERO_XOR,
} from './sync-frames.ts'
import type { FrameStream, StreamTransport } from './transport.ts'

/**
 * Set reconciliation between neighbours (`/usenet/sync/1`, frames in `sync-frames.ts`), so every node that
 * carries a group ends with the same posts whatever gossip lost. Range fingerprints (count and XOR of the
 * Message-ID hashes, kept up to date on insert) coarse to fine, in two round trips at most:
 *
 * 1. `digests`: the asker sends its day fingerprints; the answerer answers, per day that differs, its 16
 *    level-1 fingerprints (first hex digit of the hash), or the day's ids when the asker has none of it or the
 *    day is small, or the one id the asker lacks when the difference is exactly that.
 * 2. `buckets`: for each level-1 bucket that still differs, the asker sends its 16 level-2 fingerprints (first
 *    byte); the answerer returns its ids of each level-2 bucket that differs (or the one the asker lacks).
 *
 * A day the asker holds none of (more than a few posts) is answered with the answerer's 256 level-2 bucket
 * counts instead of its ids (`whole`, version 3): the asker fetches it by `range` requests of about 500 posts,
 * each a key range of the day's shards, and lists no ids at all (a fresh mirror of 50k posts sent 1.6 MB of
 * ids each way and made the answerer look each post up on its own).
 *
 * Where the asker lacks exactly one post of a day or a level-2 bucket (or two of a bucket), the answerer sends
 * the posts themselves (`post`, version 4, at most MAX_INLINE_POSTS an answer, inline-posts.ts) rather than
 * their ids: the small differences gossip
 * leaves (a few posts lost, most of them recent) settle within the comparison's round trips, with no
 * `changes` round trip after it.
 *
 * The asker then knows what else it lacks, fetches it with `changes` in bulk and stores it through ingest, which
 * verifies each post like any from outside, and knows what the answerer lacks (`postsTheyLack`: the node
 * hints the answerer, which pulls). Serving is read-only.
 */
export const SYNC_PROTOCOL = '/usenet/sync/1'

/** Up to this many posts a differing day is answered with its ids: cheaper than 16 fingerprints and a round trip. */
const SMALL_DAY = 16
/** Ids one answer aims at (1 MiB); more days go to a later request. A day the asker lacks whole, up to this, comes as ids. */
const ANSWER_IDS = 32_768
/** Level-1 fingerprint entries one `digests` answer carries at most (about 300 bytes each). */
const ANSWER_BUCKET_DAYS = 1024
/** Days an answer lists as "later" at most; the asker asks again from the newest of them down. */
const MAX_LATER = 4096
/** Ids an asker accepts in one answer (32 MiB): a neighbour cannot make it hold more. */
const MAX_ACCEPTED_IDS = 1 << 20
/** Answer frames are flushed at this size; an entry is at most MAX_IDS_PER_ENTRY ids, so a frame stays below 1 MiB. */
const FLUSH_BYTES = 256 * 1024
/** Changes are written in runs of this many bytes: a Noise message holds at most 64 KiB. */
const WRITE_RUN_BYTES = 60 * 1024

export interface SyncProgress {
  readonly group: GroupName
  readonly peer: string
  readonly state: 'comparing' | 'fetching' | 'done' | 'failed'
  /** Days whose fingerprints differ, as the comparison finds them. */
  readonly daysToCheck: number
  /** Of those, days whose differing posts are known. */
  readonly daysChecked: number
  readonly postsWanted: number
  readonly postsStored: number
  /** Posts this node holds that the neighbour lacks, as the comparison found. */
  readonly postsTheyLack: number
  readonly startedAt: number
  /** When the comparison ended (done or failed). */
  readonly finishedAt?: number
  readonly error?: string
}

export interface PullOptions {
  /**
   * Awaited after the comparison and before anything is fetched (a mirror learns the group meanwhile); if it
   * fails, the pull ends with its error.
   */
  readonly ready?: Promise<unknown>
  /**
   * This pull's own progress, per neighbour, as it changes. (onProgress and status() also tell of other pulls:
   * one a neighbour's hint starts as soon as this one ends.)
   */
  readonly onProgress?: (progress: SyncProgress) => void
}

export interface AntiEntropy {
  serve(): Promise<void>
  /** Pulls from one neighbour what this node lacks of a group; returns how many posts were new. */
  pull(peerId: string, group: GroupName): Promise<number>
  /**
   * The same from several neighbours at once, the missing posts shared out between them. If this node is
   * already pulling the group from one of them, it waits for that pull to end first.
   */
  pullFrom(peerIds: readonly string[], group: GroupName, options?: PullOptions): Promise<number>
  onProgress(listener: (progress: SyncProgress) => void): () => void
  /** The latest progress of each (group, neighbour) pair: syncing, or how the last comparison ended. */
  status(): SyncProgress[]
  /**
   * Tells a neighbour this node's set of a group has changed (it just pulled posts the neighbour may lack),
   * so the neighbour compares with it soon instead of at its next periodic comparison.
   */
  hint(peerId: string, group: GroupName): Promise<void>
  /** Cancels pending work (hinted pulls) and ends the pulls still running, quietly: their end is not a neighbour's fault. */
  stop(): void
}

/** Answers one neighbour may have running at once; more streams are closed unanswered. */
const MAX_STREAMS_PER_ASKER = 8
/** Whole-history comparisons (the asker holds no day: a first round from a node with nothing) one neighbour may ask per group within the window. */
const WHOLE_HISTORY_ASKS = 6
const WHOLE_HISTORY_WINDOW_MS = 10 * 60_000

/** How far serving may run ahead of its upload cap before it sleeps, in ms. */
const PACE_STEP_MS = 20

/**
 * Requests a pull keeps open with each neighbour. With one, the neighbour sat idle while this node read the
 * end of an answer and asked again, and nothing arrived while a commit held the event loop: a 50k mirror in
 * process took 8.7-9.4 s with one and 8.0-8.4 s with two (three: 7.8 s, for more memory held in flight).
 */
export const FETCHES_PER_NEIGHBOUR = 2

/**
 * Answers a pull holds at most, being fetched or fetched and not yet stored: each neighbour's open requests,
 * and two commits' worth (MAX_CHANGES_PER_COMMIT) so the pool verifies the next while ingest stores one (with
 * one, the pool sat idle during each commit: a 50k mirror took 10 s in process instead of 8).
 */
export function maxAnswersInFlight(neighbours: number): number {
  return neighbours * FETCHES_PER_NEIGHBOUR + 2 * Math.ceil(MAX_CHANGES_PER_COMMIT / MAX_IDS_PER_REQUEST)
}

/** Posts a range answer may hold beyond what its neighbour counted (posts that reached it since). */
const RANGE_SLACK = 64

/** Whether a post's hash ("<" + hex…) begins with a byte in one of the range's parts (its day is ingest's to file). */
function inRange(range: FetchRange, id: string): boolean {
  const bucket = bucketOfId(id)
  return range.parts.some((part) => bucket >= part.first && bucket <= part.last)
}

/** The smallest batch of posts asked of a neighbour while others share the fetch. */
const MIN_BATCH = 50

/** A hinted pull waits this long, so several hints about one group become one comparison. */
const HINT_DELAY_MS = 500

const EMPTY: Digest = { count: 0, xor: ZERO_XOR }

/** The 16 level-1 fingerprints of a day from its 256 level-2 rows. */
function level1(counts: readonly number[], xors: readonly Uint8Array[]): Digest[] {
  return Array.from({ length: 16 }, (_, l1) => {
    let count = 0
    const xor = Buffer.alloc(XOR_BYTES)
    for (let b = l1 * 16; b < l1 * 16 + 16; b++) {
      count += counts[b]!
      if (counts[b]! > 0) xorInto(xor, xors[b]!)
    }
    return { count, xor }
  })
}

/** The XOR of two fingerprints: the hash (prefix) of the one post that differs, when one does. */
function difference(a: Digest, b: Digest): string {
  const x = Buffer.from(a.xor.subarray(0, XOR_BYTES))
  xorInto(x, b.xor)
  return x.toString('hex')
}

const hex = (hash: Uint8Array) => Buffer.from(hash.buffer, hash.byteOffset, hash.byteLength).toString('hex')

/** Writes answer entries, a frame each FLUSH_BYTES, and the empty frame that ends the answer. */
function answerFrames(stream: FrameStream) {
  const w = new FrameWriter()
  const flush = async (force = false) => {
    if (w.length > 0 && (force || w.length >= FLUSH_BYTES)) await stream.write(w.take())
  }
  return {
    async day(e: DayEntry) {
      writeDayEntry(w, e)
      await flush()
    },
    async bucket(e: BucketEntry) {
      writeBucketEntry(w, e)
      await flush()
    },
    async end() {
      await flush(true)
      await stream.write(new Uint8Array(0))
    },
  }
}

function* chunks<T>(items: readonly T[], size: number): Generator<T[]> {
  for (let i = 0; i < items.length; i += size) yield items.slice(i, i + size)
}

export function createAntiEntropy(
  { transport, db, ingest, log }: { transport: StreamTransport; db: Db; ingest: Ingest; log: Logger },
  {
    timeoutMs = 30_000,
    smallDay = SMALL_DAY,
    answerIds = ANSWER_IDS,
    uploadBytesPerSecond,
  }: {
    /** How long one request may take, in ms: a neighbour that stalls longer is given up. */
    timeoutMs?: number
    /** Caps the bytes per second of posts served to all neighbours together (unlimited by default). */
    uploadBytesPerSecond?: number
    /** Days of up to this many posts are answered with their ids (tests set 0 to force the bucket rounds). */
    smallDay?: number
    /** Ids one answer aims at (tests set it low to force several rounds and requests). */
    answerIds?: number
  } = {},
): AntiEntropy {
  const listeners = new Set<(p: SyncProgress) => void>()
  // Aborted by stop(): the requests of pulls still running end at once, and their end is not a neighbour's fault.
  const stopping = new AbortController()
  // At most one pending hinted pull per (neighbour, group): a chatty neighbour cannot make us loop.
  const hinted = new Map<string, NodeJS.Timeout>()
  const latest = new Map<string, SyncProgress>()
  const emit = (p: SyncProgress) => {
    latest.set(`${p.group} ${p.peer}`, p)
    // Bounded: forget the oldest pairs when many neighbours came and went.
    if (latest.size > 1000) latest.delete(latest.keys().next().value!)
    for (const listener of listeners) listener(p)
  }

  // ---------------------------------------------------------------------------------------------------
  // Serving (read-only).

  // Per asker: streams being answered now, and when it last asked for a group's whole history.
  const answering = new Map<string, number>()
  const wholeHistoryAsks = new Map<string, number[]>()
  let uploadPaidUntil = 0

  /**
   * Waits as long as sending `bytes` takes at the upload cap, so what is served keeps under it. Sleeps come
   * in steps of PACE_STEP_MS, and time overslept (timers fire late) is made up by the next bytes, up to a
   * step's worth: without that, per-post sleeps of about a millisecond ran a quarter slower than the cap.
   */
  async function paced(bytes: number): Promise<void> {
    if (!uploadBytesPerSecond) return
    const now = performance.now()
    uploadPaidUntil = Math.max(uploadPaidUntil, now - PACE_STEP_MS) + (bytes * 1000) / uploadBytesPerSecond
    const ahead = uploadPaidUntil - now
    if (ahead > PACE_STEP_MS) await new Promise((resolve) => setTimeout(resolve, ahead))
  }

  /** A neighbour that asks for a whole history again and again (a node with nothing asks once) is refused for a while. */
  function asksTooOften(from: string, group: GroupName): boolean {
    const key = `${from} ${group}`
    const now = Date.now()
    const recent = (wholeHistoryAsks.get(key) ?? []).filter((t) => now - t < WHOLE_HISTORY_WINDOW_MS)
    if (recent.length >= WHOLE_HISTORY_ASKS) return true
    recent.push(now)
    wholeHistoryAsks.set(key, recent)
    if (wholeHistoryAsks.size > 10_000) wholeHistoryAsks.delete(wholeHistoryAsks.keys().next().value!)
    return false
  }

  async function answer(stream: FrameStream, from: string): Promise<void> {
    const open = answering.get(from) ?? 0
    if (open >= MAX_STREAMS_PER_ASKER) {
      log.debug(`sync request from ${from} refused: it already has ${open} answers running`)
      return
    }
    answering.set(from, open + 1)
    try {
      await answerOne(stream, from)
    } finally {
      const left = (answering.get(from) ?? 1) - 1
      if (left > 0) answering.set(from, left)
      else answering.delete(from)
    }
  }

  async function answerOne(stream: FrameStream, from: string): Promise<void> {
    let request: SyncRequest
    let version: number
    try {
      ;({ request, version } = readRequest(await stream.read()))
    } catch (err) {
      // Returning closes the stream; one line per bad request, without its bytes.
      log.debug(`sync request from ${from} is malformed: ${(err as Error).message}`)
      return
    }
    if (request.op === 'digests' && request.days.length === 0 && request.to === MAX_DAY && asksTooOften(from, request.group)) {
      log.debug(
        `sync request from ${from} refused: it asked for the whole history of ${request.group} ${WHOLE_HISTORY_ASKS} times within ${WHOLE_HISTORY_WINDOW_MS / 60_000} minutes`,
      )
      if (version >= 4) await stream.write(REFUSAL)
      return
    }
    // Serving only groups this node carries.
    if (!(await getGroup(db, request.group))?.subscribed) {
      await stream.write(new Uint8Array(0))
      return
    }
    switch (request.op) {
      case 'digests':
        return answerDigests(stream, request, version)
      case 'buckets':
        return answerBuckets(stream, request, version)
      case 'changes':
        return answerChanges(stream, await changesOf(db, request.group, request.ids))
      case 'range': {
        const changes: Uint8Array[] = []
        for (const { day, first, last } of request.parts) {
          if (changes.length >= MAX_RANGE_POSTS) break
          changes.push(...(await changesInBuckets(db, request.group, dayString(day), first, last, MAX_RANGE_POSTS - changes.length)))
        }
        return answerChanges(stream, changes)
      }
      case 'hint': {
        const key = `${request.group} ${from}`
        if (!hinted.has(key)) {
          const timer = setTimeout(() => {
            hinted.delete(key)
            void pullFrom([from], request.group)
          }, HINT_DELAY_MS)
          timer.unref()
          hinted.set(key, timer)
        }
        await stream.write(new Uint8Array(0))
        return
      }
    }
  }

  /**
   * Writes changes in runs of about one Noise message: a frame per write cost a socket write, a yamux frame and
   * an encryption per post on both sides.
   */
  async function answerChanges(stream: FrameStream, changes: readonly Uint8Array[]): Promise<void> {
    let run: Uint8Array[] = []
    let runBytes = 0
    for (const change of changes) {
      run.push(change)
      runBytes += change.length
      if (runBytes >= WRITE_RUN_BYTES) {
        await paced(runBytes)
        await stream.writeFrames(run)
        run = []
        runBytes = 0
      }
    }
    await paced(runBytes)
    run.push(new Uint8Array(0))
    await stream.writeFrames(run)
  }

  async function answerDigests(stream: FrameStream, { group, from, to, days }: Extract<SyncRequest, { op: 'digests' }>, version: number): Promise<void> {
    const out = answerFrames(stream)
    const theirs = new Map(days.map((d) => [d.day, d]))
    const mine = new Map<number, Digest>()
    for (const d of await dayDigests(db, group)) {
      const day = dayNumber(d.day)
      if (day >= from && day <= to) mine.set(day, { count: d.count, xor: d.xor })
    }
    // Newest first, so a group being mirrored is readable while it fills.
    const differing = [...new Set([...mine.keys(), ...theirs.keys()])]
      .filter((day) => !sameDigest(mine.get(day) ?? EMPTY, theirs.get(day) ?? EMPTY))
      .sort((a, b) => b - a)
    let ids = 0
    let bucketDays = 0
    let later = 0
    const inline = inlineBudget()
    for (const [i, day] of differing.entries()) {
      const my = mine.get(day) ?? EMPTY
      const their = theirs.get(day) ?? EMPTY
      // The first day is always answered, so each request makes progress.
      if (i > 0 && (ids >= answerIds || bucketDays >= ANSWER_BUCKET_DAYS)) {
        if (later++ < MAX_LATER) await out.day({ kind: 'later', day, count: my.count })
        continue
      }
      if (my.count === 0) {
        await out.day({ kind: 'empty', day })
        continue
      }
      if (version >= 3 && their.count === 0 && my.count > smallDay) {
        await out.day({ kind: 'whole', day, counts: (await bucketDigests(db, group, dayString(day))).counts })
        bucketDays++
        continue
      }
      if ((their.count === 0 || my.count <= smallDay) && my.count <= answerIds) {
        const hashes = (await idsOfDay(db, group, dayString(day))).map(hashOf)
        for (const part of chunks(hashes, MAX_IDS_PER_ENTRY)) await out.day({ kind: 'ids', day, ids: part })
        ids += hashes.length
        continue
      }
      if (my.count === their.count + 1) {
        // If the asker lacks exactly one post of the day, the XOR of the two fingerprints is its hash.
        const [one, ...more] = await idsWithPrefix(db, group, dayString(day), difference(my, their))
        if (one && more.length === 0) {
          const change = version >= 4 && inline.take() ? (await changesOf(db, group, [one]))[0] : undefined
          await out.day(change ? { kind: 'post', day, change } : { kind: 'one', day, id: hashOf(one) })
          continue
        }
      }
      const { counts, xors } = await bucketDigests(db, group, dayString(day))
      await out.day({ kind: 'buckets', day, digests: level1(counts, xors) })
      bucketDays++
    }
    await out.end()
  }

  async function answerBuckets(stream: FrameStream, { group, days }: Extract<SyncRequest, { op: 'buckets' }>, version: number): Promise<void> {
    const out = answerFrames(stream)
    let ids = 0
    let answered = 0
    const inline = inlineBudget()
    for (const { day, mask, digests } of days) {
      const dayText = dayString(day)
      const { counts, xors } = await bucketDigests(db, group, dayText)
      let k = 0
      for (let l1 = 0; l1 < 16; l1++) {
        if ((mask & (1 << l1)) === 0) continue
        // An honest asker keeps a request near ANSWER_IDS from the counts it was given; past twice that, stop
        // at a level-1 boundary (never before the first, so a huge bucket is still answered whole).
        if (answered > 0 && ids >= 2 * answerIds) {
          await out.bucket({ kind: 'truncated', day, bucket: l1 * 16 })
          return out.end()
        }
        answered++
        for (let bucket = l1 * 16; bucket < l1 * 16 + 16; bucket++) {
          const their = digests[k++]!
          const my: Digest = { count: counts[bucket]!, xor: xors[bucket]! }
          if (sameDigest(my, their)) continue
          const bucketIds = await idsWithPrefix(db, group, dayText, bucketHex(bucket))
          const hashes = bucketIds.map(hashOf)
          ids += hashes.length
          if (my.count === their.count + 1) {
            const diff = Buffer.from(difference(my, their), 'hex')
            const at = hashes.findIndex((h) => h.subarray(0, XOR_BYTES).equals(diff))
            if (at >= 0) {
              const change = version >= 4 && inline.take() ? (await changesOf(db, group, [bucketIds[at]!]))[0] : undefined
              await out.bucket(change ? { kind: 'post', day, bucket, change } : { kind: 'one', day, bucket, id: hashes[at]! })
              continue
            }
          }
          if (version >= 4 && my.count === their.count + 2) {
            // Two posts the asker lacks in one bucket (one time in a dozen when ten are lost on a busy day): the
            // pair whose hashes XOR to the difference, found among the bucket's few posts, comes with the answer.
            const pair = pairWithXor(hashes, Buffer.from(difference(my, their), 'hex'))
            const changes = pair && inline.take(2) ? await changesOf(db, group, [bucketIds[pair[0]]!, bucketIds[pair[1]]!]) : []
            if (changes.length === 2) {
              for (const change of changes) await out.bucket({ kind: 'post', day, bucket, change })
              continue
            }
          }
          if (hashes.length === 0) await out.bucket({ kind: 'ids', day, bucket, ids: [] })
          for (const part of chunks(hashes, MAX_IDS_PER_ENTRY)) await out.bucket({ kind: 'ids', day, bucket, ids: part })
        }
      }
    }
    await out.end()
  }

  // ---------------------------------------------------------------------------------------------------
  // Asking.

  const versions = new PeerVersions()

  /**
   * Sends a request and reads its answer's frames up to the empty one, each through `read`. A comparison
   * (`digests`) closed with no answer at all is asked again one version lower, down to the oldest: a node not
   * yet upgraded still syncs, without what later versions added (the answers say what they hold).
   */
  async function exchange(peerId: string, request: SyncRequest, signal: AbortSignal, read: (frame: Uint8Array) => void): Promise<void> {
    const version = versions.versionFor(peerId)
    const stream = await transport.open(peerId, SYNC_PROTOCOL, { signal })
    try {
      await stream.write(encodeRequest(request, version))
    } catch (err) {
      await stream.close().catch(() => undefined)
      throw err
    }
    let answered = false
    try {
      for (;;) {
        const frame = await stream.read()
        answered = true
        if (frame.length === 0) return
        if (isRefusal(frame)) throw new Error('refused the request (it asked for the whole history too often)')
        read(frame)
      }
    } catch (err) {
      const older = answered || signal.aborted || request.op !== 'digests' ? undefined : versions.refused(peerId, version)
      if (older === undefined) throw err
      log.debug(`${peerId} closed a version ${version} request unanswered: asking it in version ${older}`)
    } finally {
      await stream.close().catch(() => undefined)
    }
    return exchange(peerId, request, signal, read)
  }

  /** Runs `read` on a neighbour's answer, turning a malformed one into an error that says so. */
  function parsed<T>(what: string, read: (frame: Uint8Array) => T[]): (frame: Uint8Array) => T[] {
    return (frame) => {
      try {
        return read(frame)
      } catch (err) {
        if (err instanceof MalformedFrameError) throw new Error(`sent a malformed ${what} answer: ${err.message}`)
        throw err
      }
    }
  }

  /** One pull's progress with one neighbour, told to listeners at each change. */
  function tracker(group: GroupName, peerId: string, own?: (p: SyncProgress) => void) {
    let progress: SyncProgress = {
      group,
      peer: peerId,
      state: 'comparing',
      daysToCheck: 0,
      daysChecked: 0,
      postsWanted: 0,
      postsStored: 0,
      postsTheyLack: 0,
      startedAt: Date.now(),
    }
    const update = (change: Partial<SyncProgress>) => {
      progress = { ...progress, ...change }
      emit(progress)
      own?.(progress)
    }
    // Said at once, so whoever started the pull sees it running.
    update({})
    return {
      get progress() {
        return progress
      },
      update,
    }
  }
  type Tracker = ReturnType<typeof tracker>

  /**
   * Compares the group with one neighbour (round trips 1 and 2, repeated for older days when an answer says
   * "later"); returns what this node lacks, by day, newest day first.
   */
  async function compareWith(
    peerId: string,
    group: GroupName,
    track: Tracker,
    signal: () => AbortSignal,
  ): Promise<{ lacking: [number, MessageId[]][]; whole: { day: number; counts: readonly number[] }[]; posts: InlinePost[] }> {
    const update = track.update
    const mine = new Map<number, Digest>()
    let myDays: number[] = []
    // Until a day's differences are known, the difference of the counts is the best guess of what it lacks.
    const guesses = new Map<number, number>()
    const seen = new Set<number>()
    const see = (day: number, theirCount: number) => {
      if (seen.has(day)) return
      seen.add(day)
      const guess = Math.max(0, theirCount - (mine.get(day)?.count ?? 0))
      guesses.set(day, guess)
      update({ daysToCheck: track.progress.daysToCheck + 1, postsWanted: track.progress.postsWanted + guess })
    }
    const resolved = (day: number, missing: number, theyLack: number) => {
      update({
        daysChecked: track.progress.daysChecked + 1,
        postsWanted: track.progress.postsWanted - (guesses.get(day) ?? 0) + missing,
        postsTheyLack: track.progress.postsTheyLack + theyLack,
        state: missing > 0 ? 'fetching' : track.progress.state,
      })
      guesses.set(day, missing)
    }

    // Days this node holds none of, which the neighbour offered whole (its bucket counts), and their posts.
    const whole: { day: number; counts: readonly number[] }[] = []
    let wholePosts = 0
    // Posts the neighbour sent with its answers (a day or bucket that differs by exactly that post).
    const posts: InlinePost[] = []

    /** One comparison round over the days in [from, to]: what this node lacks there, newest day first. */
    async function round(from: number, to: number): Promise<{ missing: [number, MessageId[]][]; later: number | undefined }> {
      const listed = myDays.filter((d) => d >= from && d <= to).map((day) => ({ ...mine.get(day)!, day }))
      const entries: DayEntry[] = []
      let accepted = 0
      const readDays = parsed('digests', readDayEntries)
      let inline = 0
      await exchange(peerId, { op: 'digests', group, from, to, days: listed }, signal(), (frame) => {
        for (const e of readDays(frame)) {
          if (e.kind === 'post' && ++inline > MAX_INLINE_POSTS) throw new Error('sent more posts with an answer than one may carry')
          const previous = entries.at(-1)
          const continues = e.kind === 'ids' && previous?.kind === 'ids' && previous.day === e.day
          if (e.day < from || e.day > to || (previous && !continues && e.day >= previous.day)) throw new Error('sent days out of order or range')
          if (e.kind === 'ids') accepted += e.ids.length
          if (e.kind === 'whole') accepted += e.counts.reduce((n, c) => n + c, 0)
          if (accepted > MAX_ACCEPTED_IDS) throw new Error('sent more ids than this node accepts')
          if (continues) (previous.ids as Uint8Array[]).push(...e.ids)
          else entries.push(e.kind === 'ids' ? { ...e, ids: [...e.ids] } : e)
        }
      })
      const byDay = new Map<number, Set<string>>()
      let lacked = 0
      const lack = (day: number, hashes: Iterable<string>) => {
        const set = byDay.get(day) ?? new Set<string>()
        byDay.set(day, set)
        lacked -= set.size
        for (const h of hashes) set.add(h)
        lacked += set.size
        // The verify threads start as soon as a bulk is known to be coming, while the comparison goes on:
        // they took 0.4 s to start at the beginning of a mirror, and the first commit waited for them.
        ingest.expectPosts(lacked + wholePosts)
      }
      const asks: { day: number; l1: number; digests: Digest[]; expected: number }[] = []
      const pending = new Map<number, { theyLack: number; asks: number }>()
      let later: number | undefined
      for (const e of entries) {
        const my = mine.get(e.day) ?? EMPTY
        switch (e.kind) {
          case 'later':
            see(e.day, e.count)
            later ??= e.day
            continue
          case 'empty':
            see(e.day, 0)
            resolved(e.day, 0, my.count)
            continue
          case 'whole': {
            // Offered because this node said it holds none of the day (if a post came in meanwhile, the
            // range brings it again as a duplicate).
            const count = e.counts.reduce((n, c) => n + c, 0)
            see(e.day, count)
            whole.push({ day: e.day, counts: e.counts })
            wholePosts += count
            ingest.expectPosts(lacked + wholePosts)
            resolved(e.day, count, 0)
            continue
          }
          case 'one':
            see(e.day, my.count + 1)
            lack(e.day, [hex(e.id)])
            resolved(e.day, 1, 0)
            continue
          case 'post':
            see(e.day, my.count + 1)
            posts.push({ day: e.day, change: e.change })
            resolved(e.day, 1, 0)
            continue
          case 'ids': {
            see(e.day, e.ids.length)
            const have = new Set((my.count > 0 ? await idsOfDay(db, group, dayString(e.day)) : []).map((id) => id.slice(1, 65)))
            const theirs = new Set(e.ids.map(hex))
            const missing = [...theirs].filter((h) => !have.has(h))
            lack(e.day, missing)
            resolved(e.day, missing.length, [...have].filter((h) => !theirs.has(h)).length)
            continue
          }
          case 'buckets': {
            see(
              e.day,
              e.digests.reduce((n, d) => n + d.count, 0),
            )
            const { counts, xors } = await bucketDigests(db, group, dayString(e.day))
            const ours = level1(counts, xors)
            const state = { theyLack: 0, asks: 0 }
            for (let l1 = 0; l1 < 16; l1++) {
              const [their, my1] = [e.digests[l1]!, ours[l1]!]
              if (sameDigest(their, my1)) continue
              if (their.count === 0) {
                state.theyLack += my1.count
                continue
              }
              if (my1.count === their.count + 1) {
                // This node holds exactly one post of the bucket more: the XOR difference is its hash.
                const [one, ...more] = await idsWithPrefix(db, group, dayString(e.day), difference(my1, their))
                if (one && more.length === 0 && Number.parseInt(one[1]!, 16) === l1) {
                  state.theyLack += 1
                  continue
                }
              }
              const digests = Array.from({ length: 16 }, (_, j) => ({ count: counts[l1 * 16 + j]!, xor: xors[l1 * 16 + j]!.subarray(0, XOR_BYTES) }))
              asks.push({ day: e.day, l1, digests, expected: their.count })
              state.asks++
            }
            if (state.asks === 0) resolved(e.day, 0, state.theyLack)
            else pending.set(e.day, state)
          }
        }
      }

      // Round trip 2: the level-2 fingerprints of every level-1 bucket still differing, in requests kept
      // near ANSWER_IDS ids of answer and within the answerer's limits.
      const missingOf = new Map<number, number>()
      while (asks.length > 0) {
        const batch: typeof asks = []
        let expected = 0
        const days = new Set<number>()
        while (asks.length > 0) {
          const next = asks[0]!
          const newDay = !days.has(next.day)
          if (batch.length > 0 && (expected + next.expected > answerIds || batch.length >= MAX_LEVEL1_BUCKETS || (newDay && days.size >= MAX_BUCKET_DAYS)))
            break
          batch.push(asks.shift()!)
          expected += next.expected
          days.add(next.day)
        }
        const request = [...days].map((day) => {
          const items = batch.filter((a) => a.day === day).sort((a, b) => a.l1 - b.l1)
          return { day, mask: items.reduce((m, a) => m | (1 << a.l1), 0), digests: items.flatMap((a) => a.digests) }
        })
        const asked = new Set(batch.map((a) => `${a.day} ${a.l1}`))
        const theirIds = new Map<string, { day: number; bucket: number; hashes: Set<string> }>()
        const ones = new Set<string>()
        // Posts sent for each bucket: one, or the two it differs by.
        const postsOf = new Map<string, number>()
        let accepted = 0
        const readBuckets = parsed('buckets', readBucketEntries)
        let inline = 0
        await exchange(peerId, { op: 'buckets', group, days: request }, signal(), (frame) => {
          for (const e of readBuckets(frame)) {
            if (!asked.has(`${e.day} ${e.bucket >> 4}`)) throw new Error('answered about a bucket it was not asked about')
            if (e.kind === 'truncated') throw new Error('answered only part of a request')
            const key = `${e.day} ${e.bucket}`
            if (e.kind === 'post') {
              const sent = postsOf.get(key) ?? 0
              if ((ones.has(key) && sent === 0) || sent >= 2 || theirIds.has(key)) throw new Error('sent a malformed buckets answer')
              if (++inline > MAX_INLINE_POSTS) throw new Error('sent more posts with an answer than one may carry')
              ones.add(key)
              postsOf.set(key, sent + 1)
              posts.push({ day: e.day, bucket: e.bucket, change: e.change })
              missingOf.set(e.day, (missingOf.get(e.day) ?? 0) + 1)
              continue
            }
            if (e.kind === 'one') {
              if (e.id[0] !== e.bucket || ones.has(key) || theirIds.has(key)) throw new Error('sent a malformed buckets answer')
              ones.add(key)
              lack(e.day, [hex(e.id)])
              missingOf.set(e.day, (missingOf.get(e.day) ?? 0) + 1)
              continue
            }
            if (ones.has(key) || e.ids.some((id) => id[0] !== e.bucket)) throw new Error('sent ids outside the bucket')
            accepted += e.ids.length
            if (accepted > MAX_ACCEPTED_IDS) throw new Error('sent more ids than this node accepts')
            const entry = theirIds.get(key) ?? { day: e.day, bucket: e.bucket, hashes: new Set<string>() }
            theirIds.set(key, entry)
            for (const id of e.ids) entry.hashes.add(hex(id))
          }
        })
        for (const { day, bucket, hashes } of theirIds.values()) {
          const have = new Set((await idsWithPrefix(db, group, dayString(day), bucketHex(bucket))).map((id) => id.slice(1, 65)))
          const missing = [...hashes].filter((h) => !have.has(h))
          lack(day, missing)
          missingOf.set(day, (missingOf.get(day) ?? 0) + missing.length)
          pending.get(day)!.theyLack += [...have].filter((h) => !hashes.has(h)).length
        }
        for (const day of days) {
          const state = pending.get(day)!
          state.asks -= batch.filter((a) => a.day === day).length
          if (state.asks === 0) resolved(day, missingOf.get(day) ?? 0, state.theyLack)
        }
      }

      // The hashes were written here as hex, from 32 bytes each: valid ids.
      const missing = [...byDay.entries()].map(([day, hashes]): [number, MessageId[]] => [day, [...hashes].map(messageIdFromHex)])
      return { missing, later }
    }

    for (const d of await dayDigests(db, group)) mine.set(dayNumber(d.day), { count: d.count, xor: d.xor })
    myDays = [...mine.keys()].sort((a, b) => a - b)
    const lacking: [number, MessageId[]][] = []
    let to = MAX_DAY
    for (;;) {
      // At most MAX_REQUEST_DAYS of this node's days per request: the range stops at the oldest listed.
      const inRange = myDays.filter((d) => d <= to)
      const from = inRange.length > MAX_REQUEST_DAYS ? inRange[inRange.length - MAX_REQUEST_DAYS]! : 0
      const { missing, later } = await round(from, to)
      lacking.push(...missing)
      // A "later" day is older than every day answered in full, so the range shrinks each round.
      if (later !== undefined) to = later
      else if (from > 0) to = from - 1
      else break
    }
    return { lacking: lacking.sort((a, b) => b[0] - a[0]), whole, posts }
  }

  /**
   * Pulls what this node lacks of a group from one or several neighbours at once, as BitTorrent does for
   * files: each is compared with, then the missing posts (newest day first) are shared out in batches, each
   * neighbour taking the next batch it holds as soon as it has handed the last one to ingest. A fast neighbour
   * serves more; one that fails (stalls, breaks off, sends a forged or unasked post) is dropped from this
   * pull and its batch goes to the others. Batches are verified and stored through ingest while the next are
   * fetched. Resolves with the posts stored.
   */
  // Pulls running now, per (group, neighbour). A second pull of the same pair (a hint, a reconnection, a
  // mirror started meanwhile) waits for the first to end, then compares again (cheap once in sync), so no
  // post is fetched twice and every caller gets the outcome of a pull of its own.
  const pulling = new Map<string, Promise<unknown>>()

  async function pullFrom(requested: readonly string[], group: GroupName, options: PullOptions = {}): Promise<number> {
    const peerIds = [...new Set(requested)]
    const keys = peerIds.map((peerId) => `${group} ${peerId}`)
    for (;;) {
      const running = keys.map((key) => pulling.get(key)).filter((p) => p !== undefined)
      if (running.length === 0) break
      await Promise.allSettled(running)
    }
    const result = pullFromFree(peerIds, group, options)
    const settled = result.catch(() => undefined)
    for (const key of keys) pulling.set(key, settled)
    try {
      return await result
    } finally {
      for (const key of keys) if (pulling.get(key) === settled) pulling.delete(key)
    }
  }

  async function pullFromFree(peerIds: readonly string[], group: GroupName, { ready, onProgress }: PullOptions): Promise<number> {
    const startedAt = Date.now()
    const tracks = new Map(peerIds.map((peerId) => [peerId, tracker(group, peerId, onProgress)]))
    const failed = new Set<string>()
    const fail = (peerId: string, err: Error) => {
      if (failed.has(peerId)) return
      failed.add(peerId)
      const error = stopping.signal.aborted ? 'this node is stopping' : err.message
      tracks.get(peerId)!.update({ state: 'failed', error, finishedAt: Date.now() })
      if (stopping.signal.aborted) log.debug(`syncing ${group} with ${peerId} ended: this node is stopping (${err.message})`)
      else log.warn(`syncing ${group} with ${peerId} failed: ${err.message}`)
    }
    const requestSignal = () => AbortSignal.any([AbortSignal.timeout(timeoutMs), stopping.signal])
    /**
     * Counts what ingest made of a neighbour's posts into its progress. Valid posts are worth keeping, but a
     * neighbour that sent an invalid post, or one it was not asked for, is broken: it is dropped from the pull.
     * Returns the ids this node now holds of them, and whether the neighbour was dropped.
     */
    const settle = (peerId: string, results: readonly IngestResult[], wasAsked: (id: MessageId) => boolean) => {
      const track = tracks.get(peerId)!
      const kept = new Set<MessageId>()
      let accepted = 0
      for (const r of results) {
        if (r.status === 'rejected') continue
        kept.add(r.id)
        if (r.status === 'accepted') accepted++
      }
      track.update({ postsStored: track.progress.postsStored + accepted })
      const bad = results.find((r) => r.status === 'rejected')
      const unasked = [...kept].some((id) => !wasAsked(id))
      const broken = bad?.status === 'rejected' || unasked
      if (broken)
        fail(peerId, new Error(bad?.status === 'rejected' ? `sent an invalid post (${bad.problem}): ${bad.reason}` : 'sent posts it was not asked for'))
      return { kept, broken }
    }

    // A pass compares with every neighbour, then fetches what it found. Days fetched whole by range are not
    // checked id by id, so a second pass compares again when that could have left something out: several
    // neighbours (each range came from one of them), or a range that came back short or failed.
    for (let pass = 0; pass < 2; pass++) {
      const { usedRanges, incomplete } = await compareAndFetch()
      if (!usedRanges || !(incomplete || peerIds.filter((p) => !failed.has(p)).length > 1)) break
    }

    async function compareAndFetch(): Promise<{ usedRanges: boolean; incomplete: boolean }> {
      // 1. Compare with every neighbour at once.
      const wanted = new Map<MessageId, { day: number; holders: string[] }>()
      const wholeDays = new Map<number, Map<string, readonly number[]>>()
      const inline = new Map<string, InlinePost[]>()
      await Promise.all(
        peerIds
          .filter((p) => !failed.has(p))
          .map(async (peerId) => {
            try {
              const { lacking, whole, posts } = await compareWith(peerId, group, tracks.get(peerId)!, requestSignal)
              if (posts.length > 0) inline.set(peerId, posts)
              for (const [day, ids] of lacking) {
                for (const id of ids) {
                  const post = wanted.get(id)
                  if (post) {
                    if (!post.holders.includes(peerId)) post.holders.push(peerId)
                  } else wanted.set(id, { day, holders: [peerId] })
                }
              }
              for (const { day, counts } of whole) {
                const holders = wholeDays.get(day) ?? new Map<string, readonly number[]>()
                wholeDays.set(day, holders.set(peerId, counts))
              }
            } catch (err) {
              fail(peerId, err as Error)
            }
          }),
      )

      try {
        await ready
      } catch (err) {
        // Nothing to fetch into (a mirror could not learn the group): the pull ends, and says so.
        for (const track of tracks.values()) track.update({ state: 'failed', error: (err as Error).message, finishedAt: Date.now() })
        throw err
      }
      // 2. Store the posts that came with the answers; they are not fetched again.
      for (const [peerId, posts] of inline) for (const id of await storeInline(peerId, posts)) wanted.delete(id)

      // 3. Fetch, newest day first, shared out between the neighbours that hold each post or day.
      const isServing = (peerId: string) => !failed.has(peerId)
      const queue = new FetchQueue(wanted, isServing)
      // With several neighbours, ranges of half a batch, so they finish closer together.
      const ranges = new RangeQueue(planRanges(wholeDays, peerIds.length > 1 ? MAX_IDS_PER_REQUEST / 2 : MAX_IDS_PER_REQUEST), isServing)
      const usedRanges = ranges.size > 0
      let incomplete = false
      const take = (peerId: string): { range: FetchRange } | { ids: MessageId[] } | undefined => {
        const rangeDay = ranges.nextDay(peerId)
        const idsDay = queue.nextDay(peerId)
        if (rangeDay !== undefined && (idsDay === undefined || rangeDay > idsDay)) return { range: ranges.take(peerId)! }
        if (idsDay === undefined) return undefined
        // Smaller batches as the queue runs out, so the neighbours finish together rather than one of them
        // fetching a last full batch alone (BitTorrent's end game, by batch size). With one neighbour there is
        // nothing to even out, and each smaller batch was one more round trip and commit at the end of a mirror.
        const serving = peerIds.filter(isServing).length
        if (serving === 1) return { ids: queue.take(peerId, MAX_IDS_PER_REQUEST) }
        return { ids: queue.take(peerId, Math.min(MAX_IDS_PER_REQUEST, Math.max(MIN_BATCH, Math.ceil(queue.size / (FETCHES_PER_NEIGHBOUR * serving))))) }
      }
      // Batches fetched but not yet stored, all neighbours together, and batches being fetched: bounded together
      // (memory), enough to keep ingest busy.
      const storing = new Set<Promise<void>>()
      let fetching = 0
      const maxInFlight = maxAnswersInFlight(peerIds.length)
      const work = async (peerId: string) => {
        const track = tracks.get(peerId)!
        for (;;) {
          if (failed.has(peerId)) return
          // Never empty while waiting: fetches alone cannot fill maxInFlight.
          while (storing.size + fetching >= maxInFlight) await Promise.race(storing)
          const job = take(peerId)
          if (!job) return
          track.update({ state: 'fetching' })
          let changes: Uint8Array[]
          fetching++
          try {
            changes = 'range' in job ? await fetchRange(peerId, group, job.range, requestSignal()) : await fetchChanges(peerId, group, job.ids, requestSignal())
          } catch (err) {
            // What a neighbour did not deliver goes back to the front for the others (never to it again).
            if ('range' in job) {
              ranges.giveBack(peerId, job.range)
              incomplete = true
            } else queue.giveBack(peerId, job.ids)
            fail(peerId, err as Error)
            return
          } finally {
            fetching--
          }
          const stored = ingest.ingestChanges(changes, { origin: 'sync', group }).then((results) => {
            const askedIds = 'ids' in job ? new Set<string>(job.ids) : undefined
            const { kept, broken } = settle(peerId, results, (id) => (askedIds ? askedIds.has(id) : 'range' in job && inRange(job.range, id)))
            if ('range' in job) {
              if (broken) ranges.giveBack(peerId, job.range)
              // Fewer than it counted (an answer cut at MAX_RANGE_POSTS): another pass compares again, and counts
              // what it finds then.
              const short = job.range.expected.get(peerId)! - kept.size
              if (short > 0) track.update({ postsWanted: Math.max(0, track.progress.postsWanted - short) })
              if (broken || short > 0) incomplete = true
            } else if (broken || kept.size < job.ids.length) {
              // It no longer has some (or never had): the others may.
              queue.giveBack(
                peerId,
                job.ids.filter((id) => !kept.has(id)),
              )
            }
          })
          const tracked = stored.finally(() => storing.delete(tracked))
          storing.add(tracked)
        }
      }
      // A neighbour whose share ran out waits for the others' batches to be stored: one may come back to it.
      for (;;) {
        await Promise.all(peerIds.filter(isServing).flatMap((p) => Array.from({ length: FETCHES_PER_NEIGHBOUR }, () => work(p))))
        await Promise.all(storing)
        if (peerIds.every((p) => failed.has(p) || (!queue.hasFor(p) && !ranges.hasFor(p)))) break
      }
      // Ranges only a failed neighbour held are left over.
      return { usedRanges, incomplete: incomplete || ranges.size > 0 }
    }
    /**
     * Stores the posts a neighbour sent with its answers, checked like fetched ones: each must be of the day
     * (and bucket) its entry named, and valid. Returns the ids this node now holds.
     */
    async function storeInline(peerId: string, posts: readonly InlinePost[]): Promise<MessageId[]> {
      if (failed.has(peerId)) return []
      if (posts.some((p) => whereItSaid(p) === false)) {
        fail(peerId, new Error('sent a post of another day or bucket than its answer named'))
        return []
      }
      const results = await ingest.ingestChanges(
        posts.map((p) => p.change),
        { origin: 'sync', group },
      )
      // Each was checked against the entry it came with, above.
      return [...settle(peerId, results, () => true).kept]
    }

    let stored = 0
    for (const [peerId, track] of tracks) {
      stored += track.progress.postsStored
      if (failed.has(peerId)) continue
      track.update({ state: 'done', finishedAt: Date.now() })
      if (track.progress.postsStored > 0) log.info(`synced ${track.progress.postsStored} posts of ${group} from ${peerId} in ${Date.now() - startedAt} ms`)
    }
    return stored
  }

  /**
   * Fetches a range of a day. A neighbour sends at most what it said it holds there, plus what may have reached
   * it since (RANGE_SLACK), and never more than MAX_RANGE_POSTS: one that claimed a huge day cannot send without end.
   */
  async function fetchRange(peerId: string, group: GroupName, range: FetchRange, signal: AbortSignal): Promise<Uint8Array[]> {
    const cap = Math.min(MAX_RANGE_POSTS, range.expected.get(peerId)! + RANGE_SLACK)
    const changes: Uint8Array[] = []
    await exchange(peerId, { op: 'range', group, parts: range.parts }, signal, (frame) => {
      if (changes.length >= cap) throw new Error('sent more posts than it said it holds')
      changes.push(frame)
    })
    return changes
  }

  async function fetchChanges(peerId: string, group: GroupName, ids: MessageId[], signal: AbortSignal): Promise<Uint8Array[]> {
    const changes: Uint8Array[] = []
    await exchange(peerId, { op: 'changes', group, ids }, signal, (frame) => {
      if (changes.length >= ids.length) throw new Error('sent more posts than asked for')
      changes.push(frame)
    })
    return changes
  }

  return {
    serve: () => transport.handle(SYNC_PROTOCOL, answer),
    pull: (peerId, group) => pullFrom([peerId], group),
    pullFrom,
    onProgress(listener) {
      listeners.add(listener)
      return () => listeners.delete(listener)
    },
    status: () => [...latest.values()],
    async hint(peerId, group) {
      await exchange(peerId, { op: 'hint', group }, AbortSignal.timeout(10_000), () => undefined)
    },
    stop() {
      stopping.abort()
      for (const timer of hinted.values()) clearTimeout(timer)
      hinted.clear()
    },
  }
}
