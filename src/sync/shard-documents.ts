import * as Automerge from '@automerge/automerge'
import { messageIdHex, type GroupName, type MessageId } from '../article/index.ts'
import { appendShardChunk, createShard, deleteShard, getShard, replaceShardChunks, shardChunks, shardsOfDay, type Db, type ShardRow } from '../store/index.ts'
import { DEFAULT_SHARD_CAP, leafFor, shardId, utcDay } from './shard-key.ts'

type ShardDoc = Automerge.Doc<Record<string, Uint8Array>>

/** A post's change, filed under one of the groups it is posted to. */
export interface ShardEntry {
  readonly id: MessageId
  readonly group: GroupName
  readonly date: number
  readonly change: Uint8Array
}

export interface ShardDocumentsInit {
  /** Most posts in one shard before it splits. */
  cap?: number
  /** Shard documents kept loaded (the hot ones). */
  cacheSize?: number
  /** Incremental saves kept per shard before they are compacted into one snapshot. */
  maxChunks?: number
}

/**
 * The Automerge shard documents of every group: files new posts' changes into the right shard, splits full
 * shards, and saves their bytes in SQLite. Only recently used documents stay in memory.
 */
export class ShardDocuments {
  readonly cap: number
  private readonly cacheSize: number
  private readonly maxChunks: number
  private readonly cache = new Map<string, ShardDoc>()

  constructor({ cap = DEFAULT_SHARD_CAP, cacheSize = 32, maxChunks = 32 }: ShardDocumentsInit = {}) {
    this.cap = cap
    this.cacheSize = cacheSize
    this.maxChunks = maxChunks
  }

  /**
   * Files changes of posts not yet stored, and saves the touched shards through `trx`. If the transaction
   * fails afterwards, call `forget` so memory does not run ahead of the database.
   */
  async add(trx: Db, entries: readonly ShardEntry[]): Promise<string[]> {
    const byDay = new Map<string, ShardEntry[]>()
    for (const entry of entries) {
      const key = `${entry.group}\u0000${utcDay(entry.date)}`
      const list = byDay.get(key)
      if (list) list.push(entry)
      else byDay.set(key, [entry])
    }
    const touched: string[] = []
    for (const [key, dayEntries] of byDay) {
      const [group, day] = key.split('\u0000') as [string, string]
      let leaves = await shardsOfDay(trx, group, day)
      if (leaves.length === 0) {
        await createShard(trx, { id: shardId(group, day, ''), group, day, prefix: '' })
        leaves = await shardsOfDay(trx, group, day)
      }
      const byLeaf = new Map<ShardRow, Uint8Array[]>()
      for (const entry of dayEntries) {
        const leaf = leafFor(leaves, entry.id)
        if (!leaf) throw new Error(`shard tree of ${group}/${day} has no leaf for ${entry.id}`)
        const changes = byLeaf.get(leaf)
        if (changes) changes.push(entry.change)
        else byLeaf.set(leaf, [entry.change])
      }
      for (const [leaf, changes] of byLeaf) {
        touched.push(...(await this.applyToLeaf(trx, leaf, changes)))
      }
    }
    return touched
  }

  /** Drops cached documents (after a failed transaction, or to bound memory in tests). */
  forget(ids: Iterable<string> = [...this.cache.keys()]): void {
    for (const id of ids) {
      const doc = this.cache.get(id)
      if (doc) Automerge.free(doc)
      this.cache.delete(id)
    }
  }

  /** The shard's document, loaded from its saved bytes if it is not in memory. The caller must not keep it. */
  async document(trx: Db, id: string): Promise<ShardDoc> {
    const cached = this.cache.get(id)
    if (cached) {
      this.cache.delete(id)
      this.cache.set(id, cached)
      return cached
    }
    const chunks = await shardChunks(trx, id)
    const doc = chunks.length === 0 ? Automerge.init<Record<string, Uint8Array>>() : Automerge.load<Record<string, Uint8Array>>(Buffer.concat(chunks))
    this.remember(id, doc)
    return doc
  }

  private remember(id: string, doc: ShardDoc): void {
    this.cache.delete(id)
    this.cache.set(id, doc)
    while (this.cache.size > this.cacheSize) {
      const oldest = this.cache.keys().next().value!
      this.forget([oldest])
    }
  }

  private async applyToLeaf(trx: Db, leaf: ShardRow, changes: Uint8Array[]): Promise<string[]> {
    const [doc] = Automerge.applyChanges(await this.document(trx, leaf.id), changes)
    this.cache.set(leaf.id, doc)
    if (leaf.post_count + changes.length > this.cap) {
      const all = Automerge.getAllChanges(doc)
      this.forget([leaf.id])
      return this.split(trx, leaf, all)
    }
    if (leaf.chunk_count + 1 > this.maxChunks) {
      await replaceShardChunks(trx, leaf.id, Automerge.save(doc), leaf.post_count + changes.length)
    } else {
      await appendShardChunk(trx, leaf.id, Automerge.saveIncremental(doc), changes.length)
    }
    return [leaf.id]
  }

  /** Replaces a full leaf by 16 children, one per next hex digit, each saved as a snapshot; recurses. */
  private async split(trx: Db, leaf: ShardRow, all: readonly Uint8Array[]): Promise<string[]> {
    const byDigit = new Map<string, Uint8Array[]>()
    for (const change of all) {
      const key = Automerge.decodeChange(change).ops[0]?.key as MessageId
      const prefix = messageIdHex(key).slice(0, leaf.prefix.length + 1)
      const list = byDigit.get(prefix)
      if (list) list.push(change)
      else byDigit.set(prefix, [change])
    }
    await deleteShard(trx, leaf.id)
    const touched: string[] = []
    for (const digit of '0123456789abcdef') {
      const prefix = leaf.prefix + digit
      const id = shardId(leaf.group_name, leaf.day, prefix)
      await createShard(trx, { id, group: leaf.group_name, day: leaf.day, prefix })
      const child = (await getShard(trx, id))!
      const changes = byDigit.get(prefix) ?? []
      if (changes.length > this.cap) {
        touched.push(...(await this.split(trx, child, changes)))
        continue
      }
      const [childDoc] = Automerge.applyChanges(Automerge.init<Record<string, Uint8Array>>(), changes)
      await replaceShardChunks(trx, id, Automerge.save(childDoc), changes.length)
      Automerge.free(childDoc)
      touched.push(id)
    }
    return touched
  }
}
