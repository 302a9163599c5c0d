import type { MessageId } from '../article/index.ts'
import { MAX_RANGE_PARTS, type RangePart } from './sync-frames.ts'

/** A post a pull still lacks: its UTC day (days since the epoch) and the neighbours that said they hold it. */
export interface WantedPost {
  readonly day: number
  readonly holders: readonly string[]
}

/**
 * The posts one pull still has to fetch, newest day first, shared out between the neighbours that hold
 * them. Taking a batch costs what it hands out plus what it skips once: each neighbour reads the list
 * through a cursor of its own, which only moves forward, since a post it does not hold now it never will
 * (a neighbour that fails to deliver is struck off the post's holders). A 50k mirror used to copy the whole
 * list on every take, about 0.4 s of the event loop.
 */
export class FetchQueue {
  private readonly order: MessageId[]
  /** Each post's day and holders; giveBack strikes a neighbour off. */
  private readonly wanted: Map<MessageId, WantedPost>
  /** 1 where `order[i]` was handed out (or is no longer anyone's to fetch). */
  private readonly handedOut: Uint8Array
  private readonly cursors = new Map<string, number>()
  /** Posts given back by a neighbour that did not deliver them: served before the rest. */
  private returned: MessageId[] = []
  private left: number
  private readonly isServing: (peerId: string) => boolean

  /**
   * Takes `wanted` over (the caller lets go of it: no copy of a 50k-post map at the start of a mirror).
   * `isServing(peer)`: whether a neighbour may still be asked (one that failed is not).
   */
  constructor(wanted: Map<MessageId, WantedPost>, isServing: (peerId: string) => boolean) {
    this.isServing = isServing
    this.wanted = wanted
    // Newest day first, so a group is readable while it fills; within a day, in the order compared in.
    const byDay = new Map<number, MessageId[]>()
    for (const [id, { day }] of wanted) {
      const ids = byDay.get(day)
      if (ids) ids.push(id)
      else byDay.set(day, [id])
    }
    this.order = [...byDay.keys()].sort((a, b) => b - a).flatMap((day) => byDay.get(day)!)
    this.handedOut = new Uint8Array(this.order.length)
    this.left = this.order.length
  }

  private holders(id: MessageId): readonly string[] {
    return this.wanted.get(id)!.holders
  }

  /** Posts not handed out yet (a post no serving neighbour holds any more counts until a take passes it). */
  get size(): number {
    return this.left
  }

  /** Hands out up to `max` posts `peerId` holds: given-back ones first, then the newest. */
  take(peerId: string, max: number): MessageId[] {
    const batch: MessageId[] = []
    if (this.returned.length > 0) {
      const kept: MessageId[] = []
      for (const id of this.returned) {
        if (batch.length < max && this.holders(id).includes(peerId)) batch.push(id)
        else kept.push(id)
      }
      this.returned = kept
    }
    let i = this.cursors.get(peerId) ?? 0
    for (; i < this.order.length && batch.length < max; i++) {
      if (this.handedOut[i] === 1) continue
      const id = this.order[i]!
      if (!this.holders(id).includes(peerId)) continue
      this.handedOut[i] = 1
      batch.push(id)
    }
    this.cursors.set(peerId, i)
    this.left -= batch.length
    return batch
  }

  /**
   * Takes back what `peerId` was handed and did not deliver: it is struck off those posts' holders, and each
   * goes back to the front for a serving neighbour that still holds it (or is dropped if none does).
   */
  giveBack(peerId: string, ids: readonly MessageId[]): void {
    const back: MessageId[] = []
    for (const id of ids) {
      const post = this.wanted.get(id)
      if (!post) continue
      const others = post.holders.filter((p) => p !== peerId)
      this.wanted.set(id, { day: post.day, holders: others })
      if (others.some(this.isServing)) back.push(id)
    }
    this.returned = [...back, ...this.returned]
    this.left += back.length
  }

  /**
   * The day of the first post `take(peerId)` would hand out (undefined: none). The neighbour's cursor moves up
   * to that post, past what take would skip anyway, so the take after it does not walk the same posts again.
   */
  nextDay(peerId: string): number | undefined {
    for (const id of this.returned) if (this.holders(id).includes(peerId)) return this.wanted.get(id)!.day
    let i = this.cursors.get(peerId) ?? 0
    while (i < this.order.length && (this.handedOut[i] === 1 || !this.holders(this.order[i]!).includes(peerId))) i++
    this.cursors.set(peerId, i)
    return i < this.order.length ? this.wanted.get(this.order[i]!)!.day : undefined
  }

  /** Whether a post not handed out yet is held by `peerId`. */
  hasFor(peerId: string): boolean {
    if (this.returned.some((id) => this.holders(id).includes(peerId))) return true
    for (let i = this.cursors.get(peerId) ?? 0; i < this.order.length; i++) {
      if (this.handedOut[i] === 0 && this.holders(this.order[i]!).includes(peerId)) return true
    }
    return false
  }
}

/**
 * Posts a pull fetches by `range` request rather than by id: parts of days it held none of, and how many of
 * their posts each neighbour said it holds. Parts are newest day first.
 */
export interface FetchRange {
  readonly parts: readonly RangePart[]
  readonly expected: ReadonlyMap<string, number>
}

/**
 * Cuts the days the neighbours offered whole (day → neighbour → its 256 level-2 bucket counts) into requests
 * of about `target` posts, counting bucket by bucket the most any of them holds: the days, newest first, are
 * one run of buckets, and a request closes at the bucket that brings it to `target`. So a large day comes in
 * parts and small days several to a request (a history of small days would otherwise take a request a day).
 */
export function planRanges(days: ReadonlyMap<number, ReadonlyMap<string, readonly number[]>>, target: number): FetchRange[] {
  const ranges: FetchRange[] = []
  let parts: RangePart[] = []
  let size = 0
  const flush = () => {
    if (parts.length === 0) return
    const expected = new Map<string, number>()
    for (const part of parts) {
      for (const [peerId, counts] of days.get(part.day)!) expected.set(peerId, (expected.get(peerId) ?? 0) + sum(counts, part.first, part.last))
    }
    ranges.push({ parts, expected })
    parts = []
    size = 0
  }
  for (const day of [...days.keys()].sort((a, b) => b - a)) {
    const holders = [...days.get(day)!.values()]
    const most = Array.from({ length: 256 }, (_, b) => Math.max(...holders.map((counts) => counts[b] ?? 0)))
    let first = 0
    let inPart = 0
    for (let b = 0; b < 256; b++) {
      size += most[b]!
      inPart += most[b]!
      if (size >= target) {
        if (inPart > 0) parts.push({ day, first, last: b })
        flush()
        first = b + 1
        inPart = 0
      }
    }
    if (inPart > 0) parts.push({ day, first, last: 255 })
    if (parts.length === MAX_RANGE_PARTS) flush()
  }
  flush()
  return ranges
}

function sum(counts: readonly number[], first: number, last: number): number {
  let n = 0
  for (let b = first; b <= last; b++) n += counts[b] ?? 0
  return n
}

/** The day ranges one pull still has to fetch, newest first, each handed to one neighbour that holds the day. */
export class RangeQueue {
  private pending: FetchRange[]
  private readonly isServing: (peerId: string) => boolean

  constructor(ranges: FetchRange[], isServing: (peerId: string) => boolean) {
    this.pending = ranges
    this.isServing = isServing
  }

  get size(): number {
    return this.pending.length
  }

  private indexFor(peerId: string): number {
    return this.pending.findIndex((r) => (r.expected.get(peerId) ?? 0) > 0)
  }

  /** The newest day of the range `take(peerId)` would hand out (undefined: none). */
  nextDay(peerId: string): number | undefined {
    return this.pending[this.indexFor(peerId)]?.parts[0]?.day
  }

  hasFor(peerId: string): boolean {
    return this.indexFor(peerId) >= 0
  }

  /** Hands out the newest range `peerId` holds posts of. */
  take(peerId: string): FetchRange | undefined {
    const i = this.indexFor(peerId)
    return i < 0 ? undefined : this.pending.splice(i, 1)[0]
  }

  /** Takes back a range `peerId` did not deliver: it goes to the front for another neighbour that holds the day, if one still serves. */
  giveBack(peerId: string, range: FetchRange): void {
    const expected = new Map(range.expected)
    expected.delete(peerId)
    if ([...expected.keys()].some(this.isServing)) this.pending.unshift({ ...range, expected })
  }
}
