import { messageIdHex, utcDay, type GroupName, type MessageId } from '../article/index.ts'

/**
 * Which shard holds a post follows from the article and the group's set alone, never from arrival order
 * (docs/ARCHITECTURE.md, "Shards"): a group is split by the UTC day of the Date header, and a day whose shard
 * would hold more than the cap is split into 16 by the next hex digit of the Message-ID hash, recursively.
 * A shard is split exactly when its set of posts exceeds the cap, so nodes with the same posts hold the same
 * shards.
 */
export const DEFAULT_SHARD_CAP = 500

export { utcDay }

export function shardId(group: string, day: string, prefix: string): string {
  return prefix === '' ? `${group}/${day}` : `${group}/${day}/${prefix}`
}

/** The leaf among a day's shards whose prefix starts this id, if any. */
export function leafFor<T extends { prefix: string }>(leaves: readonly T[], id: MessageId): T | undefined {
  const hex = messageIdHex(id)
  return leaves.find((leaf) => hex.startsWith(leaf.prefix))
}

export interface ShardAddress {
  readonly group: GroupName
  readonly day: string
}
