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
  /** Calls `listener` with each newly connected peer's id, until the returned function is called. */
  onConnect(listener: (peerId: string) => void): () => void
}

/**
 * Mirrors a group's whole history onto this node from one or several neighbours: waits for the connections,
 * learns the group from a neighbour if this node does not know it, carries it, and pulls from all of them at
 * once (each serves a share) until this node holds everything they have. Resumable: a second run fetches
 * only what is still missing. Progress is the sum over the neighbours.
 */
export async function mirrorGroup(
  { db, directory, antiEntropy, ...peers }: MirrorComponents,
  {
    group,
    peerIds,
    onProgress,
    connectTimeoutMs = 20_000,
  }: { group: string; peerIds: readonly string[]; onProgress?: (p: SyncProgress) => void; connectTimeoutMs?: number },
): Promise<SyncProgress> {
  const name: GroupName = parseGroupName(group)
  if (peerIds.length === 0) throw new MirrorError('name at least one peer to mirror from')
  let reachable = await connectedAmong(peerIds, peers, connectTimeoutMs)
  if (reachable.length === 0)
    throw new MirrorError(`cannot reach ${peerIds.length === 1 ? `the peer ${peerIds[0]}` : `any of the peers ${peerIds.join(', ')}`}`)
  // Comparing needs only the group's name: the first round compares while the group is learned (a round trip
  // and a signature check, 30-50 ms at the start of a mirror) and fetches once it is carried.
  const carried = (async () => {
    if (!(await getGroup(db, name))) {
      for (const peerId of reachable) {
        await directory.learnFrom(peerId).catch(() => 0)
        if (await getGroup(db, name)) break
      }
      if (!(await getGroup(db, name)))
        throw new MirrorError(`${reachable.length === 1 ? `the peer ${reachable[0]} does` : 'none of the peers'} not carry the group ${name}`)
    }
    await directory.subscribe(name, { pull: false })
  })()
  // Said by the first round's pull (or below, if that ends first).
  carried.catch(() => undefined)

  // Posts stored by earlier rounds: a round's progress counts only its own, the person sees the whole mirror.
  let storedBefore = 0
  for (;;) {
    // This round's own progress: a pull that a neighbour's hint starts as soon as this one ends must not be
    // taken for its outcome (read from status(), it made a finished mirror fail with "no answer").
    const latest = new Map<string, SyncProgress>()
    await antiEntropy.pullFrom(reachable, name, {
      ready: carried,
      onProgress: (p) => {
        latest.set(p.peer, p)
        onProgress?.(plus(combined(name, [...latest.values()]), storedBefore))
      },
    })
    await carried
    const finals = reachable.map((peerId) => latest.get(peerId))
    const round = combined(
      name,
      finals.filter((p): p is SyncProgress => p !== undefined),
    )
    const failures = finals.filter((p) => p?.state !== 'done')
    if (failures.length < finals.length && round.postsStored >= round.postsWanted) return plus(round, storedBefore)
    if (round.postsStored === 0) {
      const why = failures.map((p) => `${p?.peer ?? '?'}: ${p?.error ?? 'no answer'}`).join('; ')
      throw new MirrorError(`mirroring ${name} failed${why ? ` (${why})` : ''}`)
    }
    // A neighbour broke off (a reset stream, a lost connection) after part of it came in: compare again with
    // every neighbour that is (or comes back) connected and fetch the rest. Every round stores something, so
    // this ends; a neighbour that lies fails again, and costs only its share.
    storedBefore += round.postsStored
    reachable = await connectedAmong(peerIds, peers, connectTimeoutMs)
    if (reachable.length === 0) throw new MirrorError(`mirroring ${name} stopped: lost every peer after ${storedBefore} posts (run it again to resume)`)
  }
}

/**
 * The peers among `peerIds` connected, once all of them are or `timeoutMs` has passed (at least one is enough).
 * Woken by each new connection: a node started with `--peer` is usually connected a few ms after it is up, and
 * checking every 100 ms made every mirror start up to 100 ms late.
 */
async function connectedAmong(
  peerIds: readonly string[],
  { connectedPeers, onConnect }: Pick<MirrorComponents, 'connectedPeers' | 'onConnect'>,
  timeoutMs: number,
): Promise<string[]> {
  const connected = new Set<string>()
  const reachable = () => peerIds.filter((p) => connected.has(p) || connectedPeers().includes(p))
  await new Promise<void>((resolve) => {
    const done = () => {
      clearTimeout(timer)
      stopListening()
      resolve()
    }
    const timer = setTimeout(done, timeoutMs)
    const stopListening = onConnect((peerId) => {
      connected.add(peerId)
      if (reachable().length === peerIds.length) done()
    })
    if (reachable().length === peerIds.length) done()
  })
  return reachable()
}

/** A round's progress as part of the whole mirror, after `earlier` posts stored by rounds before it. */
function plus(p: SyncProgress, earlier: number): SyncProgress {
  return earlier === 0 ? p : { ...p, postsWanted: p.postsWanted + earlier, postsStored: p.postsStored + earlier }
}

/** One progress for a mirror from several neighbours: what is wanted as the most any comparison found, posts stored summed. */
function combined(group: GroupName, parts: readonly SyncProgress[]): SyncProgress {
  const running = parts.some((p) => p.state === 'comparing' || p.state === 'fetching')
  const done = parts.some((p) => p.state === 'done')
  const finished = parts.map((p) => p.finishedAt ?? 0)
  return {
    group,
    peer: parts.map((p) => p.peer).join(', '),
    state: running ? (parts.some((p) => p.state === 'fetching') ? 'fetching' : 'comparing') : done ? 'done' : 'failed',
    daysToCheck: Math.max(0, ...parts.map((p) => p.daysToCheck)),
    daysChecked: Math.max(0, ...parts.map((p) => p.daysChecked)),
    postsWanted: Math.max(0, ...parts.map((p) => p.postsWanted)),
    postsStored: parts.reduce((n, p) => n + p.postsStored, 0),
    postsTheyLack: Math.max(0, ...parts.map((p) => p.postsTheyLack)),
    startedAt: Math.min(...parts.map((p) => p.startedAt)),
    ...(running ? {} : { finishedAt: Math.max(...finished) }),
  }
}
