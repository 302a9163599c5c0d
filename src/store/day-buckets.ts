/**
 * A day's 256 bucket fingerprints as stored in one `day_buckets` row: bucket b's count is the little-endian
 * uint32 at 4b of `counts`, its XOR the 32 bytes at 32b of `xors`. One row rather than 256: reading a day's
 * buckets took 0.2-0.4 ms as rows (a Buffer per row), about 6 ms of a 24 ms anti-entropy pull.
 */

export const BUCKETS = 256
export const XOR_BYTES = 32

/** A day's buckets, decoded: counts, and each XOR as a 32-byte view. */
export interface DayBuckets {
  readonly counts: number[]
  readonly xors: Buffer[]
}

export function emptyBlobs(): { counts: Buffer; xors: Buffer } {
  return { counts: Buffer.alloc(BUCKETS * 4), xors: Buffer.alloc(BUCKETS * XOR_BYTES) }
}

/** Copies of stored blobs, to update in place; refuses blobs of the wrong size rather than misreading them. */
export function blobsOf(counts: Uint8Array, xors: Uint8Array): { counts: Buffer; xors: Buffer } {
  if (counts.length !== BUCKETS * 4 || xors.length !== BUCKETS * XOR_BYTES) {
    throw new Error(`a day_buckets row holds ${counts.length} + ${xors.length} bytes, not ${BUCKETS * 4} + ${BUCKETS * XOR_BYTES}`)
  }
  return { counts: Buffer.from(counts), xors: Buffer.from(xors) }
}

export function decodeBuckets(counts: Uint8Array, xors: Uint8Array): DayBuckets {
  const blobs = blobsOf(counts, xors)
  return {
    counts: Array.from({ length: BUCKETS }, (_, b) => blobs.counts.readUInt32LE(b * 4)),
    xors: Array.from({ length: BUCKETS }, (_, b) => blobs.xors.subarray(b * XOR_BYTES, (b + 1) * XOR_BYTES)),
  }
}
