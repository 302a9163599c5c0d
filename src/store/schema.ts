import type { Generated, Kysely } from 'kysely'

/** Groups this node knows of. `subscribed` groups are carried: stored, shown, and (later) relayed. */
export interface GroupTable {
  name: string
  description: string
  created_at: number
  subscribed: Generated<number>
  post_count: Generated<number>
  last_post_at: number | null
  /** The signed announcement (src/article/group-descriptor.ts), when the group has one. */
  descriptor: Uint8Array | null
}

/** One row per stored article: its canonical bytes and the headers the read model needs. */
export interface ArticleTable {
  id: string
  author_key: string
  from_name: string
  subject: string
  /** The Date header, ms since the epoch. */
  date: number
  parent_id: string | null
  root_id: string
  bytes: Uint8Array
  received_at: number
}

/** An article as it appears in one group (crossposts appear in several). */
export interface PostingTable {
  group_name: string
  article_id: string
  root_id: string
  date: number
}

/** The overview of a thread in a group: what the thread list shows without touching articles. */
export interface ThreadTable {
  group_name: string
  root_id: string
  subject: string
  author_key: string
  from_name: string
  started_at: number
  last_post_at: number
  post_count: number
}

export interface AuthorTable {
  key: string
  from_name: string
  post_count: number
  first_post_at: number
  last_post_at: number
}

/** A leaf of a group's shard tree: (group, UTC day, Message-ID hex prefix). */
export interface ShardTable {
  id: string
  group_name: string
  day: string
  prefix: string
  post_count: number
}

/**
 * The saved bytes of a shard: the canonical Automerge change of each of its posts. Each change is
 * self-contained (no dependencies), so the changes of a shard, applied in any order, are its document.
 */
export interface ShardChangeTable {
  shard_id: string
  article_id: string
  change: Uint8Array
}

export interface PeerTable {
  /** A multiaddr ending in /p2p/<peer id>. */
  address: string
  peer_id: string
  last_connected_at: number
}

/** The fingerprint of a group's posts of one UTC day: how many, and the XOR of their Message-ID hashes. */
export interface DayDigestTable {
  group_name: string
  day: string
  count: number
  xor: Uint8Array
}

/**
 * The 256 bucket fingerprints of a group's posts of one UTC day, bucket b holding the posts whose Message-ID
 * hash begins with the byte b: `counts` is 256 little-endian uint32, `xors` 256 XORs of 32 bytes (see
 * day-buckets.ts). One row, so a comparison reads a day's buckets in one probe.
 */
export interface DayBucketsTable {
  group_name: string
  day: string
  counts: Uint8Array
  xors: Uint8Array
}

export interface SettingTable {
  key: string
  value: string
}

export interface Database {
  groups: GroupTable
  articles: ArticleTable
  postings: PostingTable
  threads: ThreadTable
  authors: AuthorTable
  shards: ShardTable
  shard_changes: ShardChangeTable
  settings: SettingTable
  peers: PeerTable
  day_digests: DayDigestTable
  day_buckets: DayBucketsTable
}

export type Db = Kysely<Database>
