import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import SqliteDatabase from 'better-sqlite3'
import { Kysely, SqliteDialect, type SqliteStatement, sql } from 'kysely'
import { afterEach, describe, expect, it } from 'vitest'
import { createLogger } from '../../src/logger.ts'
import { type Db, transactionWith } from '../../src/store/index.ts'
import type { Database } from '../../src/store/schema.ts'
import { withStatementCache } from '../../src/store/statement-cache.ts'
import { canonicalChange } from '../../src/sync/canonical-change.ts'
import { createIngest, type IngestOrigin } from '../../src/sync/ingest.ts'
import { ShardDocuments } from '../../src/sync/shard-documents.ts'
import { makeArticle } from '../helpers/articles.ts'
import { tempNode, type TempNode } from '../helpers/temp-store.ts'

const synchronous = async (db: Db) => (await sql<{ synchronous: number }>`pragma synchronous`.execute(db)).rows[0]?.synchronous
const FULL = 2
const NORMAL = 1
const aPeer = { address: '/ip4/127.0.0.1/tcp/1/p2p/x', peer_id: 'x', last_connected_at: 0 }

describe('commit durability', () => {
  let node: TempNode | undefined
  afterEach(async () => {
    await node?.close()
    node = undefined
  })

  it('syncs every commit to disk by default (synchronous = FULL)', async () => {
    node = await tempNode()
    expect(await synchronous(node.store.db)).toBe(FULL)
  })

  it('commits a process-crash transaction without fsync, then goes back to FULL', async () => {
    node = await tempNode()
    let inside: number | undefined
    await transactionWith(node.store.db, 'process-crash', async (trx) => {
      inside = await synchronous(trx)
      await trx.insertInto('peers').values(aPeer).execute()
    })
    expect(inside).toBe(NORMAL)
    expect(await synchronous(node.store.db)).toBe(FULL)
    expect(await node.store.db.selectFrom('peers').select('peer_id').execute()).toEqual([{ peer_id: 'x' }])
  })

  it('goes back to FULL when the transaction fails, and keeps nothing of it', async () => {
    node = await tempNode()
    const failing = transactionWith(node.store.db, 'process-crash', async (trx) => {
      await trx.insertInto('peers').values(aPeer).execute()
      throw new Error('boom')
    })
    await expect(failing).rejects.toThrow('boom')
    expect(await synchronous(node.store.db)).toBe(FULL)
    expect(await node.store.db.selectFrom('peers').select('peer_id').execute()).toEqual([])
  })

  it('commits posts made here with FULL and posts from peers without fsync', async () => {
    node = await tempNode()
    // A second connection to the node's file that notes the setting in force at each commit.
    const sqlite = new SqliteDatabase(join(node.dir, 'node.sqlite'))
    const atCommit: number[] = []
    const db: Db = new Kysely<Database>({
      dialect: new SqliteDialect({
        database: {
          prepare(source) {
            if (source === 'commit') atCommit.push(sqlite.pragma('synchronous', { simple: true }) as number)
            return sqlite.prepare(source) as unknown as SqliteStatement
          },
          close: () => sqlite.close(),
        },
      }),
    })
    await sql`pragma synchronous = FULL`.execute(db)
    const ingest = createIngest({ db, shards: new ShardDocuments(), log: createLogger('test') })
    const post = (body: string, origin: IngestOrigin) => ingest.ingestChanges([canonicalChange(makeArticle({ body }))], { origin })
    await post('mine', 'local')
    await post('theirs', 'gossip')
    await post('mirrored', 'sync')
    await post('demo', 'seed')
    expect(atCommit).toEqual([FULL, NORMAL, NORMAL, FULL])
    expect(await synchronous(db)).toBe(FULL)
    await db.destroy()
  })
})

describe('the statement cache', () => {
  it('reuses prepared statements and evicts the least recently used beyond its capacity', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'usenet-cache-'))
    const sqlite = new SqliteDatabase(join(dir, 'c.sqlite'))
    const prepared: string[] = []
    const prepare = sqlite.prepare.bind(sqlite)
    sqlite.prepare = ((source: string) => {
      prepared.push(source)
      return prepare(source)
    }) as typeof sqlite.prepare
    const cached = withStatementCache(sqlite, 2)
    const value = (source: string) => (cached.prepare(source).all([]) as { v: number }[])[0]?.v
    expect([value('select 1 as v'), value('select 2 as v'), value('select 1 as v')]).toEqual([1, 2, 1])
    expect(prepared).toEqual(['select 1 as v', 'select 2 as v'])
    // 'select 2' is now the least recently used: a third statement evicts it, not 'select 1'.
    expect(value('select 3 as v')).toBe(3)
    expect([value('select 1 as v'), value('select 2 as v')]).toEqual([1, 2])
    expect(prepared).toEqual(['select 1 as v', 'select 2 as v', 'select 3 as v', 'select 2 as v'])
    cached.close()
    expect(sqlite.open).toBe(false)
    await rm(dir, { recursive: true, force: true })
  })
})
