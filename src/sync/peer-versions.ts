import { FRAME_VERSION, OLDEST_FRAME_VERSION } from './sync-frames.ts'

/** How long a neighbour that refused a request of a version is asked in an older one before the newest is tried again. */
export const OLDER_VERSION_MS = 10 * 60_000

/**
 * The version of `/usenet/sync/1` to ask each neighbour in. A node refuses a request of a version it does
 * not know by closing the stream unanswered, so a neighbour that did is asked one version lower from then on,
 * for OLDER_VERSION_MS: after that the newest is tried again, in case it was upgraded (or the refusal had
 * another cause). A rolling upgrade keeps every pair of nodes syncing.
 */
export class PeerVersions {
  private readonly older = new Map<string, { version: number; until: number }>()
  private readonly now: () => number

  constructor(now: () => number = Date.now) {
    this.now = now
  }

  versionFor(peerId: string): number {
    const older = this.older.get(peerId)
    if (older && older.until > this.now()) return older.version
    this.older.delete(peerId)
    return FRAME_VERSION
  }

  /** The neighbour closed a request of `version` unanswered: the version to ask it in now, or undefined when none is older. */
  refused(peerId: string, version: number): number | undefined {
    if (version <= OLDEST_FRAME_VERSION) return undefined
    this.older.set(peerId, { version: version - 1, until: this.now() + OLDER_VERSION_MS })
    return version - 1
  }
}
