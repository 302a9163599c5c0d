/**
 * The floor's verifier thread for bench/mirror.ts: decodes each article and checks its signature, nothing
 * else, and hands back the row to insert. Runs under the tsx loader the bench was started with.
 */
import { parentPort } from 'node:worker_threads'
import { decodeArticle, hasValidSignature, parentOf, threadRootOf } from '../src/article/index.ts'

/** The values of an article's row in the store's articles table, but received_at. */
export type FloorRow = [id: string, authorKey: string, from: string, subject: string, date: number, parentId: string | null, rootId: string, bytes: Uint8Array]

parentPort!.on('message', ({ seq, articles }: { seq: number; articles: Uint8Array[] }) => {
  const rows: FloorRow[] = articles.map((bytes) => {
    const a = decodeArticle(bytes)
    if (!hasValidSignature(a)) throw new Error('bad signature')
    return [a.id, a.authorKey, a.from, a.subject, a.date, parentOf(a) ?? null, threadRootOf(a), a.bytes]
  })
  parentPort!.postMessage({ seq, rows })
})
