import { gossipsub, type GossipSub } from '@chainsafe/libp2p-gossipsub'
import { createTopicScoreParams } from '@chainsafe/libp2p-gossipsub/score'
import { noise } from '@chainsafe/libp2p-noise'
import { yamux } from '@chainsafe/libp2p-yamux'
import { generateKeyPair, privateKeyFromProtobuf, privateKeyToProtobuf } from '@libp2p/crypto/keys'
import { identify } from '@libp2p/identify'
import { TopicValidatorResult, type PeerId, type PrivateKey, type Stream } from '@libp2p/interface'
import { mdns } from '@libp2p/mdns'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { ping } from '@libp2p/ping'
import { tcp } from '@libp2p/tcp'
import { multiaddr } from '@multiformats/multiaddr'
import { lpStream } from 'it-length-prefixed-stream'
import { createLibp2p } from 'libp2p'
import { hash } from 'node:crypto'
import type { Logger } from '../logger.ts'
import { frameReader } from './frame-reader.ts'

/*
 * The one module that knows libp2p (2.x with gossipsub 14). Everything else talks to the narrow `Peer`
 * interface below, so a move to libp2p 3 changes this file only.
 */

/** What a topic validator decides: forward and deliver, drop quietly, or drop and penalise the sender. */
export type Verdict = 'accept' | 'ignore' | 'reject'
export type TopicValidator = (data: Uint8Array, from: string) => Promise<Verdict>

/** A request/response exchange of length-prefixed frames on a stream. */
export interface FrameStream {
  read(): Promise<Uint8Array>
  write(frame: Uint8Array): Promise<void>
  /** Several frames in one write: one network message for a batch instead of one per frame. */
  writeFrames(frames: readonly Uint8Array[]): Promise<void>
  close(): Promise<void>
}

export interface Peer {
  readonly peerId: string
  multiaddrs(): string[]
  connectedPeers(): string[]
  dial(addr: string, options?: { signal?: AbortSignal }): Promise<string>
  /** Joins a topic; every message is passed through `validate` before it is delivered or forwarded. */
  joinTopic(topic: string, validate: TopicValidator): void
  leaveTopic(topic: string): void
  /** Sends to the topic's mesh; returns how many peers it went to. */
  publish(topic: string, data: Uint8Array): Promise<number>
  handle(protocol: string, handler: (stream: FrameStream, from: string) => Promise<void>): Promise<void>
  open(peerId: string, protocol: string, options?: { signal?: AbortSignal }): Promise<FrameStream>
  /** Calls `listener` with each newly connected peer's id, until the returned function is called. */
  onConnect(listener: (peerId: string) => void): () => void
  stop(): Promise<void>
}

export interface PeerInit {
  /** A libp2p private key as `peerKeyBytes` made it (the peer id follows from it). */
  key: Uint8Array
  /** Multiaddrs to listen on, e.g. /ip4/127.0.0.1/tcp/7070 */
  listen: readonly string[]
  /** Discover peers on the local network. Off unless asked for. */
  mdns?: boolean
  /** Largest message a topic carries, in bytes; larger ones are dropped before decoding. */
  maxMessageBytes: number
  /** Largest frame on a stream protocol, in bytes. */
  maxFrameBytes?: number
  /** Longest an inbound stream may stay open, in ms. */
  streamTimeoutMs?: number
  log: Logger
}

/** A fresh libp2p identity, as bytes to keep in the data directory. */
export async function newPeerKey(): Promise<Uint8Array> {
  return privateKeyToProtobuf(await generateKeyPair('Ed25519'))
}

/** The peer id a key gives, as other nodes write it in /p2p/<id>. */
export function peerIdOf(key: Uint8Array): string {
  return peerIdFromPrivateKey(readPeerKey(key)).toString()
}

function readPeerKey(bytes: Uint8Array): PrivateKey {
  // @libp2p/crypto and libp2p may resolve different patch versions of @libp2p/interface; the key is the same.
  return privateKeyFromProtobuf(bytes) as unknown as PrivateKey
}

const GOSSIP_DEGREE = 4

export async function createPeer({
  key,
  listen,
  mdns: withMdns = false,
  maxMessageBytes,
  maxFrameBytes = 1024 * 1024,
  streamTimeoutMs = 60_000,
  log,
}: PeerInit): Promise<Peer> {
  const allowedTopics = new Set<string>()
  const node = await createLibp2p({
    privateKey: readPeerKey(key),
    addresses: { listen: [...listen] },
    transports: [tcp()],
    connectionEncrypters: [noise()],
    streamMuxers: [yamux()],
    peerDiscovery: withMdns ? [mdns()] : [],
    connectionManager: { maxConnections: 64, maxIncomingPendingConnections: 8 },
    services: {
      identify: identify(),
      ping: ping(),
      pubsub: gossipsub({
        // The author signs the article; a relay's signature proves nothing, so messages carry none.
        globalSignaturePolicy: 'StrictNoSign',
        msgIdFn: (msg) => hash('sha256', msg.data, 'buffer'),
        D: GOSSIP_DEGREE,
        Dlo: 3,
        Dhi: 6,
        allowPublishToZeroTopicPeers: true,
        ignoreDuplicatePublishError: true,
        emitSelf: false,
        // Finite bounds on what one RPC may carry (gossipsub 14's defaults are unbounded).
        maxInboundDataLength: maxMessageBytes + 4096,
        decodeRpcLimits: {
          maxSubscriptions: 256,
          maxMessages: 256,
          maxIhaveMessageIDs: 5000,
          maxIwantMessageIDs: 5000,
          maxIdontwantMessageIDs: 5000,
          maxControlMessages: 256,
          maxPeerInfos: 32,
        },
        // Only topics this node carries are tracked for remote peers (filled in by joinTopic).
        allowedTopics,
        scoreParams: { topics: {} },
        scoreThresholds: { gossipThreshold: -10, publishThreshold: -50, graylistThreshold: -80 },
      }),
    },
  })
  const pubsub = node.services.pubsub as GossipSub
  // gossipsub copies `allowedTopics` at construction; keep its own set in step as topics are joined.
  const liveAllowedTopics = (pubsub as unknown as { allowedTopics: Set<string> }).allowedTopics
  const scoreTopics = (pubsub as unknown as { score: { params: { topics: Record<string, unknown> } } }).score.params.topics

  return {
    peerId: node.peerId.toString(),
    multiaddrs: () => node.getMultiaddrs().map((a) => a.toString()),
    connectedPeers: () => [...new Set(node.getConnections().map((c) => c.remotePeer.toString()))],
    async dial(addr, { signal } = {}) {
      const connection = await node.dial(multiaddr(addr), signal ? { signal } : {})
      return connection.remotePeer.toString()
    },
    joinTopic(topic, validate) {
      liveAllowedTopics.add(topic)
      // Rejected messages count against the sender only when the topic has score parameters.
      scoreTopics[topic] = createTopicScoreParams({
        topicWeight: 1,
        timeInMeshWeight: 0.01,
        timeInMeshQuantum: 1000,
        timeInMeshCap: 100,
        firstMessageDeliveriesWeight: 0.5,
        firstMessageDeliveriesDecay: 0.9,
        firstMessageDeliveriesCap: 20,
        // Quiet groups deliver nothing for long stretches: no penalty for a mesh peer that sends little.
        meshMessageDeliveriesWeight: 0,
        meshFailurePenaltyWeight: 0,
        invalidMessageDeliveriesWeight: -5,
        invalidMessageDeliveriesDecay: 0.9,
      })
      pubsub.topicValidators.set(topic, async (from, message) => {
        try {
          const verdict = await validate(message.data, from.toString())
          return verdict === 'accept' ? TopicValidatorResult.Accept : verdict === 'reject' ? TopicValidatorResult.Reject : TopicValidatorResult.Ignore
        } catch (err) {
          // A throwing validator would count as Ignore; say why, and let the caller's bug not punish the relay.
          log.error(`validator for ${topic} failed: ${(err as Error).message}`)
          return TopicValidatorResult.Ignore
        }
      })
      pubsub.subscribe(topic)
    },
    leaveTopic(topic) {
      pubsub.unsubscribe(topic)
      pubsub.topicValidators.delete(topic)
      liveAllowedTopics.delete(topic)
      delete scoreTopics[topic]
    },
    async publish(topic, data) {
      const result = await pubsub.publish(topic, data)
      return result.recipients.length
    },
    async handle(protocol, handler) {
      await node.handle(
        protocol,
        ({ stream, connection }) => {
          const frames = frameStream(stream, maxFrameBytes)
          // A peer that opens a stream and then stalls must not hold it (and our handler) forever.
          const deadline = setTimeout(() => stream.abort(new Error(`${protocol} took longer than ${streamTimeoutMs} ms`)), streamTimeoutMs)
          handler(frames, connection.remotePeer.toString())
            .catch((err) => log.debug(`${protocol} from ${connection.remotePeer}: ${(err as Error).message}`))
            .finally(() => {
              clearTimeout(deadline)
              void frames.close().catch(() => undefined)
            })
        },
        { maxInboundStreams: 8, maxOutboundStreams: 8 },
      )
    },
    async open(peerId, protocol, { signal } = {}) {
      const peer = node.getConnections().find((c) => c.remotePeer.toString() === peerId)
      if (!peer) throw new Error(`not connected to ${peerId}`)
      const stream = await peer.newStream(protocol, signal ? { signal } : {})
      return frameStream(stream, maxFrameBytes)
    },
    onConnect(listener) {
      const onEvent = (event: CustomEvent<PeerId>) => listener(event.detail.toString())
      node.addEventListener('peer:connect', onEvent)
      return () => node.removeEventListener('peer:connect', onEvent)
    },
    async stop() {
      await node.stop()
    },
  }
}

/** How long closing a stream waits for its last writes to be sent before it gives up on them. */
const CLOSE_FLUSH_MS = 10_000

function frameStream(stream: Stream, maxDataLength: number): FrameStream {
  // Frames are written through it-length-prefixed-stream and read by our own reader (see frame-reader.ts).
  const read = frameReader(stream.source, maxDataLength)
  const lp = lpStream(stream, { maxDataLength })
  return {
    read,
    write: (frame) => lp.write(frame),
    writeFrames: (frames) => lp.writeV([...frames]),
    async close() {
      // A write resolves once the muxer has taken it, not sent it, and libp2p 2's close() waits only for the
      // chunk being sent at that moment: a chunk taken just before was aborted and the stream reset, so the
      // asker lost the end of an answer (seen once in a few mirrors). Ending our writes first waits until
      // the muxer has sent them all.
      if (stream.status === 'open' && stream.writeStatus === 'writing') {
        const flushed = lp.unwrap().sink([])
        let timer: NodeJS.Timeout | undefined
        const late = new Promise<void>((resolve) => {
          timer = setTimeout(resolve, CLOSE_FLUSH_MS)
        })
        await Promise.race([flushed.catch(() => undefined), late])
        clearTimeout(timer)
      }
      await stream.close()
    },
  }
}
