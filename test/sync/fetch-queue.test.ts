import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import type { MessageId } from '../../src/article/index.ts'
import { FetchQueue, type WantedPost } from '../../src/sync/fetch-queue.ts'

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
  take(peerId: string, max: number): MessageId[] {
    const batch: MessageId[] = []
    const rest: MessageId[] = []
    let i = 0
    for (; i < this.queue.length && batch.length < max; i++) {
      const post = this.queue[i]!
      if (this.holders.get(post)!.has(peerId)) batch.push(post)
      else rest.push(post)
    }
    this.queue = [...rest, ...this.queue.slice(i)]
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
