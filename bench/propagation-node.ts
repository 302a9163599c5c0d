/**
 * One node of bench/propagation.ts, run as a child process and driven over IPC.
 *
 *   full: a node as src/main.ts composes it, minus the web server and anti-entropy (the flood alone is
 *         measured): SQLite store in the given directory, ingest, libp2p peer, gossip carrying the group. A
 *         post counts as received when ingest has committed it (`onAccepted` fires after the SQLite commit),
 *         i.e. when it is renderable.
 *   bare: a plain libp2p peer that joins the topic with a validator accepting everything: no ingest, no
 *         storage. A post counts as received when the validator is called (once per new message).
 *
 * argv: mode, data directory (full), group, topic, largest message in bytes.
 * Times are `performance.timeOrigin + performance.now()`, comparable between processes on one machine.
 */
import { createHash } from 'node:crypto'
import { join } from 'node:path'
import { monitorEventLoopDelay } from 'node:perf_hooks'
import { createLogger } from '../src/logger.ts'
import { createPeer, newPeerKey } from '../src/node/peer.ts'

export type Mode = 'full' | 'bare'

/** Coordinator → worker. */
export type Command =
  | { type: 'dial'; addrs: string[] }
  | { type: 'load'; changes: Uint8Array[] }
  | { type: 'publish'; index: number }
  | { type: 'status' }
  | { type: 'finish' }

/** Worker → coordinator. */
export type Report =
  | { type: 'ready'; addr: string }
  | { type: 'dialed'; failed: string[] }
  | { type: 'status'; connected: number }
  /** Batched: `published` as [post index, time], `received` as [key of the change, time]. */
  | { type: 'events'; published: [number, number][]; received: [string, number][] }
  /** `cpuMs`: CPU time (user + system) since the 'status' command, i.e. while the posts flowed. */
  /** `connected`: peers connected at the end (a link can drop under load: nothing redials it here). */
  | { type: 'done'; peakRssMiB: number; rssMiB: number; cpuMs: number; connected: number; detail: string }
  | { type: 'error'; message: string }

/** How receipts name a post: the first 16 hex digits of the SHA-256 of its change (= the gossip message). */
function changeKey(change: Uint8Array): string {
  return createHash('sha256').update(change).digest('hex').slice(0, 16)
}

const cpuMs = (usage: NodeJS.CpuUsage) => (usage.user + usage.system) / 1000
const now = () => performance.timeOrigin + performance.now()

function send(report: Report): void {
  process.send!(report)
}

async function main(): Promise<void> {
  const [mode, dataDir, group, topic, maxBytes] = process.argv.slice(2) as [Mode, string, string, string, string]
  const log = createLogger(`bench-${process.pid}`)
  const published: [number, number][] = []
  const received: [string, number][] = []
  const flushEvents = () => {
    if (published.length === 0 && received.length === 0) return
    send({ type: 'events', published: published.splice(0), received: received.splice(0) })
  }
  // Receipts go out in batches so the coordinator's IPC costs the nodes little.
  setInterval(flushEvents, 100)

  const peer = await createPeer({ key: await newPeerKey(), listen: ['/ip4/127.0.0.1/tcp/0'], maxMessageBytes: Number(maxBytes), log })
  let changes: Uint8Array[] = []
  let publish: (change: Uint8Array) => Promise<void>
  let detail: () => string
  let cpuAtStart = process.cpuUsage()
  // How long the event loop stalled (a synchronous SQLite commit, GC): everything else on the node waits too.
  const loopDelay = monitorEventLoopDelay({ resolution: 10 })
  loopDelay.enable()
  const stalls = () => `event loop delay p99 ${(loopDelay.percentile(99) / 1e6).toFixed(0)} ms, max ${(loopDelay.max / 1e6).toFixed(0)} ms`

  if (mode === 'full') {
    // Loaded only here, so a bare node's RSS carries no SQLite or Automerge.
    const { parseGroupName } = await import('../src/article/index.ts')
    const { addGroup, openStore } = await import('../src/store/index.ts')
    const { createGossip, createIngest, ShardDocuments } = await import('../src/sync/index.ts')
    const store = await openStore(join(dataDir, 'node.sqlite'))
    await addGroup(store.db, { name: parseGroupName(group), description: 'propagation bench', createdAt: 0 })
    const ingest = createIngest({ db: store.db, shards: new ShardDocuments(), log })
    ingest.onAccepted((_articles, batch) => {
      const at = now()
      for (const change of batch.changes) received.push([changeKey(change), at])
    })
    const gossip = createGossip({ transport: peer, ingest, log })
    gossip.carry(parseGroupName(group))
    // Exactly what a local post does: ingest with origin 'local', and gossip publishes what ingest accepted.
    publish = async (change) => {
      const [result] = await ingest.ingestChanges([change], { origin: 'local' })
      if (result?.status !== 'accepted') throw new Error(`the publisher did not accept its own post: ${JSON.stringify(result)}`)
    }
    detail = () => `${JSON.stringify(gossip.stats())}, ${stalls()}`
  } else {
    let delivered = 0
    peer.joinTopic(topic, async (data) => {
      received.push([changeKey(data), now()])
      delivered++
      return 'accept'
    })
    publish = async (change) => {
      await peer.publish(topic, change)
    }
    detail = () => `${JSON.stringify({ delivered })}, ${stalls()}`
  }

  process.on('message', (command: Command) => {
    handle(command).catch((err) => send({ type: 'error', message: (err as Error).stack ?? String(err) }))
  })

  async function handle(command: Command): Promise<void> {
    switch (command.type) {
      case 'dial': {
        const results = await Promise.allSettled(command.addrs.map((addr) => peer.dial(addr, { signal: AbortSignal.timeout(20_000) })))
        const failed = results.flatMap((r, i) => (r.status === 'rejected' ? [`${command.addrs[i]}: ${(r.reason as Error).message}`] : []))
        send({ type: 'dialed', failed })
        break
      }
      case 'load':
        changes = command.changes
        break
      case 'publish': {
        const change = changes[command.index]
        if (!change) throw new Error(`no post ${command.index} loaded`)
        published.push([command.index, now()])
        await publish(change)
        break
      }
      case 'status':
        cpuAtStart = process.cpuUsage()
        loopDelay.reset()
        send({ type: 'status', connected: peer.connectedPeers().length })
        break
      case 'finish':
        flushEvents()
        send({
          type: 'done',
          peakRssMiB: process.resourceUsage().maxRSS / 1024,
          rssMiB: process.memoryUsage().rss / 1024 / 1024,
          cpuMs: cpuMs(process.cpuUsage(cpuAtStart)),
          connected: peer.connectedPeers().length,
          detail: detail(),
        })
        break
    }
  }

  send({ type: 'ready', addr: peer.multiaddrs()[0]! })
}

// Exit at once when told to stop (a profiler started with --cpu-prof writes its file on exit).
process.on('SIGTERM', () => process.exit(0))

main().catch((err) => {
  send({ type: 'error', message: (err as Error).stack ?? String(err) })
  process.exitCode = 1
})
