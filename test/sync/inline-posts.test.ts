import { randomBytes } from 'node:crypto'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { pairWithXor } from '../../src/sync/inline-posts.ts'
import { XOR_BYTES } from '../../src/sync/sync-frames.ts'

const xorOf = (a: Uint8Array, b: Uint8Array) => Buffer.from(a.subarray(0, XOR_BYTES).map((x, k) => x ^ b[k]!))

describe('finding the two posts a bucket differs by', () => {
  it('finds the pair whose hashes XOR to the difference, among up to 64 hashes', () => {
    fc.assert(
      fc.property(fc.integer({ min: 2, max: 64 }), fc.nat(), fc.nat(), (n, a, b) => {
        const hashes = Array.from({ length: n }, () => randomBytes(32))
        const [i, j] = [a % n, (a + 1 + (b % (n - 1))) % n]
        const pair = pairWithXor(hashes, xorOf(hashes[i]!, hashes[j]!))
        expect(pair && [...pair].sort((x, y) => x - y)).toEqual([i, j].sort((x, y) => x - y))
      }),
    )
  })

  it('finds nothing when no pair gives the difference, or when the bucket is too large to search', () => {
    const hashes = Array.from({ length: 30 }, () => randomBytes(32))
    expect(pairWithXor(hashes, randomBytes(XOR_BYTES))).toBeUndefined()
    const many = Array.from({ length: 65 }, () => randomBytes(32))
    expect(pairWithXor(many, xorOf(many[0]!, many[1]!))).toBeUndefined()
  })
})
