// The thread that moves committed pages from the write-ahead log into the database file (see
// checkpointer.ts). Plain JavaScript on purpose: it needs nothing of ours, so it loads the same under
// vitest, tsx and plain Node.
import { parentPort, workerData } from 'node:worker_threads'
import SqliteDatabase from 'better-sqlite3'

const { path, intervalMs } = workerData
const db = new SqliteDatabase(path, { fileMustExist: true })
db.pragma('busy_timeout = 1000')

function checkpoint() {
  try {
    // PASSIVE never waits for the writer or readers: it copies what it can now and the rest next time.
    const [result] = db.pragma('wal_checkpoint(PASSIVE)')
    parentPort.postMessage({ type: 'checkpointed', walPages: result.log, copiedPages: result.checkpointed })
  } catch (err) {
    parentPort.postMessage({ type: 'failed', message: err instanceof Error ? err.message : String(err) })
  }
}

const timer = setInterval(checkpoint, intervalMs)
parentPort.on('message', (message) => {
  if (message === 'stop') {
    clearInterval(timer)
    db.close()
    parentPort.close()
  } else if (message === 'now') checkpoint()
})
parentPort.postMessage({ type: 'ready' })
