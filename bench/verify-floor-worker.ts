/**
 * The floor's verifier thread for bench/mirror.ts: decodes each article and checks its signature, nothing
 * else, and hands back the row to insert. Runs under the tsx loader the bench was started with.
 */
import { parentPort } from 'node:worker_threads'
import { decodeArticle, hasValidSignature } from '../src/article/index.ts'

export type FloorRow = [id: string, authorKey: string, subject: string, date: number, bytes: Uint8Array]

parentPort!.on('message', ({ seq, articles }: { seq: number; articles: Uint8Array[] }) => {
  const rows: FloorRow[] = articles.map((bytes) => {
    const a = decodeArticle(bytes)
    if (!hasValidSignature(a)) throw new Error('bad signature')
    return [a.id, a.authorKey, a.subject, a.date, a.bytes]
  })
  parentPort!.postMessage({ seq, rows })
})
