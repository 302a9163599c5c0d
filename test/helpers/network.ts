import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { loadConfig } from '../../src/config.ts'
import { createLogger } from '../../src/logger.ts'
import { startNode, type RunningNode } from '../../src/main.ts'

export interface TestPeer extends RunningNode {
  dataDir: string
  /** The first multiaddr with the peer id: what another node's --peer takes. */
  address: string
}

/** A whole node (web + peer) on free ports and a temporary data directory, optionally pointed at peers. */
export async function startPeer({
  peers = [],
  dataDir,
  seeds = true,
  listen = '/ip4/127.0.0.1/tcp/0',
  serveRateKiB,
}: {
  peers?: string[]
  dataDir?: string
  seeds?: boolean
  listen?: string
  /** The node's --serve-rate: its upload of history, in KiB/s. */
  serveRateKiB?: number
} = {}): Promise<TestPeer> {
  const dir = dataDir ?? (await mkdtemp(join(tmpdir(), 'usenet-peer-')))
  const args = [
    ...['--port', '0', '--listen', listen, '--data-dir', dir],
    ...(seeds ? [] : ['--no-seeds']),
    ...(serveRateKiB === undefined ? [] : ['--serve-rate', String(serveRateKiB)]),
    ...peers.flatMap((p) => ['--peer', p]),
  ]
  const node = await startNode(loadConfig(args), createLogger('test-peer'))
  const address = node.multiaddrs.find((a) => a.includes('/tcp/'))!
  return { ...node, dataDir: dir, address: address.includes('/p2p/') ? address : `${address}/p2p/${node.peerId}` }
}

export async function removePeer(peer: TestPeer): Promise<void> {
  await peer.stop().catch(() => undefined)
  await rm(peer.dataDir, { recursive: true, force: true })
}

/** Polls until `check` returns true or the time is up. */
export async function eventually(check: () => Promise<boolean> | boolean, { timeoutMs = 10_000, intervalMs = 50 } = {}): Promise<void> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    if (await check()) return
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`)
    await new Promise((r) => setTimeout(r, intervalMs))
  }
}

/** Posts through a node's JSON API as its owner. */
export async function apiPost(
  node: RunningNode,
  group: string,
  body: { subject?: string; body: string; parent?: string },
): Promise<{ id: string; hex: string }> {
  const res = await fetch(`${node.url}/api/groups/${group}/articles`, {
    method: 'POST',
    headers: { authorization: `Bearer ${node.token}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  })
  if (res.status !== 201) throw new Error(`post failed: ${res.status} ${await res.text()}`)
  return ((await res.json()) as { article: { id: string; hex: string } }).article
}

export async function hasArticle(node: RunningNode, hex: string): Promise<boolean> {
  const res = await fetch(`${node.url}/api/articles/${hex}`)
  await res.body?.cancel()
  return res.status === 200
}
