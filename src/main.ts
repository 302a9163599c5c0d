import type { AddressInfo } from 'node:net'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { serve, type ServerType } from '@hono/node-server'
import type { Config } from './config.ts'
import { createLogger, type Logger } from './logger.ts'
import { isGroupName } from './article/index.ts'
import { createPeer, keepConnected, newPeerKey } from './node/index.ts'
import {
  carriedGroups,
  getSetting,
  knownPeers,
  loadOrCreateOwnerKey,
  loadOrCreateOwnerToken,
  loadOrCreateSecretFile,
  openStore,
  prepareDataDir,
  putSetting,
  rememberPeer,
} from './store/index.ts'
import {
  createAntiEntropy,
  createGossip,
  createVerifyPool,
  createGroupDirectory,
  createIngest,
  createPoster,
  importSeeds,
  MAX_CHANGE_BYTES,
  mirrorGroup,
  readSeeds,
  ShardDocuments,
  type SyncProgress,
} from './sync/index.ts'
import { createWebApp } from './web/app.tsx'

export interface RunningNode {
  /** The web UI's address, e.g. http://127.0.0.1:8080 */
  readonly url: string
  /** The address that logs the owner in (holds the token: print it only to the owner). */
  readonly loginUrl: string
  readonly token: string
  /** This node's libp2p identity and the addresses other nodes can dial. */
  readonly peerId: string
  readonly multiaddrs: readonly string[]
  /** Mirrors a group's history from a neighbour (by peer id), reporting progress; resolves when complete. */
  /** Mirrors a group from these neighbours at once (see mirrorGroup). */
  mirror(group: string, peerIds: readonly string[], onProgress?: (p: SyncProgress) => void): Promise<SyncProgress>
  stop(): Promise<void>
}

/** How often each neighbour's groups are compared again, and the spread of those comparisons, in ms. */
const RESYNC_INTERVAL_MS = 5 * 60_000
const RESYNC_JITTER_MS = 60_000
const SEEDS_SETTING = 'seeds_imported'
const DISPLAY_NAME_SETTING = 'display_name'
const DEFAULT_DISPLAY_NAME = 'Anonymous'

/**
 * Timings a caller may shorten (tests watch the periodic anti-entropy without waiting five minutes), and hooks
 * only tests set; neither the CLI nor the config file reaches them.
 */
export interface NodeTimings {
  /** How often each neighbour's groups are compared again, in ms; the spread is a fifth of it, at most a minute. */
  readonly resyncIntervalMs?: number
  /**
   * TEST HOOK, not a feature: decides, for each group message that reaches this node by gossip, whether it is
   * lost on the wire (true: Ignored, not stored, not relayed). See GossipInit.testOnlyDropDelivery.
   */
  readonly testOnlyDropGossipDelivery?: (data: Uint8Array) => boolean
}

/**
 * V8's compiled code of the verify threads' modules, kept beside the code it was compiled from (the usual place
 * for a tool's cache), so every node started from this checkout reuses it; unused if it cannot be written.
 * NODE_COMPILE_CACHE, which the launcher sets for the node's own modules, takes precedence.
 */
const COMPILE_CACHE_DIR = fileURLToPath(new URL('../node_modules/.cache/usenet-node/compile', import.meta.url))

/** The composition root: builds every part from the config, starts them, and stops them in reverse order. */
export async function startNode(config: Config, log: Logger = createLogger('node'), timings: NodeTimings = {}): Promise<RunningNode> {
  await prepareDataDir(config.dataDir)
  const store = await openStore(join(config.dataDir, 'node.sqlite'), { warn: (message) => log.warn(message) })
  // Checks large batches (mirroring, sync) on the other cores; its threads start when a pull finds a bulk
  // missing (ingest.expectPosts). Starting them with a node started to mirror only moved their cost before
  // "Node running": a 10k mirror in process took 1.34 s from start to end with them, 1.29 s without (medians of 6).
  const verifyPool = createVerifyPool({ log: createLogger('verify'), compileCacheDir: process.env.NODE_COMPILE_CACHE ?? COMPILE_CACHE_DIR })
  try {
    const ownerKey = await loadOrCreateOwnerKey(config.dataDir)
    const token = await loadOrCreateOwnerToken(config.dataDir)
    const shards = new ShardDocuments()
    const ingest = createIngest({ db: store.db, shards, log: createLogger('ingest'), pool: verifyPool })
    const owner = {
      key: ownerKey,
      displayName: async () => (await getSetting(store.db, DISPLAY_NAME_SETTING)) ?? DEFAULT_DISPLAY_NAME,
    }
    const poster = createPoster({ db: store.db, ingest, owner })

    // Before any peer is reached: a neighbour's group announcements would otherwise add the demo groups
    // first, unsubscribed, and the seeds would then be ignored (the fresh node would carry nothing).
    if (config.seedsDir && (await getSetting(store.db, SEEDS_SETTING)) === undefined) {
      const added = await importSeeds(store.db, ingest, await readSeeds(config.seedsDir), Date.now())
      await putSetting(store.db, SEEDS_SETTING, new Date().toISOString())
      log.info(`imported ${added} demo posts from ${config.seedsDir}`)
    }

    const peer = await createPeer({
      key: await loadOrCreateSecretFile(config.dataDir, 'peer.key', newPeerKey),
      listen: config.listen,
      mdns: config.mdns,
      maxMessageBytes: MAX_CHANGE_BYTES,
      log: createLogger('peer'),
    })
    const gossip = createGossip(
      { transport: peer, ingest, log: createLogger('gossip') },
      timings.testOnlyDropGossipDelivery ? { testOnlyDropDelivery: timings.testOnlyDropGossipDelivery } : {},
    )
    const antiEntropy = createAntiEntropy(
      { transport: peer, db: store.db, ingest, log: createLogger('sync') },
      config.serveRate === undefined ? {} : { uploadBytesPerSecond: config.serveRate },
    )
    await antiEntropy.serve()
    const directory = createGroupDirectory({
      db: store.db,
      owner: ownerKey,
      log: createLogger('groups'),
      network: { transport: peer, gossip, antiEntropy, connectedPeers: () => peer.connectedPeers() },
    })
    await directory.start()
    // Join the groups' topics before the first connection, whose sync compares the carried groups.
    for (const group of await carriedGroups(store.db)) if (isGroupName(group)) gossip.carry(group)
    const syncWith = async (peerId: string) => {
      for (const group of gossip.carried()) await antiEntropy.pull(peerId, group)
    }
    peer.onConnect((peerId) => {
      void directory.learnFrom(peerId).catch((err) => log.debug(`asking ${peerId} for its groups failed: ${(err as Error).message}`))
      void syncWith(peerId)
    })
    // Anti-entropy: compare again now and then (cheap when the sets agree), with jitter so neighbours
    // do not all ask at once.
    const resyncMs = timings.resyncIntervalMs ?? RESYNC_INTERVAL_MS
    const jitterMs = Math.min(RESYNC_JITTER_MS, resyncMs / 5)
    const pendingSyncs = new Set<NodeJS.Timeout>()
    const resync = setInterval(() => {
      for (const peerId of peer.connectedPeers()) {
        const timer = setTimeout(() => {
          pendingSyncs.delete(timer)
          void syncWith(peerId)
        }, Math.random() * jitterMs)
        timer.unref()
        pendingSyncs.add(timer)
      }
    }, resyncMs)
    resync.unref()
    // Posts a sync brought in do not travel by gossip: tell the other neighbours, so a healed partition
    // spreads in seconds rather than at their next periodic comparison. And when the neighbour compared with
    // lacks posts this node holds, tell it: it pulls them.
    antiEntropy.onProgress((p) => {
      if (p.state !== 'done') return
      for (const other of peer.connectedPeers()) {
        const tell = other === p.peer ? p.postsTheyLack > 0 : p.postsStored > 0
        if (tell) void antiEntropy.hint(other, p.group).catch((err) => log.debug(`hinting ${other} failed: ${(err as Error).message}`))
      }
    })
    const keeper = keepConnected(peer, async () => [...config.peers, ...(await knownPeers(store.db))], {
      log: createLogger('peers'),
      onConnected: (address, peerId) => void rememberPeer(store.db, address, peerId, Date.now()).catch(() => undefined),
    })

    // Filled once the port is known (port 0 picks a free one).
    const allowedHosts = new Set<string>()
    const app = createWebApp({
      db: store.db,
      poster,
      owner: {
        token,
        authorKey: ownerKey.publicKey,
        displayName: owner.displayName,
        setDisplayName: (name) => putSetting(store.db, DISPLAY_NAME_SETTING, name),
      },
      allowedHosts,
      log: createLogger('web'),
      network: {
        peerId: peer.peerId,
        multiaddrs: () => peer.multiaddrs(),
        connectedPeers: () => peer.connectedPeers(),
        async addPeer(address) {
          const peerId = await peer.dial(address, { signal: AbortSignal.timeout(10_000) })
          await rememberPeer(store.db, address, peerId, Date.now())
          return peerId
        },
      },
      events: ingest,
      groups: directory,
      sync: antiEntropy,
    })
    const server = await listen(app.fetch, config.port, config.bind)
    const port = (server.address() as AddressInfo).port
    const hostForUrl = config.bind === '0.0.0.0' || config.bind === '::' ? '127.0.0.1' : config.bind.includes(':') ? `[${config.bind}]` : config.bind
    for (const host of hostNames(port, config.bind, config.allowedHosts)) allowedHosts.add(host)
    const url = `http://${hostForUrl}:${port}`
    return {
      url,
      loginUrl: `${url}/login?token=${token}`,
      token,
      peerId: peer.peerId,
      multiaddrs: peer.multiaddrs(),
      mirror: (group, peerIds, onProgress) =>
        mirrorGroup(
          { db: store.db, directory, antiEntropy, connectedPeers: () => peer.connectedPeers(), onConnect: (listener) => peer.onConnect(listener) },
          { group, peerIds, ...(onProgress ? { onProgress } : {}) },
        ),
      async stop() {
        clearInterval(resync)
        for (const timer of pendingSyncs) clearTimeout(timer)
        antiEntropy.stop()
        keeper.stop()
        gossip.stop()
        // Open event streams would hold close() forever.
        ;(server as import('node:http').Server).closeAllConnections()
        await new Promise<void>((resolve) => server.close(() => resolve()))
        await peer.stop()
        await verifyPool.stop()
        await store.close()
      },
    }
  } catch (err) {
    await verifyPool.stop()
    await store.close()
    throw err
  }
}

/** The names this node is reached by on this machine, plus what the operator allowed. */
function hostNames(port: number, bind: string, extra: readonly string[]): string[] {
  const names = ['127.0.0.1', 'localhost', '[::1]']
  if (bind !== '0.0.0.0' && bind !== '::' && !names.includes(bind)) names.push(bind.includes(':') ? `[${bind}]` : bind)
  return [...names.map((n) => `${n}:${port}`), ...extra]
}

function listen(fetch: (req: Request) => Response | Promise<Response>, port: number, hostname: string): Promise<ServerType> {
  return new Promise((resolve, reject) => {
    const server = serve({ fetch, port, hostname }, () => resolve(server))
    server.once('error', reject)
  })
}
