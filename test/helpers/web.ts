import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { authorKeyFromSeed } from '../../src/article/index.ts'
import { loadConfig } from '../../src/config.ts'
import { createLogger } from '../../src/logger.ts'
import { startNode, type RunningNode } from '../../src/main.ts'
import { createGroupDirectory, createPoster, type SyncProgress } from '../../src/sync/index.ts'
import { createWebApp } from '../../src/web/app.tsx'
import { tempNode, type TempNode } from './temp-store.ts'

export const TEST_TOKEN = 'test-owner-token-0123456789abcdefghij'
export const OWNER = authorKeyFromSeed(new Uint8Array(32).fill(7))

/** A web app over a real temporary SQLite store, for `app.request()`; answers to Host "localhost". */
export async function testApp({ groups, pageSize, sync }: { groups?: string[]; pageSize?: number; sync?: { status(): SyncProgress[] } } = {}) {
  const node: TempNode = await tempNode(groups ? { groups } : {})
  let displayName = 'Owner'
  const poster = createPoster({ db: node.store.db, ingest: node.ingest, owner: { key: OWNER, displayName: async () => displayName } })
  const app = createWebApp({
    db: node.store.db,
    poster,
    owner: {
      token: TEST_TOKEN,
      authorKey: OWNER.publicKey,
      displayName: async () => displayName,
      setDisplayName: async (name) => {
        displayName = name
      },
    },
    allowedHosts: new Set(['localhost']),
    log: createLogger('test-web'),
    groups: createGroupDirectory({ db: node.store.db, owner: OWNER, log: createLogger('test-groups') }),
    ...(pageSize ? { pageSize } : {}),
    ...(sync ? { sync } : {}),
  })
  return { app, node, poster, close: () => node.close() }
}

/** A whole node as `npm start` runs it, on a free port and a temporary data directory. */
export async function startTestNode({
  seeds = true,
  dataDir,
}: {
  seeds?: boolean
  dataDir?: string
} = {}): Promise<RunningNode & { dataDir: string; cleanup(): Promise<void> }> {
  const dir = dataDir ?? (await mkdtemp(join(tmpdir(), 'usenet-node-')))
  const config = loadConfig(['--port', '0', '--listen', '/ip4/127.0.0.1/tcp/0', '--data-dir', dir, ...(seeds ? [] : ['--no-seeds'])])
  const node = await startNode(config, createLogger('test-node'))
  return {
    ...node,
    dataDir: dir,
    async cleanup() {
      await node.stop()
      await rm(dir, { recursive: true, force: true })
    },
  }
}
