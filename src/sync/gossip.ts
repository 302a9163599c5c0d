import type { GroupName } from '../article/index.ts'
import type { Logger } from '../logger.ts'
import { MAX_CHANGE_BYTES } from './canonical-change.ts'
import type { Ingest, IngestResult } from './ingest.ts'

/** What flooding needs from the network (src/node's Peer has it). */
export interface GossipTransport {
  joinTopic(topic: string, validate: (data: Uint8Array, from: string) => Promise<'accept' | 'ignore' | 'reject'>): void
  leaveTopic(topic: string): void
  publish(topic: string, data: Uint8Array): Promise<number>
}

const REJECTION_SUMMARY_MS = 30_000

/** One gossipsub topic per group; the version is in the name so a new payload format is a new topic. */
export function groupTopic(group: string): string {
  return `/usenet/1/g/${group}`
}

export interface GossipInit {
  /**
   * How long a message waits for others to share its transaction when no gossip is being stored, in ms. While
   * a batch is being stored, the next one gathers until it commits, whatever this says.
   */
  batchWindowMs?: number
  maxBatch?: number
  /**
   * TEST HOOK, not a feature: called with each message that reaches this node's validator; when it returns true
   * the message is treated as lost on the wire (Ignore, never Reject, so no relay is penalised; not stored, not
   * relayed), so tests can show anti-entropy repairing what gossip lost. Absent in production.
   */
  testOnlyDropDelivery?: (data: Uint8Array) => boolean
}

export interface GossipStats {
  accepted: number
  duplicates: number
  ignored: number
  rejected: number
}

export interface Gossip {
  /** Starts flooding a group: joins its topic with a validator that stores valid posts before they are relayed. */
  carry(group: GroupName): void
  drop(group: GroupName): void
  carried(): GroupName[]
  stats(): GossipStats
  stop(): void
}

/**
 * Floods posts: each local post's canonical change goes to its groups' topics, and each message from the
 * network is validated by ingest itself, so a post is stored before it is relayed and a bad one is never
 * forwarded. Messages that arrive together share one transaction: while one batch is being stored, the next
 * gathers (group commit), so batches grow with load and an idle node stores a message at once.
 */
export function createGossip(
  { transport, ingest, log }: { transport: GossipTransport; ingest: Ingest; log: Logger },
  { batchWindowMs = 0, maxBatch = 64, testOnlyDropDelivery }: GossipInit = {},
): Gossip {
  const groups = new Set<GroupName>()
  const stats: GossipStats = { accepted: 0, duplicates: 0, ignored: 0, rejected: 0 }
  const pending = new Map<GroupName, { changes: Uint8Array[]; waiters: ((r: IngestResult | undefined) => void)[]; timer: NodeJS.Timeout }>()

  // Gossip batches handed to ingest and not yet committed. A fixed wait before every batch cost each hop its
  // whole window even on an idle node (5 of the 9 ms a hop took between two idle nodes here).
  let storing = 0

  function flush(group: GroupName): void {
    const batch = pending.get(group)
    if (!batch) return
    pending.delete(group)
    clearTimeout(batch.timer)
    storing++
    const stored = ingest.ingestChanges(batch.changes, { origin: 'gossip', group })
    void stored
      .catch(() => undefined)
      .then(() => {
        if (--storing === 0) for (const next of [...pending.keys()]) flush(next)
      })
    stored.then(
      (results) => {
        for (const [i, result] of results.entries()) batch.waiters[i]!(result)
      },
      (err) => {
        log.error(`storing gossip failed: ${(err as Error).message}`)
        for (const waiter of batch.waiters) waiter(undefined)
      },
    )
  }

  function validator(group: GroupName) {
    return async (data: Uint8Array, from: string): Promise<'accept' | 'ignore' | 'reject'> => {
      // A lost message is never seen: it counts in no statistic and reaches neither the checks nor ingest.
      if (testOnlyDropDelivery?.(data)) return 'ignore'
      if (data.length > MAX_CHANGE_BYTES) {
        stats.rejected++
        log.debug(`rejected a message from ${from} in ${group}: ${data.length} bytes is over the limit`)
        return 'reject'
      }
      const result = await new Promise<IngestResult | undefined>((resolve) => {
        let batch = pending.get(group)
        if (!batch) {
          // When it fires while another batch is being stored, that batch's commit flushes this one.
          batch = { changes: [], waiters: [], timer: setTimeout(() => storing === 0 && flush(group), batchWindowMs) }
          pending.set(group, batch)
        }
        batch.changes.push(data)
        batch.waiters.push(resolve)
        if (batch.changes.length >= maxBatch) flush(group)
      })
      switch (result?.status) {
        case 'accepted':
          stats.accepted++
          return 'accept'
        case 'duplicate':
          stats.duplicates++
          return 'ignore'
        case 'rejected':
          stats.rejected++
          log.debug(`rejected a message from ${from} in ${group} (${result.problem}): ${result.reason}`)
          noteRejection(from, result.problem)
          return 'reject'
        default:
          // Valid but unwanted here, or our own storage failed: not the relay's fault.
          stats.ignored++
          return 'ignore'
      }
    }
  }

  // Each rejection is logged at debug level; at info, one summary per peer and interval, so a flood of
  // bad messages cannot flood the log.
  const rejections = new Map<string, Map<string, number>>()
  function noteRejection(from: string, problem: string): void {
    const byProblem = rejections.get(from) ?? new Map<string, number>()
    byProblem.set(problem, (byProblem.get(problem) ?? 0) + 1)
    if (rejections.size < 1000 || rejections.has(from)) rejections.set(from, byProblem)
  }
  const summary = setInterval(() => {
    for (const [from, byProblem] of rejections) {
      const parts = [...byProblem].map(([problem, n]) => `${n} ${problem}`).join(', ')
      log.info(`rejected messages from ${from} in the last ${REJECTION_SUMMARY_MS / 1000} s: ${parts}`)
    }
    rejections.clear()
  }, REJECTION_SUMMARY_MS)
  summary.unref()

  const stopListening = ingest.onAccepted((articles, { origin, changes }) => {
    if (origin !== 'local') return
    articles.forEach((article, i) => {
      for (const group of article.newsgroups) {
        if (!groups.has(group)) continue
        transport.publish(groupTopic(group), changes[i]!).catch((err) => log.warn(`publishing to ${group} failed: ${(err as Error).message}`))
      }
    })
  })

  return {
    carry(group) {
      if (groups.has(group)) return
      groups.add(group)
      transport.joinTopic(groupTopic(group), validator(group))
    },
    drop(group) {
      if (!groups.delete(group)) return
      transport.leaveTopic(groupTopic(group))
    },
    carried: () => [...groups],
    stats: () => ({ ...stats }),
    stop() {
      clearInterval(summary)
      stopListening()
      for (const group of pending.keys()) flush(group)
    },
  }
}
