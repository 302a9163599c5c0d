import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import type { MessageId } from '../../src/article/index.ts'
import { FetchQueue, planRanges, RangeQueue, type WantedPost } from '../../src/sync/fetch-queue.ts'
import { MAX_RANGE_PARTS } from '../../src/sync/sync-frames.ts'

const id = (n: number) => `<${n.toString(16).padStart(64, '0')}@test>` as MessageId

function wantedOf(posts: readonly { day: number; holders: string[] }[]): Map<MessageId, WantedPost> {
  return new Map(posts.map((p, n) => [id(n), p]))
}

/**
 * The list the queue replaced: one array, copied on every take, given-back posts put in front. What it
 * hands out, and in which order, is what the queue must hand out.
 */
class ListModel {
  queue: MessageId[]
  private readonly holders: Map<MessageId, Set<string>>
  private readonly isServing: (peerId: string) => boolean
  constructor(holders: Map<MessageId, Set<string>>, days: Map<MessageId, number>, isServing: (peerId: string) => boolean) {
    this.holders = holders
    this.isServing = isServing
    this.queue = [...holders.keys()].sort((a, b) => days.get(b)! - days.get(a)!)
  }
  take(peerId: string, max: number, { peek = false }: { peek?: boolean } = {}): MessageId[] {
    const batch: MessageId[] = []
    const rest: MessageId[] = []
    let i = 0
    for (; i < this.queue.length && batch.length < max; i++) {
      const post = this.queue[i]!
      if (this.holders.get(post)!.has(peerId)) batch.push(post)
      else rest.push(post)
    }
    if (!peek) this.queue = [...rest, ...this.queue.slice(i)]
    return batch
  }
  giveBack(peerId: string, ids: readonly MessageId[]): void {
    const back = ids.filter((post) => {
      const set = this.holders.get(post)!
      set.delete(peerId)
      return [...set].some(this.isServing)
    })
    this.queue = [...back, ...this.queue]
  }
  hasFor(peerId: string): boolean {
    return this.queue.some((post) => this.holders.get(post)!.has(peerId))
  }
}

describe('the fetch queue of a pull', () => {
  it('hands out the newest day first, each post once, and only to a neighbour that holds it', () => {
    const queue = new FetchQueue(
      wantedOf([
        { day: 1, holders: ['a', 'b'] },
        { day: 3, holders: ['b'] },
        { day: 2, holders: ['a'] },
        { day: 3, holders: ['a', 'b'] },
      ]),
      () => true,
    )
    expect(queue.size).toBe(4)
    expect(queue.take('a', 2)).toEqual([id(3), id(2)])
    expect(queue.take('b', 10)).toEqual([id(1), id(0)])
    expect(queue.take('a', 10)).toEqual([])
    expect(queue.size).toBe(0)
    expect(queue.hasFor('a')).toBe(false)
  })

  it('gives what a neighbour did not deliver to another holder first, never back to it', () => {
    const serving = new Set(['a', 'b'])
    const queue = new FetchQueue(
      wantedOf([
        { day: 5, holders: ['a', 'b'] },
        { day: 4, holders: ['a'] },
        { day: 3, holders: ['a', 'b'] },
        { day: 2, holders: ['b'] },
      ]),
      (p) => serving.has(p),
    )
    const first = queue.take('a', 3)
    expect(first).toEqual([id(0), id(1), id(2)])
    serving.delete('a')
    queue.giveBack('a', first)
    // id(1) had no other holder: it is dropped, not queued for ever.
    expect(queue.size).toBe(3)
    expect(queue.hasFor('a')).toBe(false)
    expect(queue.take('b', 10)).toEqual([id(0), id(2), id(3)])
    expect(queue.size).toBe(0)
  })

  it('serves what was given back last first, as the list it replaced did', () => {
    const queue = new FetchQueue(
      wantedOf([
        { day: 2, holders: ['a', 'c'] },
        { day: 1, holders: ['b', 'c'] },
      ]),
      () => true,
    )
    expect(queue.take('a', 1)).toEqual([id(0)])
    expect(queue.take('b', 1)).toEqual([id(1)])
    queue.giveBack('a', [id(0)])
    queue.giveBack('b', [id(1)])
    expect(queue.take('c', 5)).toEqual([id(1), id(0)])
  })

  it('hands out exactly what the list it replaced handed out, in the same order', () => {
    const peers = ['a', 'b', 'c']
    const post = fc.record({ day: fc.integer({ min: 0, max: 6 }), holders: fc.subarray(peers, { minLength: 1 }) })
    // Failures are rare, or every neighbour would soon be gone and nothing left to compare.
    const step = fc.oneof(
      { weight: 5, arbitrary: fc.record({ kind: fc.constant('take' as const), peer: fc.constantFrom(...peers), max: fc.integer({ min: 1, max: 6 }) }) },
      { weight: 4, arbitrary: fc.record({ kind: fc.constant('giveBack' as const), peer: fc.constantFrom(...peers), keep: fc.integer({ min: 0, max: 3 }) }) },
      { weight: 1, arbitrary: fc.record({ kind: fc.constant('fail' as const), peer: fc.constantFrom(...peers) }) },
    )
    fc.assert(
      fc.property(fc.array(post, { maxLength: 40 }), fc.array(step, { maxLength: 60 }), (posts, steps) => {
        const serving = new Set(peers)
        const isServing = (p: string) => serving.has(p)
        const wanted = wantedOf(posts)
        const queue = new FetchQueue(wanted, isServing)
        const model = new ListModel(new Map([...wanted].map(([k, v]) => [k, new Set(v.holders)])), new Map([...wanted].map(([k, v]) => [k, v.day])), isServing)
        const lastBatch = new Map<string, MessageId[]>()
        for (const s of steps) {
          if (s.kind === 'take') {
            if (!serving.has(s.peer)) continue
            // The day the next take starts on, asked first (as a pull does, to choose between ids and ranges).
            const next = model.take(s.peer, 1, { peek: true })[0]
            expect(queue.nextDay(s.peer)).toBe(next === undefined ? undefined : wanted.get(next)!.day)
            const batch = queue.take(s.peer, s.max)
            expect(batch).toEqual(model.take(s.peer, s.max))
            lastBatch.set(s.peer, batch)
          } else if (s.kind === 'giveBack') {
            // A neighbour gives back what it did not deliver of its last batch.
            const undelivered = (lastBatch.get(s.peer) ?? []).slice(s.keep)
            lastBatch.delete(s.peer)
            queue.giveBack(s.peer, undelivered)
            model.giveBack(s.peer, undelivered)
          } else serving.delete(s.peer)
          expect(queue.size).toBe(model.queue.length)
          for (const p of peers) expect(queue.hasFor(p)).toBe(model.hasFor(p))
        }
      }),
      { numRuns: 300 },
    )
  })
})

describe('planning the ranges of days fetched whole', () => {
  /** Neighbours' bucket counts of some days: each day held by one to three of them, with sparse or dense buckets. */
  const offers = fc.dictionary(
    fc.integer({ min: 19_000, max: 19_100 }).map(String),
    fc.dictionary(
      fc.constantFrom('a', 'b', 'c'),
      fc.array(fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 4 }), fc.integer({ min: 0, max: 700 })), { minLength: 256, maxLength: 256 }),
      { minKeys: 1 },
    ),
    { maxKeys: 12 },
  )
  const toMap = (o: Record<string, Record<string, number[]>>) =>
    new Map(Object.entries(o).map(([day, holders]) => [Number(day), new Map(Object.entries(holders))]))

  it('covers every bucket holding posts exactly once, newest day first, in requests of about the target', () => {
    fc.assert(
      fc.property(offers, fc.constantFrom(50, 250, 500), (o, target) => {
        const days = toMap(o)
        const ranges = planRanges(days, target)
        const most = (day: number, b: number) => Math.max(...[...days.get(day)!.values()].map((c) => c[b]!))
        const covered = new Map<string, number>()
        let previousDay = Number.POSITIVE_INFINITY
        for (const [i, range] of ranges.entries()) {
          expect(range.parts.length).toBeGreaterThan(0)
          expect(range.parts.length).toBeLessThanOrEqual(MAX_RANGE_PARTS)
          let size = 0
          let largest = 0
          for (const part of range.parts) {
            expect(part.day).toBeLessThanOrEqual(previousDay)
            previousDay = part.day
            expect(part.first).toBeLessThanOrEqual(part.last)
            for (let b = part.first; b <= part.last; b++) {
              covered.set(`${part.day} ${b}`, (covered.get(`${part.day} ${b}`) ?? 0) + 1)
              size += most(part.day, b)
              largest = Math.max(largest, most(part.day, b))
            }
          }
          // Closed by the bucket that brought it to the target: never more than that bucket past it. Only the
          // last may be smaller, or one cut short by the limit on parts.
          expect(size).toBeLessThan(target + largest)
          if (i < ranges.length - 1 && range.parts.length < MAX_RANGE_PARTS) expect(size).toBeGreaterThanOrEqual(target)
          // What each neighbour said it holds in the range.
          for (const [peer, n] of range.expected) {
            const own = range.parts.reduce((sum, p) => {
              const counts = days.get(p.day)!.get(peer)
              return sum + (counts ? counts.slice(p.first, p.last + 1).reduce((a, c) => a + c, 0) : 0)
            }, 0)
            expect(n).toBe(own)
          }
        }
        for (const [day] of days) {
          for (let b = 0; b < 256; b++) {
            if (most(day, b) > 0) expect(covered.get(`${day} ${b}`), `${day} ${b}`).toBe(1)
            else expect(covered.get(`${day} ${b}`) ?? 0).toBeLessThanOrEqual(1)
          }
        }
      }),
    )
  })

  it('hands each range to a neighbour that holds posts in it, and one not delivered to another that does', () => {
    const counts = (n: number) => Array.from({ length: 256 }, (_, b) => (b === 7 ? n : 0))
    const days = new Map([
      [20_002, new Map([['a', counts(300)]])],
      [
        20_001,
        new Map([
          ['a', counts(300)],
          ['b', counts(300)],
        ]),
      ],
      [20_000, new Map([['b', counts(300)]])],
    ])
    const failed = new Set<string>()
    const queue = new RangeQueue(planRanges(days, 300), (p) => !failed.has(p))
    expect(queue.size).toBe(3)
    expect(queue.nextDay('b')).toBe(20_001)
    const first = queue.take('b')!
    expect(first.parts.map((p) => p.day)).toEqual([20_001])
    // b did not deliver: a, which holds that day too, gets it before anything older.
    failed.add('b')
    queue.giveBack('b', first)
    expect(queue.take('a')!.parts.map((p) => p.day)).toEqual([20_001])
    expect(queue.take('a')!.parts.map((p) => p.day)).toEqual([20_002])
    expect(queue.take('a')).toBeUndefined()
    // The oldest day only b held: it is left, for nobody (the pull compares again for what is left over).
    expect(queue.hasFor('a')).toBe(false)
    expect(queue.size).toBe(1)
  })
})
