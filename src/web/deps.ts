import type { ArticleRecord } from '../article/index.ts'
import type { Logger } from '../logger.ts'
import type { Db } from '../store/index.ts'
import type { GroupDirectory, Poster, SyncProgress } from '../sync/index.ts'

/** What the web app needs from the rest of the node; main.ts provides it, tests build it in a line. */
export interface WebDeps {
  readonly db: Db
  readonly poster: Poster
  readonly owner: {
    readonly token: string
    readonly authorKey: string
    displayName(): Promise<string>
    setDisplayName(name: string): Promise<void>
  }
  /** Host header values to answer to, with port (e.g. "127.0.0.1:8080"). */
  readonly allowedHosts: ReadonlySet<string>
  readonly log: Logger
  /** Threads per page of a group. */
  readonly pageSize?: number
  /** The peer, for the node page; absent when the app runs without a network (tests of pages alone). */
  readonly network?: NetworkView
  /** Creating, subscribing to and unsubscribing from groups (owner only). */
  readonly groups?: Pick<GroupDirectory, 'create' | 'subscribe' | 'unsubscribe'>
  /** How syncing with neighbours stands (anti-entropy and mirroring). */
  readonly sync?: { status(): SyncProgress[] }
  /** Committed posts, pushed to open pages as Server-Sent Events. */
  readonly events?: { onAccepted(listener: (articles: readonly ArticleRecord[]) => void): () => void }
}

export interface NetworkView {
  readonly peerId: string
  multiaddrs(): string[]
  connectedPeers(): string[]
  /** Dials a multiaddr ending in /p2p/<id>, remembers it, and returns the peer id reached. */
  addPeer(address: string): Promise<string>
}
