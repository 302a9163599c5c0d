import { isGroupName, messageIdFromHex, messageIdHex, type GroupName, type MessageId } from '../article/index.ts'
import { MAX_CHANGE_BYTES } from './canonical-change.ts'

/**
 * The frames of `/usenet/sync/1`, version 4: compact binary, parsed once at the edge into typed values. Every
 * request is one stream: a request frame, then the answer as frames of whole entries ended by an empty frame.
 *
 * Request: version (u8: 4, or 2-3 from an older asker), op (u8), group name length (u8), group name (ASCII), the op's body:
 * - digests (1): from day, to day, n, then n × (day − previous day, count, XOR) for the asker's days in
 *   [from, to], ascending (the first delta is from `from`). Days are UTC days since 1970-01-01.
 * - buckets (2): n, then n × (day, mask u16 LE of level-1 buckets, for each set bit from bit 0 up 16 level-2
 *   digests): the asker's level-2 digests under the level-1 buckets that differ.
 * - changes (3): n ≤ 500, then n × 32-byte Message-ID hashes.
 * - hint (4): nothing.
 * - range (5, version 3): n ≤ 64, then n × (day, first u8, last u8): the changes of the answerer's posts of each
 *   day whose hash's first byte (level-2 bucket) is in [first, last], at most MAX_RANGE_POSTS in all. Asked for
 *   days the asker held none of (see `whole`): a large day in parts, small days several to a request.
 *
 * Version 3 adds the `whole` day entry and the `range` op; version 4 the `post` entries, which carry a post the
 * asker lacks with the answer instead of its id (a small difference then settles without a `changes` round
 * trip). An older asker's request is answered without what it does not know.
 * A digest is (count, XOR) with the XOR truncated to 16 bytes and left out when the count is 0. Numbers are
 * unsigned LEB128 varints below 2^32.
 */
export const FRAME_VERSION = 4
/** The oldest version still answered (without what later versions added). */
export const OLDEST_FRAME_VERSION = 2
export const XOR_BYTES = 16
export const ID_BYTES = 32
/** Days since 1970-01-01 a frame may name: up to the year 7711. */
export const MAX_DAY = 2 ** 21
export const MAX_IDS_PER_REQUEST = 500
/** Parts (a day's range of buckets) one `range` request may name. */
export const MAX_RANGE_PARTS = 64
/** Posts one `range` answer holds at most: the answerer stops there, and the asker accepts no more. */
export const MAX_RANGE_POSTS = 4 * MAX_IDS_PER_REQUEST
/** Digests one `digests` request may list. */
export const MAX_REQUEST_DAYS = 4096
/** Days and level-1 buckets one `buckets` request may ask about. */
export const MAX_BUCKET_DAYS = 64
export const MAX_LEVEL1_BUCKETS = 256
/**
 * `post` entries one answer holds at most: they settle small differences in the comparison itself; past
 * this, the answerer sends ids and the asker fetches them in bulk.
 */
export const MAX_INLINE_POSTS = 64
/** Ids in one `ids` entry, so an entry always fits a frame (512 KiB). */
export const MAX_IDS_PER_ENTRY = 16_384
const MAX_REQUEST_BYTES = 256 * 1024

export interface Digest {
  readonly count: number
  /** The first XOR_BYTES bytes of the XOR of the hashes. */
  readonly xor: Uint8Array
}

export type SyncRequest =
  | { op: 'digests'; group: GroupName; from: number; to: number; days: readonly (Digest & { day: number })[] }
  | { op: 'buckets'; group: GroupName; days: readonly { day: number; mask: number; digests: readonly Digest[] }[] }
  | { op: 'changes'; group: GroupName; ids: readonly MessageId[] }
  | { op: 'hint'; group: GroupName }
  | { op: 'range'; group: GroupName; parts: readonly RangePart[] }

/** The posts of one day whose hash's first byte is in [first, last]. */
export interface RangePart {
  readonly day: number
  readonly first: number
  readonly last: number
}

/** An answer entry of the `digests` round, for one day where the two sides differ. */
export type DayEntry =
  /** The answerer holds none of the day. */
  | { kind: 'empty'; day: number }
  /** Ids of the answerer's posts of the day (a day may take several entries). */
  | { kind: 'ids'; day: number; ids: readonly Uint8Array[] }
  /** The asker lacks exactly this post of the day and nothing else of it. */
  | { kind: 'one'; day: number; id: Uint8Array }
  /** The answerer's 16 level-1 digests of the day (by the hash's first hex digit). */
  | { kind: 'buckets'; day: number; digests: readonly Digest[] }
  /** Differs, but over this answer's budget: ask again. `count` is the answerer's count of the day. */
  | { kind: 'later'; day: number; count: number }
  /**
   * The asker holds none of the day (version 3): the answerer's count per level-2 bucket (the hash's first
   * byte), 256 of them, instead of every id; the asker fetches the day by `range` requests.
   */
  | { kind: 'whole'; day: number; counts: readonly number[] }
  /** As `one` (version 4), with the post's change instead of its id: the asker need not fetch it. */
  | { kind: 'post'; day: number; change: Uint8Array }

/** An answer entry of the `buckets` round, for one level-2 bucket (the hash's first byte) that differs. */
export type BucketEntry =
  | { kind: 'one'; day: number; bucket: number; id: Uint8Array }
  | { kind: 'ids'; day: number; bucket: number; ids: readonly Uint8Array[] }
  /** The answerer stopped at its budget; the asker asked for more than it should. */
  | { kind: 'truncated'; day: number; bucket: number }
  /** As `one` (version 4), with the post's change instead of its id. */
  | { kind: 'post'; day: number; bucket: number; change: Uint8Array }

const OPS = ['digests', 'buckets', 'changes', 'hint', 'range'] as const
const DAY_KINDS = ['empty', 'ids', 'one', 'buckets', 'later', 'whole', 'post'] as const
/** Level-2 buckets of a day: the first byte of a hash. */
export const LEVEL2_BUCKETS = 256
const BUCKET_KINDS = ['one', 'ids', 'truncated', 'post'] as const

/**
 * The whole answer to a request the answerer refuses (version 4): a frame of this one byte, which no answer
 * entry starts with. An asker of an older version gets its stream closed unanswered instead, which a version
 * 4 asker would take for a node of an older version.
 */
export const REFUSAL: Uint8Array = Uint8Array.of(0xff)

export function isRefusal(frame: Uint8Array): boolean {
  return frame.length === 1 && frame[0] === REFUSAL[0]
}

/** A frame that does not follow the format; the message says which field. */
export class MalformedFrameError extends Error {
  override readonly name = 'MalformedFrameError'
}

/** Appends bytes and varints to a growing buffer. */
export class FrameWriter {
  private buf = Buffer.allocUnsafe(256)
  length = 0

  private room(n: number): void {
    if (this.length + n <= this.buf.length) return
    const next = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.length + n))
    this.buf.copy(next, 0, 0, this.length)
    this.buf = next
  }

  u8(v: number): this {
    this.room(1)
    this.buf[this.length++] = v
    return this
  }

  varint(v: number): this {
    this.room(5)
    while (v >= 0x80) {
      this.buf[this.length++] = (v & 0x7f) | 0x80
      v = Math.floor(v / 128)
    }
    this.buf[this.length++] = v
    return this
  }

  bytes(b: Uint8Array): this {
    this.room(b.length)
    this.buf.set(b, this.length)
    this.length += b.length
    return this
  }

  digest(d: Digest): this {
    this.varint(d.count)
    return d.count > 0 ? this.bytes(d.xor.subarray(0, XOR_BYTES)) : this
  }

  /** The bytes so far; the writer starts again empty. */
  take(): Uint8Array {
    const out = Uint8Array.prototype.slice.call(this.buf, 0, this.length)
    this.length = 0
    return out
  }
}

/** Reads what FrameWriter writes; every read is bounds-checked and throws MalformedFrameError. */
export class FrameReader {
  private pos = 0
  private readonly frame: Uint8Array

  constructor(frame: Uint8Array) {
    this.frame = frame
  }

  get done(): boolean {
    return this.pos >= this.frame.length
  }

  u8(what: string): number {
    if (this.pos >= this.frame.length) throw new MalformedFrameError(`ends before ${what}`)
    return this.frame[this.pos++]!
  }

  varint(what: string, max = 2 ** 32 - 1): number {
    let value = 0
    for (let shift = 0; shift < 35; shift += 7) {
      const b = this.u8(what)
      value += (b & 0x7f) * 2 ** shift
      if ((b & 0x80) === 0) {
        // Canonical: no trailing zero groups ("0x80 0x00" for 0).
        if (b === 0 && shift > 0) throw new MalformedFrameError(`${what} is not a minimal varint`)
        if (value > max) throw new MalformedFrameError(`${what} ${value} exceeds ${max}`)
        return value
      }
    }
    throw new MalformedFrameError(`${what} is too long a varint`)
  }

  bytes(n: number, what: string): Uint8Array {
    if (this.pos + n > this.frame.length) throw new MalformedFrameError(`ends inside ${what}`)
    const out = this.frame.subarray(this.pos, this.pos + n)
    this.pos += n
    return out
  }

  digest(what: string): Digest {
    const count = this.varint(`${what} count`, 2 ** 31)
    return { count, xor: count > 0 ? this.bytes(XOR_BYTES, `${what} XOR`) : ZERO_XOR }
  }

  end(what: string): void {
    if (!this.done) throw new MalformedFrameError(`has ${this.frame.length - this.pos} bytes after ${what}`)
  }
}

export const ZERO_XOR: Uint8Array = new Uint8Array(XOR_BYTES)

export function sameDigest(a: Digest, b: Digest): boolean {
  return a.count === b.count && (a.count === 0 || Buffer.compare(a.xor.subarray(0, XOR_BYTES), b.xor.subarray(0, XOR_BYTES)) === 0)
}

/** A request frame, in `version` (an older one for a neighbour that speaks no later; its ops must exist there). */
export function encodeRequest(request: SyncRequest, version = FRAME_VERSION): Uint8Array {
  if (version < OLDEST_FRAME_VERSION || version > FRAME_VERSION || (request.op === 'range' && version < 3)) {
    throw new RangeError(`a ${request.op} request cannot be written in version ${version}`)
  }
  const w = new FrameWriter().u8(version).u8(OPS.indexOf(request.op) + 1)
  const name = Buffer.from(request.group, 'ascii')
  w.u8(name.length).bytes(name)
  switch (request.op) {
    case 'digests': {
      w.varint(request.from).varint(request.to).varint(request.days.length)
      let previous = request.from
      for (const d of request.days) {
        w.varint(d.day - previous).digest(d)
        previous = d.day
      }
      break
    }
    case 'buckets':
      w.varint(request.days.length)
      for (const d of request.days) {
        w.varint(d.day)
          .u8(d.mask & 0xff)
          .u8(d.mask >> 8)
        for (const digest of d.digests) w.digest(digest)
      }
      break
    case 'changes':
      w.varint(request.ids.length)
      for (const id of request.ids) w.bytes(Buffer.from(messageIdHex(id), 'hex'))
      break
    case 'hint':
      break
    case 'range':
      w.varint(request.parts.length)
      for (const part of request.parts) w.varint(part.day).u8(part.first).u8(part.last)
      break
  }
  return w.take()
}

/** Parses a request frame; throws MalformedFrameError on anything out of format or over a limit. */
export function decodeRequest(frame: Uint8Array): SyncRequest {
  return readRequest(frame).request
}

/** A request and the version its asker speaks (what the answer may use). */
export function readRequest(frame: Uint8Array): { version: number; request: SyncRequest } {
  if (frame.length > MAX_REQUEST_BYTES) throw new MalformedFrameError(`is ${frame.length} bytes`)
  const r = new FrameReader(frame)
  const version = r.u8('the version')
  if (version < OLDEST_FRAME_VERSION || version > FRAME_VERSION) throw new MalformedFrameError(`has version ${version}`)
  const op = OPS[r.u8('the op') - 1]
  if (!op || (op === 'range' && version < 3)) throw new MalformedFrameError('has an unknown op')
  return { version, request: readBody(r, op) }
}

function readBody(r: FrameReader, op: SyncRequest['op']): SyncRequest {
  const name = Buffer.from(r.bytes(r.u8('the group length'), 'the group')).toString('latin1')
  if (!isGroupName(name)) throw new MalformedFrameError('names no valid group')
  const group = name as GroupName
  switch (op) {
    case 'digests': {
      const from = r.varint('from', MAX_DAY)
      const to = r.varint('to', MAX_DAY)
      if (to < from) throw new MalformedFrameError('has to < from')
      const n = r.varint('the day count', MAX_REQUEST_DAYS)
      const days: (Digest & { day: number })[] = []
      let day = from
      for (let i = 0; i < n; i++) {
        const delta = r.varint('a day delta', MAX_DAY)
        if (i > 0 && delta === 0) throw new MalformedFrameError('repeats a day')
        day += delta
        if (day > to) throw new MalformedFrameError('lists a day out of its range')
        const digest = r.digest('a day')
        if (digest.count === 0) throw new MalformedFrameError('lists an empty day')
        days.push({ day, ...digest })
      }
      r.end('the digests')
      return { op, group, from, to, days }
    }
    case 'buckets': {
      const n = r.varint('the day count', MAX_BUCKET_DAYS)
      const days: { day: number; mask: number; digests: Digest[] }[] = []
      let level1 = 0
      for (let i = 0; i < n; i++) {
        const day = r.varint('a day', MAX_DAY)
        if (days.some((d) => d.day === day)) throw new MalformedFrameError('repeats a day')
        const mask = r.u8('a mask') | (r.u8('a mask') << 8)
        if (mask === 0) throw new MalformedFrameError('asks about no bucket of a day')
        const buckets = popCount(mask)
        level1 += buckets
        if (level1 > MAX_LEVEL1_BUCKETS) throw new MalformedFrameError(`asks about more than ${MAX_LEVEL1_BUCKETS} buckets`)
        const digests: Digest[] = []
        for (let j = 0; j < 16 * buckets; j++) digests.push(r.digest('a bucket'))
        days.push({ day, mask, digests })
      }
      r.end('the buckets')
      return { op, group, days }
    }
    case 'changes': {
      const n = r.varint('the id count', MAX_IDS_PER_REQUEST)
      const ids: MessageId[] = []
      for (let i = 0; i < n; i++) ids.push(messageIdFromHex(Buffer.from(r.bytes(ID_BYTES, 'an id')).toString('hex')))
      r.end('the ids')
      return { op, group, ids }
    }
    case 'hint':
      r.end('the group')
      return { op, group }
    case 'range': {
      const n = r.varint('the part count', MAX_RANGE_PARTS)
      if (n === 0) throw new MalformedFrameError('asks for no part')
      const parts: RangePart[] = []
      for (let i = 0; i < n; i++) {
        const day = r.varint('a day', MAX_DAY)
        const first = r.u8('a first bucket')
        const last = r.u8('a last bucket')
        if (last < first) throw new MalformedFrameError('has a last bucket before its first')
        parts.push({ day, first, last })
      }
      r.end('the parts')
      return { op, group, parts }
    }
  }
}

export function popCount(mask: number): number {
  let n = 0
  for (let m = mask; m; m &= m - 1) n++
  return n
}

export function writeDayEntry(w: FrameWriter, e: DayEntry): void {
  w.u8(DAY_KINDS.indexOf(e.kind)).varint(e.day)
  switch (e.kind) {
    case 'empty':
      return
    case 'ids':
      w.varint(e.ids.length)
      for (const id of e.ids) w.bytes(id)
      return
    case 'one':
      w.bytes(e.id)
      return
    case 'buckets':
      for (const d of e.digests) w.digest(d)
      return
    case 'later':
      w.varint(e.count)
      return
    case 'whole':
      for (const count of e.counts) w.varint(count)
      return
    case 'post':
      w.varint(e.change.length).bytes(e.change)
  }
}

/** The entries of one answer frame of the `digests` round. */
export function readDayEntries(frame: Uint8Array): DayEntry[] {
  const r = new FrameReader(frame)
  const out: DayEntry[] = []
  while (!r.done) {
    const kind = DAY_KINDS[r.u8('an entry kind')]
    if (kind === undefined) throw new MalformedFrameError('has an unknown entry kind')
    const day = r.varint('a day', MAX_DAY)
    switch (kind) {
      case 'empty':
        out.push({ kind, day })
        break
      case 'ids':
        out.push({ kind, day, ids: readIds(r) })
        break
      case 'one':
        out.push({ kind, day, id: r.bytes(ID_BYTES, 'an id') })
        break
      case 'buckets':
        out.push({ kind, day, digests: Array.from({ length: 16 }, () => r.digest('a bucket')) })
        break
      case 'later':
        out.push({ kind, day, count: r.varint('a count', 2 ** 31) })
        break
      case 'whole':
        out.push({ kind, day, counts: Array.from({ length: LEVEL2_BUCKETS }, () => r.varint('a bucket count', 2 ** 31)) })
        break
      case 'post':
        out.push({ kind, day, change: readChange(r) })
    }
  }
  return out
}

export function writeBucketEntry(w: FrameWriter, e: BucketEntry): void {
  w.u8(BUCKET_KINDS.indexOf(e.kind)).varint(e.day).u8(e.bucket)
  if (e.kind === 'one') w.bytes(e.id)
  else if (e.kind === 'ids') {
    w.varint(e.ids.length)
    for (const id of e.ids) w.bytes(id)
  } else if (e.kind === 'post') w.varint(e.change.length).bytes(e.change)
}

export function readBucketEntries(frame: Uint8Array): BucketEntry[] {
  const r = new FrameReader(frame)
  const out: BucketEntry[] = []
  while (!r.done) {
    const kind = BUCKET_KINDS[r.u8('an entry kind')]
    if (kind === undefined) throw new MalformedFrameError('has an unknown entry kind')
    const day = r.varint('a day', MAX_DAY)
    const bucket = r.u8('a bucket')
    if (kind === 'one') out.push({ kind, day, bucket, id: r.bytes(ID_BYTES, 'an id') })
    else if (kind === 'ids') out.push({ kind, day, bucket, ids: readIds(r) })
    else if (kind === 'post') out.push({ kind, day, bucket, change: readChange(r) })
    else out.push({ kind, day, bucket })
  }
  return out
}

function readChange(r: FrameReader): Uint8Array {
  const length = r.varint('a change length', MAX_CHANGE_BYTES)
  if (length === 0) throw new MalformedFrameError('has an empty change')
  return r.bytes(length, 'a change')
}

function readIds(r: FrameReader): Uint8Array[] {
  const n = r.varint('an id count', MAX_IDS_PER_ENTRY)
  return Array.from({ length: n }, () => r.bytes(ID_BYTES, 'an id'))
}

/** "2026-11-23" ↔ days since 1970-01-01. */
export function dayNumber(day: string): number {
  return Math.round(Date.parse(`${day}T00:00:00Z`) / 86_400_000)
}

export function dayString(day: number): string {
  return new Date(day * 86_400_000).toISOString().slice(0, 10)
}

export function idOfHash(hash: Uint8Array): MessageId {
  return messageIdFromHex(Buffer.from(hash.buffer, hash.byteOffset, hash.byteLength).toString('hex'))
}
