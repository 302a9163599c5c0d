import * as Automerge from '@automerge/automerge'
import { decodeArticle, MAX_ARTICLE_BYTES, messageIdHex, sameBytes, type SignedArticle } from '../article/index.ts'
import { InvalidChangeError } from './errors.ts'

/** An article's change adds its actor, key and a few bytes of framing. */
export const MAX_CHANGE_BYTES = MAX_ARTICLE_BYTES + 1024

/**
 * The one Automerge change that carries an article (DESIGN.md, "Each post is one canonical change"): actor =
 * the first 16 bytes of the Message-ID hash, seq 1, time 0, no message, no dependencies, one put of the
 * Message-ID at the root with the article bytes as value. Every node builds the same bytes.
 */
export function canonicalChange(article: SignedArticle): Uint8Array {
  const actor = messageIdHex(article.id).slice(0, 32)
  const doc = Automerge.init<Record<string, Uint8Array>>({ actor })
  try {
    // Straight on the document's backend: Automerge.change would also build patches and materialize the
    // document for JavaScript, which is more than half the cost, and a node rebuilds this for every post it
    // receives. The golden fixture in test/sync/canonical-change.test.ts holds the bytes to what change() makes.
    const backend = Automerge.getBackend(doc)
    backend.put('_root', article.id, article.bytes, 'bytes')
    backend.commit(null, 0)
    const change = backend.getLastLocalChange()
    if (!change) throw new Error('Automerge produced no change')
    return change
  } finally {
    // Automerge documents live in WebAssembly memory, which the garbage collector does not see.
    Automerge.free(doc)
  }
}

export interface CanonicalChange {
  /** Decoded and in canonical form; its signature is not verified yet (that is the costly step, done last). */
  readonly article: SignedArticle
  readonly change: Uint8Array
}

/**
 * Reads a change from outside. Accepts it only if it is byte for byte the canonical change of the article it
 * carries, so nothing else can ride along: no other op, key, actor, dependency or message.
 */
export function readCanonicalChange(change: Uint8Array): CanonicalChange {
  if (change.length > MAX_CHANGE_BYTES) throw new InvalidChangeError(`the change is ${change.length} bytes; the limit is ${MAX_CHANGE_BYTES}`)
  return fastRead(change) ?? fullRead(change)
}

const ARTICLE_START = Buffer.from('Newsgroups: ')
/** In a canonical change the article bytes are stored raw and followed by this many bytes of other columns. */
const BYTES_AFTER_ARTICLE = 2

/**
 * Finds the article where the canonical layout puts it, without decoding the change. Safe whatever the
 * input, because the result only counts if rebuilding the canonical change gives the input byte for byte.
 */
function fastRead(change: Uint8Array): CanonicalChange | undefined {
  const bytes = Buffer.from(change.buffer, change.byteOffset, change.byteLength)
  const start = bytes.indexOf(ARTICLE_START)
  if (start < 0 || start >= bytes.length - BYTES_AFTER_ARTICLE) return undefined
  let article: SignedArticle
  try {
    article = decodeArticle(bytes.subarray(start, bytes.length - BYTES_AFTER_ARTICLE))
  } catch {
    return undefined
  }
  return sameBytes(canonicalChange(article), change) ? { article, change } : undefined
}

/** The slow path: decodes the change with Automerge to say precisely what is wrong with it. */
function fullRead(change: Uint8Array): CanonicalChange {
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
