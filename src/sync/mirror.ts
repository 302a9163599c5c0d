import { parseGroupName, type GroupName } from '../article/index.ts'
import { getGroup, type Db } from '../store/index.ts'
import type { AntiEntropy, SyncProgress } from './anti-entropy.ts'
import type { GroupDirectory } from './group-directory.ts'

/** Mirroring cannot start or did not finish; the message says why, for the person who asked. */
export class MirrorError extends Error {
  override readonly name = 'MirrorError'
}

export interface MirrorComponents {
  db: Db
  directory: GroupDirectory
  antiEntropy: AntiEntropy
  connectedPeers(): string[]
}

/**
 * Mirrors a group's whole history from one neighbour onto this node: waits for the connection, learns the
 * group from the neighbour if this node does not know it, carries it, and pulls until this node holds
 * everything the neighbour has. Resumable: a second run fetches only what is still missing.
 */
export async function mirrorGroup(
  { db, directory, antiEntropy, connectedPeers }: MirrorComponents,
  {
    group,
    peerId,
    onProgress,
    connectTimeoutMs = 20_000,
  }: { group: string; peerId: string; onProgress?: (p: SyncProgress) => void; connectTimeoutMs?: number },
): Promise<SyncProgress> {
  const name: GroupName = parseGroupName(group)
  const deadline = Date.now() + connectTimeoutMs
  while (!connectedPeers().includes(peerId)) {
    if (Date.now() > deadline) throw new MirrorError(`cannot reach the peer ${peerId}`)
    await new Promise((r) => setTimeout(r, 100))
  }
  if (!(await getGroup(db, name))) {
    await directory.learnFrom(peerId).catch(() => 0)
    if (!(await getGroup(db, name))) throw new MirrorError(`the peer ${peerId} does not carry the group ${name}`)
  }
  const stop = antiEntropy.onProgress((p) => {
    if (p.group === name && p.peer === peerId) onProgress?.(p)
  })
  try {
    await directory.subscribe(name, { pull: false })
    await antiEntropy.pull(peerId, name)
  } finally {
    stop()
  }
  const final = antiEntropy.status().find((p) => p.group === name && p.peer === peerId)
  if (final?.state !== 'done') throw new MirrorError(`mirroring ${name} from ${peerId} failed: ${final?.error ?? 'no answer'}`)
  return final
}
