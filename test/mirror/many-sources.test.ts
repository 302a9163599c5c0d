import { copyFile, mkdtemp } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { authorKeyFromSeed, parseGroupName } from '../../src/article/index.ts'
import { createLogger } from '../../src/logger.ts'
import { addGroup, prepareDataDir } from '../../src/store/index.ts'
import { createGroupDirectory, type GroupDirectory, type MirrorComponents, mirrorGroup, type StreamTransport, type SyncProgress } from '../../src/sync/index.ts'
import { decodeRequest, MAX_IDS_PER_REQUEST } from '../../src/sync/sync-frames.ts'
import { captureStderr, readStore } from '../network/support.ts'
import { groupIds, makeHistory, type ServingNode, sortedIds, startServingNode, wrapSyncAnswers, writeHistory } from './support.ts'

/*
 * Mirroring from several neighbours at once (DESIGN.md, "Back-fill and mirroring"): the missing posts are
 * shared out between the neighbours that hold them, so each serves a part and none is asked for a post twice;
 * a neighbour that sends altered posts is dropped from the pull and its share goes to the others.
 */

const GROUP = 'misc.test'
const COUNTS = [400, 300, 500, 200, 600, 500]
const POSTS = COUNTS.reduce((a, b) => a + b, 0)

const nodes: ServingNode[] = []
afterAll(async () => {
  await Promise.all(nodes.map((n) => n.stop().catch(() => undefined)))
})

/** Data directories that each hold the same history (one written, the others copies of its file). */
async function sameHistoryIn(count: number): Promise<string[]> {
  const first = await writeHistory(makeHistory(GROUP, COUNTS, { tag: 'many' }), { seeds: false, groups: [GROUP] })
  const dirs = [first]
  for (let i = 1; i < count; i++) {
    const dir = await mkdtemp(join(tmpdir(), 'usenet-copy-'))
    await prepareDataDir(dir)
    await copyFile(join(first, 'node.sqlite'), join(dir, 'node.sqlite'))
    dirs.push(dir)
  }
  return dirs
}

/** A fresh node that carries the group and holds nothing, connected to `sources`. */
async function freshNodeConnectedTo(sources: readonly ServingNode[]): Promise<ServingNode> {
  const dir = await mkdtemp(join(tmpdir(), 'usenet-fresh-'))
  await prepareDataDir(dir)
  const node = await startServingNode(dir)
  nodes.push(node)
  await addGroup(node.store.db, { name: parseGroupName(GROUP), description: '', createdAt: 0 })
  for (const source of sources) await node.peer.dial(source.address)
  return node
}

/** What `mirrorGroup` needs of a node started by startServingNode. */
function mirrorComponents(node: ServingNode, directory: GroupDirectory): MirrorComponents {
  return {
    db: node.store.db,
    directory,
    antiEntropy: node.antiEntropy,
    connectedPeers: () => node.peer.connectedPeers(),
    onConnect: (listener) => node.peer.onConnect(listener),
  }
}

/** The transport of a neighbour that alters one byte of every post's article in its answers to fetches (`changes`, `range`). */
function altering(transport: StreamTransport): StreamTransport {
  return wrapSyncAnswers(transport, (stream) => {
    let changes = false
    const alter = (frame: Uint8Array): Uint8Array => {
      if (!changes || frame.length < 10) return frame
      const altered = Uint8Array.from(frame)
      // Inside the article's body, which ends two bytes before the change does.
      altered[altered.length - 5] = altered[altered.length - 5]! ^ 0x01
      return altered
    }
    return {
      async read() {
        const frame = await stream.read()
        try {
          changes = ['changes', 'range'].includes(decodeRequest(frame).op)
        } catch {}
        return frame
      },
      write: (frame) => stream.write(alter(frame)),
      writeFrames: (frames) => stream.writeFrames(frames.map(alter)),
      close: () => stream.close(),
    }
  })
}

/** The transport of a neighbour whose answer to its second fetch (`changes` or `range`) breaks off after 100 posts. */
function breakingOffOnce(transport: StreamTransport): StreamTransport {
  let answers = 0
  return wrapSyncAnswers(transport, (stream) => {
    let breaking = false
    let sent = 0
    const cut = async (frames: readonly Uint8Array[]) => {
      const kept = frames.slice(0, Math.max(0, 100 - sent))
      sent += kept.length
      if (kept.length > 0) await stream.writeFrames(kept)
      if (kept.length < frames.length) throw new Error('broke off')
    }
    return {
      async read() {
        const frame = await stream.read()
        try {
          if (['changes', 'range'].includes(decodeRequest(frame).op)) breaking = ++answers === 2
        } catch {}
        return frame
      },
      write: (frame) => (breaking ? cut([frame]) : stream.write(frame)),
      writeFrames: (frames) => (breaking ? cut(frames) : stream.writeFrames(frames)),
      close: () => stream.close(),
    }
  })
}

describe('mirroring from several neighbours at once', () => {
  it('shares the missing posts out between three neighbours, fetching each post once', async () => {
    const dirs = await sameHistoryIn(3)
    const sources = await Promise.all(dirs.map((d) => startServingNode(d)))
    nodes.push(...sources)
    const fresh = await freshNodeConnectedTo(sources)

    const stored = await fresh.antiEntropy.pullFrom(
      sources.map((s) => s.peer.peerId),
      parseGroupName(GROUP),
    )

    expect(stored).toBe(POSTS)
    expect(sortedIds(await groupIds(fresh, GROUP))).toEqual(sortedIds(await groupIds(sources[0]!, GROUP)))
    // Every neighbour served a part, and no post came from two of them.
    const askedOf = sources.map((s) => s.served.answers.flat())
    for (const asked of askedOf) expect(asked.length).toBeGreaterThan(0)
    const all = askedOf.flat()
    expect(new Set(all).size).toBe(all.length)
    expect(all.length).toBe(POSTS)
    const states = fresh.antiEntropy.status().filter((p) => p.group === GROUP)
    expect(states.map((p) => p.state)).toEqual(['done', 'done', 'done'])
    expect(states.reduce((n, p) => n + p.postsStored, 0)).toBe(POSTS)
  })

  it('asks a single neighbour for full batches to the end, across days: with no other to even out with, smaller ones only add round trips', async () => {
    const [dir] = await sameHistoryIn(1)
    const source = await startServingNode(dir!)
    nodes.push(source)
    const fresh = await freshNodeConnectedTo([source])
    expect(await fresh.antiEntropy.pullFrom([source.peer.peerId], parseGroupName(GROUP))).toBe(POSTS)
    // Days of 200-600 posts, fetched whole by range: each answer but the last is a full batch, give or take the
    // bucket (about 2 posts here) that completed it.
    const sizes = source.served.answers.map((ids) => ids.length)
    console.log(`a single neighbour's answers: ${sizes.join(', ')} posts`)
    expect(sizes).toHaveLength(Math.ceil(POSTS / MAX_IDS_PER_REQUEST))
    for (const size of sizes.slice(0, -1)) expect(size).toBeGreaterThanOrEqual(MAX_IDS_PER_REQUEST)
    for (const size of sizes) expect(size).toBeLessThanOrEqual(MAX_IDS_PER_REQUEST + 10)
  })

  it('drops a neighbour that sends altered posts, takes its share from the others, and stores nothing altered', async () => {
    const dirs = await sameHistoryIn(3)
    const [honest1, liar, honest2] = await Promise.all(dirs.map((d, i) => startServingNode(d, {}, i === 1 ? { wrap: altering } : {})))
    nodes.push(honest1!, liar!, honest2!)
    const fresh = await freshNodeConnectedTo([honest1!, liar!, honest2!])

    const log = captureStderr({ quiet: () => true })
    let stored: number
    try {
      stored = await fresh.antiEntropy.pullFrom(
        [honest1!, liar!, honest2!].map((s) => s.peer.peerId),
        parseGroupName(GROUP),
      )
    } finally {
      log.restore()
    }

    // The liar was asked for something, and what it altered was refused: the node holds exactly the honest set.
    expect(liar!.served.answers.length).toBeGreaterThan(0)
    expect(stored!).toBe(POSTS)
    expect(sortedIds(await groupIds(fresh, GROUP))).toEqual(sortedIds(await groupIds(honest1!, GROUP)))
    const states = new Map(fresh.antiEntropy.status().map((p) => [p.peer, p]))
    expect(states.get(liar!.peer.peerId)).toMatchObject({ state: 'failed', error: expect.stringMatching(/sent an invalid post/) })
    expect(states.get(honest1!.peer.peerId)?.state).toBe('done')
    expect(states.get(honest2!.peer.peerId)?.state).toBe('done')
    expect(log.lines.some((l) => l.includes(liar!.peer.peerId) && l.includes('sent an invalid post'))).toBe(true)
  })

  it("serves no faster than the neighbour's upload cap", async () => {
    const [dir] = await sameHistoryIn(1)
    const capped = await startServingNode(dir!, { uploadBytesPerSecond: 1024 * 1024 })
    nodes.push(capped)
    const fresh = await freshNodeConnectedTo([capped])
    const started = performance.now()
    const stored = await fresh.antiEntropy.pullFrom([capped.peer.peerId], parseGroupName(GROUP))
    const seconds = (performance.now() - started) / 1000
    expect(stored).toBe(POSTS)
    const bytes = (
      await readStore(fresh, (db) =>
        db
          .selectFrom('shard_changes')
          .select((eb) => eb.fn.sum<number>(eb.fn('length', ['change'])).as('n'))
          .executeTakeFirstOrThrow(),
      )
    ).n
    // The posts' changes alone, at 1 MiB/s, take this long; the cap may only make it slower.
    expect(seconds).toBeGreaterThanOrEqual((Number(bytes) / (1024 * 1024)) * 0.95)
  })

  it('goes on from where it was when its only neighbour breaks off in the middle, and ends with every post', async () => {
    const [dir] = await sameHistoryIn(1)
    const flaky = await startServingNode(dir!, {}, { wrap: breakingOffOnce })
    nodes.push(flaky)
    const fresh = await freshNodeConnectedTo([flaky])
    const directory = createGroupDirectory({ db: fresh.store.db, owner: authorKeyFromSeed(Buffer.alloc(32, 3)), log: createLogger('test') })
    const seen: SyncProgress[] = []
    const log = captureStderr({ quiet: () => true })
    let total: SyncProgress
    try {
      total = await mirrorGroup(mirrorComponents(fresh, directory), { group: GROUP, peerIds: [flaky.peer.peerId], onProgress: (p) => seen.push(p) })
    } finally {
      log.restore()
    }
    expect(total!).toMatchObject({ state: 'done', postsStored: POSTS, postsWanted: POSTS })
    expect(sortedIds(await groupIds(fresh, GROUP))).toEqual(sortedIds(await groupIds(flaky, GROUP)))
    // The break was seen and said, and the progress shown never went back.
    expect(log.lines.some((l) => l.includes('broke off') || l.includes('end of input') || l.includes('failed'))).toBe(true)
    const stored = seen.map((p) => p.postsStored)
    expect(stored).toEqual([...stored].sort((a, b) => a - b))
  })

  it('compares before it is ready but fetches nothing, and ends failed with the reason when it never is', async () => {
    const [dir] = await sameHistoryIn(1)
    const source = await startServingNode(dir!)
    nodes.push(source)
    const fresh = await freshNodeConnectedTo([source])
    let compared = false
    const pull = fresh.antiEntropy.pullFrom([source.peer.peerId], parseGroupName(GROUP), {
      ready: new Promise((_, reject) => setTimeout(() => reject(new Error('the group could not be learned')), 500)),
      onProgress: (p) => {
        if (p.daysChecked > 0) compared = true
      },
    })
    await expect(pull).rejects.toThrow('the group could not be learned')
    expect(compared).toBe(true)
    expect(await groupIds(fresh, GROUP)).toEqual(new Set())
    expect(source.served.answers).toEqual([])
    const status = fresh.antiEntropy.status().find((p) => p.group === GROUP && p.peer === source.peer.peerId)
    expect(status).toMatchObject({ state: 'failed', error: 'the group could not be learned' })
  })

  it('starts as soon as its neighbour connects when it was asked for before the connection', async () => {
    const [dir] = await sameHistoryIn(1)
    const source = await startServingNode(dir!)
    nodes.push(source)
    const fresh = await freshNodeConnectedTo([])
    const directory = createGroupDirectory({ db: fresh.store.db, owner: authorKeyFromSeed(Buffer.alloc(32, 3)), log: createLogger('test') })
    let startedAt: number | undefined
    const mirrored = mirrorGroup(mirrorComponents(fresh, directory), {
      group: GROUP,
      peerIds: [source.peer.peerId],
      connectTimeoutMs: 20_000,
      onProgress: () => {
        startedAt ??= Date.now()
      },
    })
    await new Promise((resolve) => setTimeout(resolve, 300))
    expect(startedAt).toBeUndefined()
    const dialledAt = Date.now()
    await fresh.peer.dial(source.address)
    expect(await mirrored).toMatchObject({ state: 'done', postsStored: POSTS })
    // Woken by the connection, not by the end of the wait for it.
    expect(startedAt! - dialledAt).toBeLessThan(5_000)
  })
})
