/** What libp2p's streams yield: byte arrays, or lists of them (a Uint8ArrayList) that `subarray()` joins. */
type Chunk = Uint8Array | { subarray(): Uint8Array }

/** A stream ended before or inside a frame, or announced a frame longer than allowed. */
export class FrameReadError extends Error {
  override readonly name = 'FrameReadError'
}

/**
 * Reads frames of the form `unsigned varint length, then that many bytes` from a stream's chunks, cutting every
 * whole frame out of a chunk as it arrives (as views, no copies). A mirror receives about 50 posts per chunk;
 * it-length-prefixed-stream awaited four reads and built byte lists for each of them, about 1 s of the
 * mirroring thread's CPU per 50k posts. A frame split across chunks is held until its last byte comes.
 */
export function frameReader(source: AsyncIterable<Chunk>, maxDataLength: number): () => Promise<Uint8Array> {
  const chunks = source[Symbol.asyncIterator]()
  const maxLengthBytes = varintLength(maxDataLength)
  let frames: Uint8Array[] = []
  let nextFrame = 0
  // The start of a frame whose end has not come yet, and how many bytes it needs in all (0: length not known yet).
  let held: Uint8Array[] = []
  let heldBytes = 0
  let heldNeeds = 0

  function cut(data: Uint8Array): void {
    let at = 0
    while (at < data.length) {
      let length = 0
      let i = at
      for (let shift = 0; ; shift += 7) {
        if (i - at >= maxLengthBytes) throw new FrameReadError(`a frame announced a length longer than ${maxDataLength} bytes`)
        if (i >= data.length) {
          hold(data.subarray(at), 0)
          return
        }
        const byte = data[i++]!
        length += (byte & 0x7f) * 2 ** shift
        if (byte < 0x80) break
      }
      if (length > maxDataLength) throw new FrameReadError(`a frame of ${length} bytes is longer than the ${maxDataLength} allowed`)
      if (i + length > data.length) {
        hold(data.subarray(at), i - at + length)
        return
      }
      frames.push(data.subarray(i, i + length))
      at = i + length
    }
  }

  function hold(part: Uint8Array, needs: number): void {
    held.push(part)
    heldBytes += part.length
    heldNeeds = needs
  }

  function take(chunk: Uint8Array): void {
    if (heldBytes === 0) {
      cut(chunk)
      return
    }
    held.push(chunk)
    heldBytes += chunk.length
    // Wait for the rest of a frame of known length instead of joining the parts at every chunk.
    if (heldNeeds > 0 && heldBytes < heldNeeds) return
    const joined = Buffer.concat(held, heldBytes)
    held = []
    heldBytes = 0
    heldNeeds = 0
    cut(joined)
  }

  return async function read(): Promise<Uint8Array> {
    while (nextFrame >= frames.length) {
      frames = []
      nextFrame = 0
      const { done, value } = await chunks.next()
      if (done) throw new FrameReadError(heldBytes > 0 ? 'unexpected end of input inside a frame' : 'unexpected end of input')
      take(value instanceof Uint8Array ? value : value.subarray())
    }
    return frames[nextFrame++]!
  }
}

function varintLength(value: number): number {
  let bytes = 1
  while (value >= 0x80) {
    value = Math.floor(value / 0x80)
    bytes++
  }
  return bytes
}
