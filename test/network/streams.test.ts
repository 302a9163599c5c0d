import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createLogger } from '../../src/logger.ts'
import { createPeer, newPeerKey, type Peer } from '../../src/node/index.ts'

/*
 * Frame streams between two real libp2p peers over TCP on 127.0.0.1: what the sync and group protocols rely
 * on, an answer written and closed at once arrives whole however slowly the asker reads it.
 */

const PROTOCOL = '/usenet/test-answer/1'
const FRAMES = 500
const FRAME_BYTES = 1100
let server: Peer
let client: Peer

beforeAll(async () => {
  const log = createLogger('test')
  server = await createPeer({ key: await newPeerKey(), listen: ['/ip4/127.0.0.1/tcp/0'], maxMessageBytes: 64 * 1024, log })
  client = await createPeer({ key: await newPeerKey(), listen: ['/ip4/127.0.0.1/tcp/0'], maxMessageBytes: 64 * 1024, log })
  // Answers ~2.2 MB in runs of 50 frames (as the sync protocol serves changes), then the empty end frame, and
  // returns at once: the handler wrapper closes the stream.
  await server.handle(PROTOCOL, async (stream) => {
    await stream.read()
    for (let i = 0; i < FRAMES; i += 50) {
      await stream.writeFrames(Array.from({ length: 50 }, (_, j) => new Uint8Array(FRAME_BYTES).fill((i + j) % 251)))
    }
    await stream.writeFrames([new Uint8Array(0)])
  })
  await client.dial(server.multiaddrs().find((a) => a.includes('/tcp/'))!)
})

afterAll(async () => {
  await client?.stop()
  await server?.stop()
})

describe('frame streams', () => {
  it('deliver a whole answer that was closed while the asker was still busy, forty times over', async () => {
    for (let round = 0; round < 40; round++) {
      const stream = await client.open(server.peerId, PROTOCOL)
      await stream.write(new Uint8Array([1]))
      const received: number[] = []
      for (;;) {
        const frame = await stream.read()
        // Busy now and then (as a node storing a large batch is): the answer fills the muxer's window and waits.
        if (received.length % 200 === 199) {
          const until = Date.now() + 30
          while (Date.now() < until) {}
        }
        if (frame.length === 0) break
        expect(frame.length).toBe(FRAME_BYTES)
        received.push(frame[0]!)
      }
      await stream.close()
      expect(received).toEqual(Array.from({ length: FRAMES }, (_, i) => i % 251))
    }
  })
})
