import {
  hasValidSignature,
  InvalidArticleError,
  MAX_CLOCK_SKEW_MS,
  type ArticleRecord,
  type GroupName,
  type MessageId,
  type SignedArticle,
} from '../article/index.ts'
import type { Logger } from '../logger.ts'
import { carriedGroups, recordArticles, storedIds, transactionWith, type ArticleToRecord, type Db } from '../store/index.ts'
import { readCanonicalChange } from './read-change.ts'
import { InvalidChangeError } from './errors.ts'
import type { ShardDocuments, ShardEntry } from './shard-documents.ts'
import { checkChange, type CheckedChange, type VerifyPool } from './verify-pool.ts'

/** What became of one change handed to ingest. Expected outcomes are values; only storage failures throw. */
export type IngestResult =
  | { status: 'accepted'; id: MessageId }
  | { status: 'duplicate'; id: MessageId }
  /** Valid, but this node does not want it (no carried group). Gossip answers Ignore: the relay did nothing wrong. */
  | { status: 'ignored'; id: MessageId; reason: string }
  /** Malformed, forged, non-canonical or out of limits. Gossip answers Reject. */
  | { status: 'rejected'; problem: string; reason: string }

export interface IngestComponents {
  db: Db
  shards: ShardDocuments
  log: Logger
  /** ms since the epoch; tests pass a fixed clock. */
  now?: () => number
  /** Worker threads that share the checks of large batches; without it every check runs on this thread. */
  pool?: VerifyPool
}

/** Batches at least this large are checked on the pool's threads. */
export const POOL_MIN_BATCH = 64

/** Where a batch came from: gossip relays only what was posted here, and live pages want everything. */
export type IngestOrigin = 'local' | 'seed' | 'gossip' | 'sync'

export interface IngestOptions {
  origin?: IngestOrigin
  /** For changes from a group's gossip topic or a sync of the group: each must be posted to it, else it is rejected. */
  group?: GroupName
}

/** What listeners hear after a commit: the new articles, their changes (same order), and where they came from. */
export interface AcceptedBatch {
  readonly origin: IngestOrigin
  readonly changes: readonly Uint8Array[]
}

export type AcceptedListener = (articles: readonly ArticleRecord[], batch: AcceptedBatch) => void

export interface Ingest {
  /**
   * Validates changes and stores the new ones in one transaction: shard bytes and read model together. When
   * the promise resolves, every accepted post is durable. Batches run one at a time.
   */
  ingestChanges(changes: readonly Uint8Array[], options?: IngestOptions): Promise<IngestResult[]>
  /** Called after each commit with the articles it added (live pages, gossip). */
  onAccepted(listener: AcceptedListener): () => void
  /**
   * Says that `count` posts are on their way in large batches (a pull finding them missing), so the verify
   * threads start now, while the comparison goes on, rather than when the first batch arrives.
   */
  expectPosts(count: number): void
}

/**
 * The one way posts enter storage, for local posts and peers' alike (as INN's nnrpd hands posts to innd).
 * Cheap checks run first; the signature, the costly one, only for posts that are new and wanted. With a
 * pool, a large batch is read and verified on all cores first (duplicates too: a thread cannot know), and
 * the same decisions are then taken in the same order.
 */
export function createIngest({ db, shards, log, now = Date.now, pool }: IngestComponents): Ingest {
  const listeners = new Set<AcceptedListener>()

  async function run(
    changes: readonly Uint8Array[],
    { origin = 'local', group }: IngestOptions,
    checking?: Promise<readonly (CheckedChange | undefined)[]>,
  ): Promise<IngestResult[]> {
    const results: IngestResult[] = new Array(changes.length)
    const candidates: Candidate[] = []
    const carried = await carriedGroups(db)
    const latest = now() + MAX_CLOCK_SKEW_MS
    const inBatch = new Set<string>()
    const checked = await checking

    changes.forEach((change, index) => {
      let article: ArticleRecord
      let unchecked: SignedArticle | undefined
      // A change the pool could not read is read again here, to say what is wrong with it.
      const check = checked?.[index]
      try {
        if (check) article = check.article
        else article = unchecked = readCanonicalChange(change).article
      } catch (err) {
        results[index] = rejection(err)
        return
      }
      if (article.date > latest) {
        results[index] = { status: 'rejected', problem: 'bad-date', reason: 'the Date header is more than 24 hours in the future' }
        return
      }
      if (group !== undefined && !article.newsgroups.includes(group)) {
        results[index] = { status: 'rejected', problem: 'wrong-group', reason: `the article is not posted to ${group}` }
        return
      }
      if (inBatch.has(article.id)) {
        results[index] = { status: 'duplicate', id: article.id }
        return
      }
      inBatch.add(article.id)
      const groups = article.newsgroups.filter((g) => carried.has(g))
      if (groups.length === 0) {
        results[index] = { status: 'ignored', id: article.id, reason: 'this node carries none of its groups' }
        return
      }
      candidates.push({ index, article, change, groups, unchecked })
    })

    const stored = await storedIds(
      db,
      candidates.map((c) => c.article.id),
    )
    const signatureHolds = ({ index, unchecked }: Candidate) => (unchecked ? hasValidSignature(unchecked) : checked![index]!.validSignature)
    const accepted: Candidate[] = []
    for (const candidate of candidates) {
      const { article } = candidate
      if (stored.has(article.id)) results[candidate.index] = { status: 'duplicate', id: article.id }
      else if (!signatureHolds(candidate)) {
        results[candidate.index] = { status: 'rejected', problem: 'bad-signature', reason: 'the signature does not match the article and its Author-Key' }
      } else accepted.push(candidate)
    }

    if (accepted.length > 0) {
      const receivedAt = now()
      const entries: ShardEntry[] = accepted.flatMap(({ article, change, groups }) =>
        groups.map((group) => ({ id: article.id, group, date: article.date, change })),
      )
      const records: ArticleToRecord[] = accepted.map(({ article, groups }) => ({ article, groups, receivedAt }))
      // What was posted here must survive a power cut before the person is told it is posted; a peer's posts
      // are also on the peer, and anti-entropy fetches them again if a power cut took the last commits.
      const durability = origin === 'local' || origin === 'seed' ? 'power-loss' : 'process-crash'
      await transactionWith(db, durability, async (trx) => {
        await shards.add(trx, entries)
        await recordArticles(trx, records)
      })
      for (const { index, article } of accepted) results[index] = { status: 'accepted', id: article.id }
    }

    // Rejections are returned, not logged: each caller reports them once, with what it knows (gossip names
    // the sending peer, sync the neighbour, posting the person), so a flood is not logged twice over.
    if (accepted.length > 0) {
      const articles = accepted.map((a) => a.article)
      const batch: AcceptedBatch = { origin, changes: accepted.map((a) => a.change) }
      for (const listener of listeners) {
        try {
          listener(articles, batch)
        } catch (err) {
          log.error(`a listener of accepted posts failed: ${(err as Error).message}`)
        }
      }
    }
    return results
  }

  interface Job {
    readonly changes: readonly Uint8Array[]
    readonly options: IngestOptions
    readonly checking: Promise<(CheckedChange | undefined)[]> | undefined
    resolve(results: IngestResult[]): void
    reject(err: unknown): void
  }
  const waiting: Job[] = []
  let draining = false

  /**
   * Stores the waiting batches in order. Batches waiting behind each other from the same origin and group go
   * into one transaction, up to MAX_CHANGES_PER_COMMIT: a commit writes every index page its rows touched, so
   * 2,000 posts in one commit write about half the log that four commits of 500 do (a mirror's batches, a
   * burst of gossip).
   */
  async function drain(): Promise<void> {
    draining = true
    while (waiting.length > 0) {
      // Each commit starts on a fresh turn of the event loop. Its queries run synchronously (better-sqlite3), so
      // without that a backlog of batches held off sockets and timers until all of it was stored: 16 s for a
      // publisher 200 local posts behind in bench/propagation.ts, and libp2p's ping dropped its connections.
      await nextTurn()
      const first = waiting.shift()!
      const jobs = [first]
      let count = first.changes.length
      while (waiting.length > 0 && sameKind(waiting[0]!.options, first.options) && count + waiting[0]!.changes.length <= MAX_CHANGES_PER_COMMIT) {
        const next = waiting.shift()!
        jobs.push(next)
        count += next.changes.length
      }
      // The pool's checks of each batch, in the same order; batches checked on this thread have none. Filled,
      // not `new Array(n)`: flat() drops the holes of a sparse array, which shifted the checks of every batch
      // after a small one onto the wrong changes.
      const checking = jobs.some((j) => j.checking)
        ? Promise.all(jobs.map(async (j) => (await j.checking) ?? Array.from({ length: j.changes.length }, () => undefined))).then((parts) => parts.flat())
        : undefined
      checking?.catch(() => undefined)
      try {
        const results = await run(
          jobs.flatMap((j) => j.changes),
          first.options,
          checking,
        )
        let at = 0
        for (const job of jobs) {
          job.resolve(results.slice(at, at + job.changes.length))
          at += job.changes.length
        }
      } catch (err) {
        for (const job of jobs) job.reject(err)
      }
    }
    draining = false
  }

  return {
    ingestChanges(changes, options = {}) {
      // Large batches are read and verified on the pool's threads, starting now: while the batch before this one is
      // still being stored. The decisions (duplicates, order) are taken later, one batch at a time, the same as
      // without a pool. Bulk work (sync, seeds, bench) goes to the pool; gossip does not: its batches are small
      // and latency-bound, and a flood of garbage from a hostile peer must not make this node start threads.
      const useThePool = pool !== undefined && options.origin !== 'gossip' && changes.length >= POOL_MIN_BATCH
      const checking = useThePool ? checkOnWorkers(pool, changes, log) : undefined
      checking?.catch(() => undefined)
      return new Promise<IngestResult[]>((resolve, reject) => {
        waiting.push({ changes, options, checking, resolve, reject })
        if (!draining) void drain()
      })
    },
    onAccepted(listener) {
      listeners.add(listener)
      return () => listeners.delete(listener)
    },
    expectPosts(count) {
      if (count >= POOL_MIN_BATCH) pool?.start()
    },
  }
}

/** A change that passed the cheap checks; `unchecked` is its whole article when this thread read it, so the signature is still to check. */
interface Candidate {
  readonly index: number
  readonly article: ArticleRecord
  readonly change: Uint8Array
  readonly groups: GroupName[]
  readonly unchecked: SignedArticle | undefined
}

/** Batches stored in one transaction at most (see `drain`). */
export const MAX_CHANGES_PER_COMMIT = 2000

const sameKind = (a: IngestOptions, b: IngestOptions) => (a.origin ?? 'local') === (b.origin ?? 'local') && a.group === b.group

/**
 * Splits a batch evenly between the pool's threads and checks all parts at once. This thread checks none: it
 * has the network and the commits to do meanwhile, and the pool has a thread per core. A failed worker costs
 * only time: its share is checked here instead.
 */
async function checkOnWorkers(pool: VerifyPool, changes: readonly Uint8Array[], log: Logger): Promise<(CheckedChange | undefined)[]> {
  const share = Math.ceil(changes.length / pool.threads)
  const parts: Promise<(CheckedChange | undefined)[]>[] = []
  for (let start = 0; start < changes.length; start += share) {
    const part = changes.slice(start, start + share)
    parts.push(
      pool.check(part).catch((err: Error) => {
        log.warn(`${err.message}; checking on the main thread instead`)
        return part.map(checkChange)
      }),
    )
  }
  return (await Promise.all(parts)).flat()
}

/** Resolves after the event loop has had a turn (pending I/O and timers first). */
function nextTurn(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve))
}

function rejection(err: unknown): IngestResult {
  if (err instanceof InvalidArticleError || err instanceof InvalidChangeError) return { status: 'rejected', problem: err.problem, reason: err.message }
  throw err
}
