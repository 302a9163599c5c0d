import { closeSync, openSync, readSync } from 'node:fs'
import { endianness } from 'node:os'
import { Worker } from 'node:worker_threads'
import type SqliteDatabase from 'better-sqlite3'

/** How often the background thread checkpoints, in ms. */
const DEFAULT_INTERVAL_MS = 500
/** After a complete checkpoint SQLite reuses the log from its start; this caps the file it leaves behind. */
const WAL_SIZE_LIMIT_BYTES = 64 * 1024 * 1024
/** A log this long (pages; 64 MiB of 4 KiB pages) makes writers wait for a checkpoint: see `catchUp`. */
const DEFAULT_MAX_LOG_PAGES = 16_384

export interface Checkpointer {
  /** Checkpoints now; resolves with the pages it could not copy yet (-1 if it failed). */
  checkpointNow(): Promise<number>
  /**
   * Resolves at once while the log is short. Once it is longer than the limit, checkpoints and resolves when the
   * log has been copied, so the next commit starts it again from the beginning. A writer calls this before a
   * write transaction. PASSIVE checkpoints alone never let the log start again while commits keep coming (it
   * reached 865 MB while mirroring 50k posts, and every page read searches the whole log's index).
   */
  catchUp(): Promise<void>
  stop(): Promise<void>
}

type WorkerReport = { type: 'ready' } | { type: 'checkpointed'; walPages: number; copiedPages: number } | { type: 'failed'; message: string }

/**
 * Checkpoints the write-ahead log on a thread of its own. SQLite's automatic checkpoint runs inside whichever
 * commit crosses 1,000 pages of log, and better-sqlite3 runs that commit on the event loop: every ~80 posts one
 * ingest stalled for a checkpoint's copy and fsyncs (0.35 ms per post on average, idle disk; much more when many
 * nodes share a disk), delaying gossip and page loads. Here the connection only appends to the log; a second
 * connection on a worker copies it into the database file meanwhile (WAL lets both run at once). If the thread
 * fails, automatic checkpoints come back, so the log never grows without bound.
 */
export function startCheckpointer(
  sqlite: SqliteDatabase.Database,
  { intervalMs = DEFAULT_INTERVAL_MS, maxLogPages = DEFAULT_MAX_LOG_PAGES, onError = (_: string) => {} } = {},
): Checkpointer {
  sqlite.pragma(`journal_size_limit = ${WAL_SIZE_LIMIT_BYTES}`)
  sqlite.pragma('wal_autocheckpoint = 0')
  // Without the parent's flags: under the CLI those load tsx, 0.3 s of CPU this plain JavaScript does not need.
  const worker = new Worker(new URL('./checkpoint-worker.mjs', import.meta.url), { workerData: { path: sqlite.name, intervalMs }, execArgv: [] })
  // The database, not this thread, decides when the process may exit.
  worker.unref()
  const waiting: ((walPages: number) => void)[] = []
  let running = true
  // The log's length at the last checkpoint, in pages, when the WAL index cannot be read.
  let logPages = 0
  const walIndex = walIndexReader(sqlite.name)
  let catchingUp: Promise<void> | undefined
  const fallBack = (why: string) => {
    if (!running) return
    running = false
    if (sqlite.open) sqlite.pragma('wal_autocheckpoint = 1000')
    onError(`background checkpoints stopped (${why}); the log is checkpointed on commit again`)
    for (const resolve of waiting.splice(0)) resolve(-1)
  }
  worker.on('message', (report: WorkerReport) => {
    if (report.type === 'checkpointed') {
      logPages = report.walPages
      for (const resolve of waiting.splice(0)) resolve(report.walPages - report.copiedPages)
    } else if (report.type === 'failed') {
      onError(`a checkpoint failed: ${report.message}`)
      for (const resolve of waiting.splice(0)) resolve(-1)
    }
  })
  worker.on('error', (err: Error) => fallBack(err.message))
  worker.on('exit', (code) => fallBack(`its thread exited with code ${code}`))

  return {
    checkpointNow() {
      if (!running) return Promise.resolve(-1)
      return new Promise((resolve) => {
        waiting.push(resolve)
        worker.postMessage('now')
      })
    },
    catchUp() {
      if (!running || (walIndex.logFrames() ?? logPages) < maxLogPages) return Promise.resolve()
      catchingUp ??= this.checkpointNow().then((left) => {
        catchingUp = undefined
        // Copied entirely: the next commit restarts the log. Otherwise a reader holds old pages; try again later.
        if (left === 0) logPages = 0
      })
      return catchingUp
    },
    async stop() {
      if (!running) return
      running = false
      walIndex.close()
      const exited = new Promise((resolve) => worker.once('exit', resolve))
      // Waiting for an unref'd thread would not keep the process alive until it is done.
      worker.ref()
      worker.postMessage('stop')
      await exited
    },
  }
}

/** Where mxFrame, the number of valid frames in the log, sits in the WAL index header (sqlite.org/walformat.html). */
const MX_FRAME_OFFSET = 16

/**
 * Reads the log's length in frames (pages) from the WAL index SQLite keeps beside the database (`-shm`; its
 * header is in native byte order). The writer reads it before each write transaction, so waiting for a
 * checkpoint does not depend on the checkpoint thread's reports coming in time: a thread starved of CPU
 * reported late, and meanwhile the log grew past its limit. Undefined when the file cannot be read.
 */
function walIndexReader(databasePath: string): { logFrames(): number | undefined; close(): void } {
  let fd: number | undefined
  const word = Buffer.alloc(4)
  return {
    logFrames() {
      try {
        fd ??= openSync(`${databasePath}-shm`, 'r')
        if (readSync(fd, word, 0, 4, MX_FRAME_OFFSET) < 4) return undefined
        return endianness() === 'LE' ? word.readUInt32LE(0) : word.readUInt32BE(0)
      } catch {
        return undefined
      }
    },
    close() {
      if (fd !== undefined) closeSync(fd)
      fd = undefined
    },
  }
}
