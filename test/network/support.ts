import * as Automerge from '@automerge/automerge'
import SqliteDatabase from 'better-sqlite3'
import { Kysely, SqliteDialect } from 'kysely'
import { fork } from 'node:child_process'
import { createHash } from 'node:crypto'
import { join } from 'node:path'
import { decodeArticle, type SignedArticle } from '../../src/article/index.ts'
import { createLogger } from '../../src/logger.ts'
import { createPeer, newPeerKey, type Peer } from '../../src/node/index.ts'
import type { Database } from '../../src/store/schema.ts'
import { groupTopic, MAX_CHANGE_BYTES, ShardDocuments } from '../../src/sync/index.ts'
import type { TestPeer } from '../helpers/network.ts'

/** A node's SQLite file opened read-only beside the running node (WAL lets readers run beside the writer). */
export async function readStore<T>(node: { dataDir: string }, read: (db: Kysely<Database>) => Promise<T>): Promise<T> {
  const sqlite = new SqliteDatabase(join(node.dataDir, 'node.sqlite'), { readonly: true, fileMustExist: true })
  const db = new Kysely<Database>({ dialect: new SqliteDialect({ database: sqlite }) })
  try {
    return await read(db)
  } finally {
    await db.destroy()
  }
}

/** Every Message-ID the node stores. */
export function storedMessageIds(node: { dataDir: string }): Promise<Set<string>> {
  return readStore(node, async (db) => new Set((await db.selectFrom('articles').select('id').execute()).map((r) => r.id)))
}

export function articleCount(node: { dataDir: string }): Promise<number> {
  return readStore(node, async (db) =>
    Number(
      (
        await db
          .selectFrom('articles')
          .select((eb) => eb.fn.countAll<number>().as('n'))
          .executeTakeFirstOrThrow()
      ).n,
    ),
  )
}

/** How many rows of each kind hold this article: articles, postings and shard changes. */
export function rowsOf(node: { dataDir: string }, id: string): Promise<{ articles: number; postings: number; shardChanges: number }> {
  return readStore(node, async (db) => {
    const count = async (table: 'articles' | 'postings' | 'shard_changes', column: 'id' | 'article_id') =>
      Number(
        (
          await db
            .selectFrom(table)
            .select((eb) => eb.fn.countAll<number>().as('n'))
            .where(column, '=', id)
            .executeTakeFirstOrThrow()
        ).n,
      )
    return {
      articles: await count('articles', 'id'),
      postings: await count('postings', 'article_id'),
      shardChanges: await count('shard_changes', 'article_id'),
    }
  })
}

export function threadPostCount(node: { dataDir: string }, group: string, rootId: string): Promise<number | undefined> {
  return readStore(
    node,
    async (db) =>
      (await db.selectFrom('threads').select('post_count').where('group_name', '=', group).where('root_id', '=', rootId).executeTakeFirst())?.post_count,
  )
}

/**
 * {shard id → sorted Automerge heads} of every shard of the node, each document loaded as the node would
 * load it (ShardDocuments.document over the saved changes).
 */
export function shardHeads(node: { dataDir: string }): Promise<Record<string, string[]>> {
  return readStore(node, async (db) => {
    const documents = new ShardDocuments()
    const out: Record<string, string[]> = {}
    for (const { id } of await db.selectFrom('shards').select('id').orderBy('id').execute()) {
      const doc = await documents.document(db, id)
      out[id] = Automerge.getHeads(doc).sort()
      Automerge.free(doc)
    }
    return out
  })
}

/** A stored article, read back through the node's JSON API (its canonical bytes). */
export async function fetchArticle(node: TestPeer, hex: string): Promise<SignedArticle> {
  const res = await fetch(`${node.url}/api/articles/${hex}`)
  if (res.status !== 200) throw new Error(`no article ${hex} on ${node.url}: ${res.status}`)
  const { raw } = (await res.json()) as { raw: string }
  return decodeArticle(Buffer.from(raw, 'base64'))
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

/**
 * A bare libp2p peer that speaks gossipsub but none of the node's rules: it accepts everything and
 * publishes whatever bytes the test gives it, as a hostile or buggy node would.
 */
export interface RawPeer {
  readonly peer: Peer
  /** Publishes bytes on a group's topic; returns how many peers they went to. */
  publish(group: string, data: Uint8Array): Promise<number>
  /** Messages received per group topic (what the network forwarded to this peer). */
  received(group: string): Uint8Array[]
  stop(): Promise<void>
}

export async function startRawPeer({ dial, groups }: { dial: string[]; groups: string[] }): Promise<RawPeer> {
  const peer = await createPeer({
    key: await newPeerKey(),
    listen: ['/ip4/127.0.0.1/tcp/0'],
    maxMessageBytes: MAX_CHANGE_BYTES,
    log: createLogger('raw-peer'),
  })
  const inbox = new Map<string, Uint8Array[]>()
  for (const group of groups) {
    inbox.set(group, [])
    peer.joinTopic(groupTopic(group), async (data) => {
      inbox.get(group)!.push(data)
      return 'accept'
    })
  }
  for (const address of dial) await peer.dial(address, { signal: AbortSignal.timeout(5000) })
  return {
    peer,
    publish: (group, data) => peer.publish(groupTopic(group), data),
    received: (group) => inbox.get(group) ?? [],
    stop: () => peer.stop(),
  }
}

/** Lines written to stderr while it runs (the node's logger writes there), optionally kept off the terminal. */
export function captureStderr({ quiet }: { quiet: (line: string) => boolean }): { lines: string[]; restore(): void } {
  const lines: string[] = []
  const original = process.stderr.write.bind(process.stderr)
  process.stderr.write = ((chunk: string | Uint8Array, ...rest: unknown[]) => {
    const text = typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8')
    const kept: string[] = []
    for (const line of text.split('\n')) {
      if (line === '') continue
      lines.push(line)
      if (!quiet(line)) kept.push(line)
    }
    if (kept.length === 0) return true
    return (original as (c: string, ...r: unknown[]) => boolean)(`${kept.join('\n')}\n`, ...rest)
  }) as typeof process.stderr.write
  return {
    lines,
    restore() {
      process.stderr.write = original
    },
  }
}

/** A raw peer in a child process (raw-peer-process.ts): its memory and CPU are not the test process's. */
export interface RawPeerProcess {
  readonly peerId: string
  publish(group: string, data: Uint8Array): Promise<number>
  /** Publishes `count` random messages of `bytes` bytes, `batch` at a time; returns how long it took. */
  flood(group: string, options: { count: number; batch: number; bytes: number }): Promise<{ ms: number; rss: number }>
  /** Whether the network forwarded these exact bytes to the peer. */
  received(group: string, data: Uint8Array): Promise<boolean>
  stop(): Promise<void>
}

export async function spawnRawPeer({ dial, groups }: { dial: string; groups: string[] }): Promise<RawPeerProcess> {
  const child = fork(join(import.meta.dirname, 'raw-peer-process.ts'), [dial, ...groups], {
    execPath: process.execPath,
    execArgv: ['--import', 'tsx'],
    cwd: join(import.meta.dirname, '..', '..'),
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  })
  const waiting = new Map<number, { resolve(v: unknown): void; reject(e: Error): void }>()
  let nextId = 0
  const peerId = await new Promise<string>((resolve, reject) => {
    child.once('error', reject)
    child.once('exit', (code) => reject(new Error(`the raw peer process exited (${code}) before it was ready`)))
    child.once('message', (m) => resolve((m as { ready: string }).ready))
  })
  child.on('message', (m) => {
    const { id, result, error } = m as { id: number; result?: unknown; error?: string }
    const w = waiting.get(id)
    waiting.delete(id)
    if (error !== undefined) w?.reject(new Error(error))
    else w?.resolve(result)
  })
  const ask = <T>(request: Record<string, unknown>): Promise<T> =>
    new Promise<T>((resolve, reject) => {
      const id = nextId++
      waiting.set(id, { resolve: resolve as (v: unknown) => void, reject })
      child.send({ ...request, id })
    })
  const sha256 = (data: Uint8Array) => createHash('sha256').update(data).digest('hex')
  return {
    peerId,
    publish: (group, data) => ask({ op: 'publish', group, data: Buffer.from(data).toString('base64') }),
    flood: (group, options) => ask({ op: 'flood', group, ...options }),
    received: (group, data) => ask({ op: 'received', group, sha256: sha256(data) }),
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return
      const exited = new Promise((r) => child.once('exit', r))
      await Promise.race([ask({ op: 'stop' }), sleep(3000)])
      if (child.exitCode === null) child.kill('SIGKILL')
      await exited
    },
  }
}
