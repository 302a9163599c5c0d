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

/** Copies of stored blobs, to update in place with `addToBucket`. */
export function blobsOf(counts: Uint8Array, xors: Uint8Array): { counts: Buffer; xors: Buffer } {
  checkSizes(counts, xors)
  return { counts: Buffer.from(counts), xors: Buffer.from(xors) }
}

/** Adds posts to bucket `bucket` of a day's blobs: `count` more, their hashes' XOR folded in. */
export function addToBucket(blobs: { counts: Buffer; xors: Buffer }, bucket: number, count: number, xor: Uint8Array): void {
  blobs.counts.writeUInt32LE(blobs.counts.readUInt32LE(bucket * 4) + count, bucket * 4)
  xorInto(blobs.xors.subarray(bucket * XOR_BYTES, (bucket + 1) * XOR_BYTES), xor)
}

/** XORs `b` into `a` in place, over `a`'s length (32 bytes, or 16 for a truncated fingerprint). Honours views' offsets. */
/** A level-2 bucket (a hash's first byte) as the two hex digits a Message-ID starts with after its '<'. */
export const bucketHex = (bucket: number): string => bucket.toString(16).padStart(2, '0')

/** The level-2 bucket of a Message-ID ("<" + its hash in hex…): the hash's first byte. */
export const bucketOfId = (id: string): number => Number.parseInt(id.slice(1, 3), 16)

export function xorInto(a: Uint8Array, b: Uint8Array): void {
  for (let i = 0; i < a.length; i++) a[i]! ^= b[i]!
}

/** Reads a day's blobs (as views, not copies). */
export function decodeBuckets(counts: Uint8Array, xors: Uint8Array): DayBuckets {
  checkSizes(counts, xors)
  const countBytes = Buffer.from(counts.buffer, counts.byteOffset, counts.byteLength)
  const xorBytes = Buffer.from(xors.buffer, xors.byteOffset, xors.byteLength)
  return {
    counts: Array.from({ length: BUCKETS }, (_, b) => countBytes.readUInt32LE(b * 4)),
    xors: Array.from({ length: BUCKETS }, (_, b) => xorBytes.subarray(b * XOR_BYTES, (b + 1) * XOR_BYTES)),
  }
}

/** Refuses blobs of the wrong size rather than misreading them. */
function checkSizes(counts: Uint8Array, xors: Uint8Array): void {
  if (counts.length !== BUCKETS * 4 || xors.length !== BUCKETS * XOR_BYTES) {
    throw new Error(`a day_buckets row holds ${counts.length} + ${xors.length} bytes, not ${BUCKETS * 4} + ${BUCKETS * XOR_BYTES}`)
  }
}
