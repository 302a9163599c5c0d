import * as Automerge from '@automerge/automerge'
import type { GroupName, MessageId } from '../article/index.ts'
import { addShardChanges, createShard, deleteShard, moveShardChanges, shardChanges, shardsOfDay, type Db, type ShardRow } from '../store/index.ts'
import { DEFAULT_SHARD_CAP, leafFor, shardId, utcDay } from './shard-key.ts'

export type ShardDoc = Automerge.Doc<Record<string, Uint8Array>>

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
}

/**
 * The Automerge shard documents of every group (docs/ARCHITECTURE.md, "Shards"). A shard is saved as the
 * canonical changes of its posts: since each is self-contained, filing a post is one row, splitting a shard
 * moves rows, and the document is those changes applied together (the fastest way Automerge loads).
 */
export class ShardDocuments {
  readonly cap: number

  constructor({ cap = DEFAULT_SHARD_CAP }: ShardDocumentsInit = {}) {
    this.cap = cap
  }

  /** Files the changes of posts not yet stored into their shards, through the caller's transaction. */
  async add(trx: Db, entries: readonly ShardEntry[]): Promise<void> {
    const byDay = groupBy(entries, (e) => `${e.group}\u0000${utcDay(e.date)}`)
    for (const [key, dayEntries] of byDay) {
      const [group, day] = key.split('\u0000') as [string, string]
      let leaves = await shardsOfDay(trx, group, day)
      if (leaves.length === 0) {
        await createShard(trx, { id: shardId(group, day, ''), group, day, prefix: '' })
        leaves = await shardsOfDay(trx, group, day)
      }
      await this.file(trx, leaves, dayEntries)
    }
  }

  /**
   * Files entries into the leaves of their day. A leaf they would fill past the cap is split first, so the
   * posts already in it move once and the new ones are written straight into its children: the same tree as
   * filing first and splitting after (a leaf splits when its range holds more than the cap), for fewer writes.
   * A mirror files a day's posts into an empty leaf, which then splits with nothing to move.
   */
  private async file(trx: Db, leaves: readonly ShardRow[], entries: readonly ShardEntry[]): Promise<void> {
    const byLeaf = groupBy(entries, (e) => {
      const leaf = leafFor(leaves, e.id)
      if (!leaf) throw new Error(`the shard tree of ${e.group}/${utcDay(e.date)} has no leaf for ${e.id}`)
      return leaf.id
    })
    for (const [leafId, leafEntries] of byLeaf) {
      const leaf = leaves.find((l) => l.id === leafId)!
      if (leaf.post_count + leafEntries.length > this.cap) await this.file(trx, await this.split(trx, leaf), leafEntries)
      else {
        await addShardChanges(
          trx,
          leaf.id,
          leafEntries.map((e) => ({ articleId: e.id, change: e.change })),
        )
      }
    }
  }

  /** Replaces a leaf by 16 children, one per next hex digit of the Message-ID (recursing while one holds more than the cap); returns the new leaves. */
  private async split(trx: Db, leaf: ShardRow): Promise<ShardRow[]> {
    const leaves: ShardRow[] = []
    for (const digit of '0123456789abcdef') {
      const prefix = leaf.prefix + digit
      const id = shardId(leaf.group_name, leaf.day, prefix)
      await createShard(trx, { id, group: leaf.group_name, day: leaf.day, prefix })
      const moved = leaf.post_count === 0 ? 0 : await moveShardChanges(trx, leaf.id, id, prefix)
      const child: ShardRow = { id, group_name: leaf.group_name, day: leaf.day, prefix, post_count: moved }
      if (moved > this.cap) leaves.push(...(await this.split(trx, child)))
      else leaves.push(child)
    }
    await deleteShard(trx, leaf.id)
    return leaves
  }

  /**
   * The shard's Automerge document. It lives in WebAssembly memory, which the garbage collector does not
   * see: call `Automerge.free` when done.
   */
  async document(db: Db, id: string): Promise<ShardDoc> {
    const [doc] = Automerge.applyChanges(Automerge.init<Record<string, Uint8Array>>(), await shardChanges(db, id))
    return doc
  }
}

function groupBy<T>(items: readonly T[], key: (item: T) => string): Map<string, T[]> {
  const out = new Map<string, T[]>()
  for (const item of items) {
    const k = key(item)
    const list = out.get(k)
    if (list) list.push(item)
    else out.set(k, [item])
  }
  return out
}
