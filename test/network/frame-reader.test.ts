import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { FrameReadError, frameReader } from '../../src/node/frame-reader.ts'

/*
 * The length-prefixed frame reader on its own, fed chunks cut anywhere (streams.test.ts runs it between real
 * libp2p peers). A frame is an unsigned LEB128 varint length, then the bytes.
 */

function varint(value: number): number[] {
  const out: number[] = []
  while (value >= 0x80) {
    out.push((value & 0x7f) | 0x80)
    value = Math.floor(value / 0x80)
  }
  out.push(value)
  return out
}

function encode(frames: readonly Uint8Array[]): Uint8Array {
  return Buffer.concat(frames.flatMap((f) => [Buffer.from(varint(f.length)), f]))
}

/** The bytes as a stream of chunks ending at `cuts`; every other chunk comes as a byte list, as libp2p sends them. */
async function* chunked(bytes: Uint8Array, cuts: readonly number[]) {
  let from = 0
  let n = 0
  for (const to of [...new Set(cuts)].sort((a, b) => a - b).concat(bytes.length)) {
    if (to <= from) continue
    const part = bytes.slice(from, to)
    yield n++ % 2 === 0 ? part : { subarray: () => part }
    from = to
  }
}

async function readAll(read: () => Promise<Uint8Array>, count: number): Promise<Uint8Array[]> {
  const out: Uint8Array[] = []
  for (let i = 0; i < count; i++) out.push(await read())
  return out
}

async function failure(promise: Promise<unknown>): Promise<FrameReadError> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  )
  expect(err).toBeInstanceOf(FrameReadError)
  return err as FrameReadError
}

describe('frame reader', () => {
  it('gives back every frame, empty ones included, however the bytes are cut into chunks', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.uint8Array({ maxLength: 3000 }), { maxLength: 30 }), fc.array(fc.nat(), { maxLength: 40 }), async (frames, cutPoints) => {
        const bytes = encode(frames)
        const read = frameReader(
          chunked(
            bytes,
            cutPoints.map((c) => c % (bytes.length + 1)),
          ),
          4096,
        )
        const got = await readAll(read, frames.length)
        expect(got.map((f) => Buffer.from(f).toString('hex'))).toEqual(frames.map((f) => Buffer.from(f).toString('hex')))
        // And nothing more: the stream ends where the last frame does.
        expect((await failure(read())).message).toBe('unexpected end of input')
      }),
      { numRuns: 300 },
    )
  })

  it('reads a frame that arrives one byte per chunk', async () => {
    const frame = new Uint8Array(300).map((_, i) => i)
    const bytes = encode([frame, new Uint8Array(0)])
    const read = frameReader(
      chunked(
        bytes,
        Array.from(bytes, (_, i) => i),
      ),
      1024,
    )
    expect(Buffer.from(await read()).equals(Buffer.from(frame))).toBe(true)
    expect((await read()).length).toBe(0)
  })

  it('refuses a frame longer than the limit before any of it arrives', async () => {
    const read = frameReader(chunked(Buffer.from(varint(1025)), []), 1024)
    expect((await failure(read())).message).toMatch(/1025 bytes is longer than the 1024 allowed/)
  })

  it('refuses a length written with more bytes than the limit needs, so a peer cannot stall it with 0x80s', async () => {
    const read = frameReader(chunked(Buffer.alloc(100, 0x80), []), 1024)
    expect((await failure(read())).message).toMatch(/longer than 1024 bytes/)
  })

  it('says the stream ended inside a frame when it breaks off mid-frame', async () => {
    const bytes = encode([new Uint8Array(50)])
    const read = frameReader(chunked(bytes.subarray(0, 30), [10]), 1024)
    expect((await failure(read())).message).toBe('unexpected end of input inside a frame')
  })
})
