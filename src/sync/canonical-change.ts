import { hash } from 'node:crypto'
import { decodeArticle, MAX_ARTICLE_BYTES, messageIdHex, sameBytes, type SignedArticle } from '../article/index.ts'

/** An article's change adds its actor, key and a few bytes of framing. */
export const MAX_CHANGE_BYTES = MAX_ARTICLE_BYTES + 1024

/**
 * The one Automerge change that carries an article (DESIGN.md, "Each post is one canonical change"): actor =
 * the first 16 bytes of the Message-ID hash, seq 1, time 0, no message, no dependencies, one put of the
 * Message-ID at the root with the article bytes as value. Every node builds the same bytes.
 *
 * Written here byte by byte rather than through Automerge, because a node rebuilds it for every post it
 * receives (to check a peer's change is exactly this) and Automerge's way costs ten times as much (≈ 0.1 ms,
 * mostly document bookkeeping). The layout is Automerge's change chunk (automerge.org, "Binary Document
 * Format"); test/sync/canonical-change.test.ts holds it to what `Automerge.change` makes for articles of every
 * size, and a golden fixture pins the bytes.
 */
export function canonicalChange(article: SignedArticle): Uint8Array {
  const actor = Buffer.from(messageIdHex(article.id).slice(0, 32), 'hex')
  const key = Buffer.from(article.id, 'utf8')
  const value = article.bytes
  // Column data, each column a run-length-encoded run of one literal (sLEB128 -1 = 0x7f) where it applies.
  const keyColumn = [RUN_OF_ONE, ...uleb128(key.length)]
  const valueMeta = [RUN_OF_ONE, ...uleb128(value.length * 16 + VALUE_TYPE_BYTES)]
  const header = [
    0, // no dependencies
    actor.length,
    ...actor,
    1, // seq
    1, // start op
    0, // time
    0, // no message
    0, // no other actors
    6, // columns, each (spec, length of its data), in spec order
    COLUMN_KEY_STRING,
    ...uleb128(keyColumn.length + key.length),
    COLUMN_INSERT,
    1,
    COLUMN_ACTION,
    2,
    COLUMN_VALUE_META,
    ...uleb128(valueMeta.length),
    COLUMN_VALUE_RAW,
    ...uleb128(value.length),
    COLUMN_PRED_GROUP,
    2,
  ]
  const beforeKey = Buffer.from(header)
  const afterKey = Buffer.from([1 /* insert: a run of one false */, RUN_OF_ONE, ACTION_SET, ...valueMeta])
  const bodyLength = beforeKey.length + keyColumn.length + key.length + afterKey.length + value.length + PRED_GROUP_DATA.length
  const chunkHead = Buffer.from([CHUNK_TYPE_CHANGE, ...uleb128(bodyLength)])
  const chunk = Buffer.concat([chunkHead, beforeKey, Buffer.from(keyColumn), key, afterKey, value, PRED_GROUP_DATA])
  const checksum = hash('sha256', chunk, 'buffer').subarray(0, 4)
  return Buffer.concat([MAGIC, checksum, chunk])
}

const MAGIC = Buffer.from([0x85, 0x6f, 0x4a, 0x83])
const CHUNK_TYPE_CHANGE = 1
const RUN_OF_ONE = 0x7f
const COLUMN_KEY_STRING = 0x15
const COLUMN_INSERT = 0x34
const COLUMN_ACTION = 0x42
const COLUMN_VALUE_META = 0x56
const COLUMN_VALUE_RAW = 0x57
const COLUMN_PRED_GROUP = 0x70
const ACTION_SET = 1
const VALUE_TYPE_BYTES = 7
/** No predecessors: a run of one 0. */
const PRED_GROUP_DATA = Buffer.from([RUN_OF_ONE, 0])

function uleb128(n: number): number[] {
  const out: number[] = []
  do {
    let byte = n & 0x7f
    n = Math.floor(n / 128)
    if (n > 0) byte |= 0x80
    out.push(byte)
  } while (n > 0)
  return out
}

export interface CanonicalChange {
  /** Decoded and in canonical form; its signature is not verified yet (that is the costly step, done last). */
  readonly article: SignedArticle
  readonly change: Uint8Array
}

/**
 * Reads a change from outside if it is byte for byte the canonical change of the article it carries, so
 * nothing else can ride along: no other op, key, actor, dependency or message. Undefined otherwise; then
 * `readCanonicalChange` (read-change.ts) says what is wrong. This half does not load Automerge, so a verify
 * thread starts without it.
 *
 * It finds the article where the canonical layout puts it, without decoding the change. Safe whatever the
 * input, because the result only counts if rebuilding the canonical change gives the input byte for byte.
 */
export function readIfCanonical(change: Uint8Array): CanonicalChange | undefined {
  if (change.length > MAX_CHANGE_BYTES) return undefined
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

const ARTICLE_START = Buffer.from('Newsgroups: ')
/** In a canonical change the article bytes are stored raw and followed by this many bytes of other columns. */
const BYTES_AFTER_ARTICLE = 2
