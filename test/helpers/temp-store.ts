import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseGroupName } from '../../src/article/index.ts'
import { createLogger } from '../../src/logger.ts'
import { addGroup, type OpenStoreOptions, openStore, type Store } from '../../src/store/index.ts'
import { createIngest, type Ingest } from '../../src/sync/ingest.ts'
import { ShardDocuments, type ShardDocumentsInit } from '../../src/sync/shard-documents.ts'

export interface TempNode {
  dir: string
  store: Store
  shards: ShardDocuments
  ingest: Ingest
  close(): Promise<void>
}

/** A real SQLite file in a fresh temporary directory, migrated, with ingest wired as main.ts does. */
export async function tempNode({
  groups = ['test.one', 'test.two'],
  shards: shardInit = {},
  now,
  checkpoints,
}: {
  groups?: string[]
  shards?: ShardDocumentsInit
  now?: () => number
  checkpoints?: OpenStoreOptions['checkpoints']
} = {}): Promise<TempNode> {
  const dir = await mkdtemp(join(tmpdir(), 'usenet-test-'))
  const store = await openStore(join(dir, 'node.sqlite'), checkpoints ? { checkpoints } : {})
  for (const name of groups) await addGroup(store.db, { name: parseGroupName(name), description: `about ${name}`, createdAt: 0 })
  const shards = new ShardDocuments(shardInit)
  const ingest = createIngest({ db: store.db, shards, log: createLogger('test'), ...(now ? { now } : {}) })
  return {
    dir,
    store,
    shards,
    ingest,
    async close() {
      await store.close()
      await rm(dir, { recursive: true, force: true })
    },
  }
}
