import type { MessageId } from '../article/index.ts'

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

  /** Whether a post not handed out yet is held by `peerId`. */
  hasFor(peerId: string): boolean {
    if (this.returned.some((id) => this.holders(id).includes(peerId))) return true
    for (let i = this.cursors.get(peerId) ?? 0; i < this.order.length; i++) {
      if (this.handedOut[i] === 0 && this.holders(this.order[i]!).includes(peerId)) return true
    }
    return false
  }
}
