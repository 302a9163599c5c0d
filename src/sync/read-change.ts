import * as Automerge from '@automerge/automerge'
import { decodeArticle, sameBytes } from '../article/index.ts'
import { type CanonicalChange, canonicalChange, MAX_CHANGE_BYTES, readIfCanonical } from './canonical-change.ts'
import { InvalidChangeError } from './errors.ts'

/**
 * Reads a change from outside. Accepts it only if it is byte for byte the canonical change of the article it
 * carries, so nothing else can ride along: no other op, key, actor, dependency or message. Otherwise throws an
 * InvalidChangeError (or the article's InvalidArticleError) that says what is wrong.
 */
export function readCanonicalChange(change: Uint8Array): CanonicalChange {
  if (change.length > MAX_CHANGE_BYTES) throw new InvalidChangeError(`the change is ${change.length} bytes; the limit is ${MAX_CHANGE_BYTES}`)
  return readIfCanonical(change) ?? explainedRead(change)
}

/** The slow path: decodes the change with Automerge to say precisely what is wrong with it. */
function explainedRead(change: Uint8Array): CanonicalChange {
  let decoded: Automerge.DecodedChange
  try {
    decoded = Automerge.decodeChange(change)
  } catch {
    throw new InvalidChangeError('the bytes are not an Automerge change')
  }
  const op = decoded.ops.length === 1 ? decoded.ops[0] : undefined
  // Automerge decodes a bytes value as an array of numbers (its types leave that case out).
  const value: unknown = op?.value
  if (op?.action !== 'set' || op.obj !== '_root' || typeof op.key !== 'string' || !Array.isArray(value)) {
    throw new InvalidChangeError('the change must hold exactly one put of article bytes at the document root')
  }
  if (decoded.deps.length !== 0 || decoded.seq !== 1) throw new InvalidChangeError('the change must have no dependencies and seq 1')
  const article = decodeArticle(Uint8Array.from(value as number[]))
  if (article.id !== op.key) throw new InvalidChangeError('the change files the article under a key that is not its Message-ID')
  if (!sameBytes(canonicalChange(article), change)) throw new InvalidChangeError('the change is not the canonical change of its article')
  return { article, change }
}
