import { availableParallelism } from 'node:os'
import { Worker } from 'node:worker_threads'
import { hasValidSignature, type ArticleRecord } from '../article/index.ts'
import type { Logger } from '../logger.ts'
import { readIfCanonical } from './canonical-change.ts'

/**
 * What reading one canonical change from outside gives: the article and whether its signature holds. The
 * signature is checked even when ingest will not need it (a duplicate), since a worker cannot know; ingest
 * still decides in the same order as without workers.
 */
export interface CheckedChange {
  readonly article: ArticleRecord
  readonly validSignature: boolean
}

/**
 * The costly, pure part of ingesting a change (about 80 µs of CPU): canonical read and signature check.
 * Undefined for a change that is not canonical: ingest reads it again on its own thread to say what is wrong
 * (that needs Automerge, which a verify thread does not load; a neighbour is dropped at its first bad post).
 */
export function checkChange(change: Uint8Array): CheckedChange | undefined {
  const read = readIfCanonical(change)
  if (!read) return undefined
  const { body: _, signature: __, ...article } = read.article
  return { article, validSignature: hasValidSignature(read.article) }
}

/**
 * Worker threads that run `checkChange`, so a large batch (a mirror, a sync) is checked on every core
 * (DESIGN.md, "Back-fill and mirroring"). Optional: ingest without a pool checks on its own thread.
 */
export interface VerifyPool {
  /** How many worker threads check changes (besides the caller's thread). */
  readonly threads: number
  /** Checks changes on one worker thread; the outcomes are in the same order. */
  check(changes: readonly Uint8Array[]): Promise<(CheckedChange | undefined)[]>
  /** Starts every thread now, when large batches are on their way (a thread takes 0.15-0.3 s to start). */
  start(): void
  stop(): Promise<void>
}

/** Sent to a worker: the changes packed into one transferred buffer (frames from the network are views of larger ones). */
export interface CheckRequest {
  readonly job: number
  readonly packed: Uint8Array
  readonly ends: Uint32Array
}

/** A checked change without its article's bytes (null: not canonical). */
type Outcome = { article: Omit<ArticleRecord, 'bytes'>; validSignature: boolean } | null

/** The answer: outcomes without the article bytes, which come packed in one transferred buffer. */
export type CheckResponse =
  | { readonly job: number; readonly outcomes: Outcome[]; readonly packed: Uint8Array; readonly ends: Uint32Array }
  | { readonly job: number; readonly error: string }

/**
 * Worker threads to start by default: one per core. The caller's thread checks nothing while a pool is busy
 * (it receives and commits), so the pool gets every core; idle threads cost nothing.
 */
export function defaultVerifyThreads(): number {
  return Math.max(1, availableParallelism())
}

/**
 * Starts no thread until the first check, so a node that never gets a large batch pays nothing. A worker
 * that fails is replaced on the next check; its pending checks are rejected.
 */
export function createVerifyPool({
  threads = defaultVerifyThreads(),
  log,
  compileCacheDir,
}: {
  threads?: number
  log: Logger
  /** Where the threads keep V8's compiled code of their modules (NODE_COMPILE_CACHE), so the next start reuses it. */
  compileCacheDir?: string
}): VerifyPool {
  if (!Number.isInteger(threads) || threads < 1) throw new RangeError(`a verify pool needs at least one thread, not ${threads}`)
  const workers: (PoolWorker | undefined)[] = new Array(threads)
  let next = 0
  let stopped = false
  const workerAt = (slot: number): PoolWorker => {
    let worker = workers[slot]
    if (!worker || worker.failed) {
      worker = startWorker(log, compileCacheDir)
      workers[slot] = worker
    }
    return worker
  }

  return {
    threads,
    async check(changes) {
      if (stopped) throw new Error('the verify pool is stopped')
      if (changes.length === 0) return []
      return workerAt(next++ % threads).check(changes)
    },
    start() {
      if (stopped) return
      for (let slot = 0; slot < threads; slot++) workerAt(slot)
    },
    async stop() {
      stopped = true
      await Promise.all(workers.map((w) => w?.stop()))
    },
  }
}

interface PoolWorker {
  readonly failed: boolean
  check(changes: readonly Uint8Array[]): Promise<(CheckedChange | undefined)[]>
  stop(): Promise<void>
}

/**
 * A worker holds one share of one batch at a time (a sync answer is at most 500 changes of up to 64 KiB, split
 * between the threads), so its heap need not grow as V8 would let it: with these limits two workers add about 50 MB less to a mirroring
 * node (RSS 265 → 215 MB after 20k checks on two threads). A worker that runs out is replaced (see above).
 */
const WORKER_HEAP_LIMITS = { maxOldGenerationSizeMb: 64, maxYoungGenerationSizeMb: 4 }

function startWorker(log: Logger, compileCacheDir: string | undefined): PoolWorker {
  // Node 24 runs the worker's TypeScript itself (type stripping: tsconfig's erasableSyntaxOnly keeps every
  // module strippable), so the worker does not load tsx's loader, inherited through execArgv or not. With
  // tsx, each thread took 0.3 s to start on an idle machine and 0.8 s at the start of a mirror. Stripping the
  // types and compiling the modules is most of what is left: with the compile cache (V8's code for modules the
  // last run compiled, checked against their source), a thread answered its first check 50 ms after it was
  // created instead of 115 ms on an idle machine, a 10k mirror in process took 1.30-1.33 s instead of
  // 1.43-1.49 s, and its peak RSS fell by about 20 MB (no TypeScript stripper loaded in each thread).
  const env = compileCacheDir === undefined ? process.env : { ...process.env, NODE_COMPILE_CACHE: compileCacheDir }
  const worker = new Worker(new URL('./verify-worker.ts', import.meta.url), { execArgv: [], env, resourceLimits: WORKER_HEAP_LIMITS })
  const pending = new Map<number, { resolve(outcomes: (CheckedChange | undefined)[]): void; reject(err: Error): void }>()
  let job = 0
  let failed = false
  // Only a worker with checks in flight keeps the process alive.
  worker.unref()
  const fail = (err: Error) => {
    failed = true
    for (const p of pending.values()) p.reject(err)
    pending.clear()
  }
  worker.on('message', (response: CheckResponse) => {
    const waiting = pending.get(response.job)
    pending.delete(response.job)
    if (pending.size === 0) worker.unref()
    if (!waiting) return
    if ('error' in response) waiting.reject(new Error(`checking changes on a worker thread failed: ${response.error}`))
    else waiting.resolve(unpackOutcomes(response))
  })
  worker.on('error', (err: Error) => {
    log.error(`a verify worker failed: ${err.message}`)
    fail(err)
  })
  worker.on('exit', (code) => fail(new Error(`a verify worker exited (code ${code})`)))
  return {
    get failed() {
      return failed
    },
    check(changes) {
      const { packed, ends } = pack(changes)
      const request: CheckRequest = { job: job++, packed, ends }
      return new Promise((resolve, reject) => {
        pending.set(request.job, { resolve, reject })
        worker.ref()
        worker.postMessage(request, [packed.buffer as ArrayBuffer])
      })
    },
    async stop() {
      await worker.terminate()
    },
  }
}

/** Copies byte strings into one buffer: `ends[i]` is where the i-th ends. */
export function pack(parts: readonly Uint8Array[]): { packed: Uint8Array; ends: Uint32Array } {
  const ends = new Uint32Array(parts.length)
  let total = 0
  parts.forEach((part, i) => {
    total += part.length
    ends[i] = total
  })
  const packed = new Uint8Array(total)
  for (const [i, part] of parts.entries()) packed.set(part, ends[i]! - part.length)
  return { packed, ends }
}

export function unpack(packed: Uint8Array, ends: Uint32Array): Uint8Array[] {
  return Array.from(ends, (end, i) => packed.subarray(i === 0 ? 0 : ends[i - 1]!, end))
}

function unpackOutcomes({ outcomes, packed, ends }: { outcomes: Outcome[]; packed: Uint8Array; ends: Uint32Array }): (CheckedChange | undefined)[] {
  const bytes = unpack(packed, ends)
  let k = 0
  return outcomes.map((o) => (o ? { article: { ...o.article, bytes: bytes[k++]! }, validSignature: o.validSignature } : undefined))
}

/** The worker's side: checks the changes of one request and packs the answer (see verify-worker.ts). */
export function answerCheck({ job, packed, ends }: CheckRequest): { response: CheckResponse; transfer: ArrayBuffer[] } {
  try {
    const articles: Uint8Array[] = []
    const outcomes = unpack(packed, ends).map((change): Outcome => {
      const checked = checkChange(change)
      if (!checked) return null
      const { bytes, ...article } = checked.article
      articles.push(bytes)
      return { article, validSignature: checked.validSignature }
    })
    const out = pack(articles)
    return { response: { job, outcomes, ...out }, transfer: [out.packed.buffer as ArrayBuffer] }
  } catch (err) {
    return { response: { job, error: err instanceof Error ? err.message : String(err) }, transfer: [] }
  }
}
