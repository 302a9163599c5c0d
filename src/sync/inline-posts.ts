import { bucketOfId } from '../store/index.ts'
import { readIfCanonical } from './canonical-change.ts'
import { MAX_INLINE_POSTS } from './sync-frames.ts'

/*
 * Posts sent with comparison answers (`post` entries of `/usenet/sync/1`, version 4): where the asker lacks
 * exactly one post of a day or a level-2 bucket, or two of a bucket, the answer carries them, so a few lost
 * posts settle within the comparison's round trips (anti-entropy.ts).
 */

/** A post a neighbour sent with a comparison answer, and the day (and bucket) it said the post is of. */
export interface InlinePost {
  readonly day: number
  readonly bucket?: number
  readonly change: Uint8Array
}

/** Whether an inline post is of the day (and bucket) its answer entry named, read from its change (undefined: not canonical, ingest says why). */
export function whereItSaid(post: InlinePost): boolean | undefined {
  const read = readIfCanonical(post.change)
  if (!read) return undefined
  const { date, id } = read.article
  return Math.floor(date / 86_400_000) === post.day && (post.bucket === undefined || bucketOfId(id) === post.bucket)
}

/** How many more posts an answer may carry inline (`post` entries), MAX_INLINE_POSTS in all. */
export function inlineBudget(): { take(n?: number): boolean } {
  let left = MAX_INLINE_POSTS
  return {
    take(n = 1) {
      if (left < n) return false
      left -= n
      return true
    },
  }
}

/** Buckets searched pair by pair at most (a level-2 bucket of a busy day holds a dozen posts). */
const MAX_PAIR_SEARCH = 64

/** Two of `hashes` whose XOR begins with `diff` (the difference of two fingerprints whose counts differ by two). */
export function pairWithXor(hashes: readonly Uint8Array[], diff: Uint8Array): [number, number] | undefined {
  if (hashes.length > MAX_PAIR_SEARCH) return undefined
  for (let i = 0; i < hashes.length; i++) {
    for (let j = i + 1; j < hashes.length; j++) {
      let k = 0
      while (k < diff.length && (hashes[i]![k]! ^ hashes[j]![k]!) === diff[k]) k++
      if (k === diff.length) return [i, j]
    }
  }
  return undefined
}
