/**
 * Back-fill and anti-entropy (DESIGN.md, "Back-fill and mirroring"), each beside the same run's floor.
 *
 * 1. Mirror: a neighbour process serves a group whose store was written beforehand (full ingest path, straight
 *    into its SQLite file); a fresh `usenet-node mirror` process pulls it over loopback and exits. Timed from
 *    spawn to exit and from "Node running" to the "mirrored" line; peak RSS of the mirroring process from
 *    /usr/bin/time -v (else VmHWM is unknown and shown as "?"). Floor, as the issue defines it: the same articles
 *    decoded and verified on two worker threads (both cores) and the same rows inserted into SQLite in batches
 *    of 500 — no network, no Automerge (`floorSameRows`, bench/floor.ts), run in this process with its threads
 *    started before its clock. The same floor in a fresh process, its threads started on the clock
 *    (bench/floor-fresh.ts): the mirror is timed in a fresh process too, so this one pays the same cold start.
 *    Beside them, the stricter floor of earlier sessions: one five-column row a post into a table with one
 *    index (`floorOneRow`).
 * 2. Anti-entropy: two in-process nodes holding the same 100k posts of a group but for 10 (5 each way); one
 *    `pull` in each direction over real libp2p streams on loopback. Counted on the puller's side for every
 *    stream it opens (one request/response each, so one round trip each): the streams of the comparison
 *    (`digests`, `buckets`) and of the fetch (`changes`), and the bytes of every frame each way (payload plus
 *    its length prefix, including the empty frame that ends each answer; noise/yamux/multistream framing not
 *    counted). Wall time is the whole pull: comparison, fetch, verification and the committed transaction.
 *
 * 1b. Sources: the same group (--sources-posts) mirrored from one and from three neighbour processes, each
 *    serving at most --cap KiB/s (the node's --serve-rate), to show a mirror gets faster with more neighbours.
 *
 *   npm run bench:mirror [-- --sizes 10000,50000 --runs 3 --sources-posts 50000 --cap 1024 --ae-posts 100000 --ae-runs 5
 *                           --skip-mirror --skip-sources --skip-ae]
 */
import { execFileSync, spawn } from 'node:child_process'
import { createWriteStream, readFileSync } from 'node:fs'
import { copyFile, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { createServer } from 'node:net'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { authorKeyFromSeed, parseGroupName, signGroupDescriptor, type GroupName, type SignedArticle } from '../src/article/index.ts'
import { createLogger } from '../src/logger.ts'
import { createPeer, newPeerKey, peerIdOf, type Peer } from '../src/node/index.ts'
import { addGroup, dayDigests, openStore, prepareDataDir, type Store } from '../src/store/index.ts'
import {
  canonicalChange,
  createAntiEntropy,
  createIngest,
  type FrameStream,
  MAX_CHANGE_BYTES,
  ShardDocuments,
  type StreamTransport,
} from '../src/sync/index.ts'
import { COMPILE_CACHE_DIR, NODE_FLAGS } from '../bin/node-flags.mjs'
import { floorOneRow, floorSameRows, readShardLayout, startFloorWorkers } from './floor.ts'
import { makeCorpus, median, tempDir } from './lib.ts'

const { values } = parseArgs({
  options: {
    sizes: { type: 'string', default: '10000,50000' },
    runs: { type: 'string', default: '3' },
    'ae-posts': { type: 'string', default: '100000' },
    'ae-runs': { type: 'string', default: '5' },
    'skip-mirror': { type: 'boolean', default: false },
    'sources-posts': { type: 'string', default: '50000' },
    cap: { type: 'string', default: '1024' },
    'skip-sources': { type: 'boolean', default: false },
    'skip-ae': { type: 'boolean', default: false },
  },
})
const RUNS = Number(values.runs)
const AE_POSTS = Number(values['ae-posts'])
const AE_RUNS = Number(values['ae-runs'])
const ROOT = join(import.meta.dirname, '..')
const CLI = join(ROOT, 'src', 'cli.ts')
const TSX = import.meta.resolve('tsx')
// BENCH_LOG=<level>: the node processes log at that level, each to bench-<pid>.log in the temporary directory.
// The nodes run as bin/usenet-node.mjs runs them: its flags and its compile cache (warm from the second run on).
const quiet = { ...process.env, USENET_LOG: process.env.BENCH_LOG ?? 'warn', NODE_COMPILE_CACHE: COMPILE_CACHE_DIR }
const log = createLogger('bench')
const HAVE_TIME = (() => {
  try {
    execFileSync('/usr/bin/time', ['-v', 'true'], { stdio: 'ignore' })
    return true
  } catch {
    return false
  }
})()

/** Writes `articles` into a fresh store through the full ingest path, in batches of 500. */
async function writeStore(path: string, group: string, articles: readonly SignedArticle[]): Promise<void> {
  const store = await openStore(path)
  try {
    // Signed, as a created group is: a neighbour learns of a group only from its descriptor.
    const descriptor = signGroupDescriptor({ name: parseGroupName(group), description: 'bench', date: Date.now() }, authorKeyFromSeed(Buffer.alloc(32, 7)))
    await addGroup(store.db, { name: descriptor.name, description: descriptor.description, createdAt: 0, descriptor: descriptor.bytes })
    const ingest = createIngest({ db: store.db, shards: new ShardDocuments(), log })
    for (let i = 0; i < articles.length; i += 500) {
      const results = await ingest.ingestChanges(articles.slice(i, i + 500).map(canonicalChange), { origin: 'seed' })
      const refused = results.find((r) => r.status !== 'accepted')
      if (refused) throw new Error(`not stored: ${JSON.stringify(refused)}`)
    }
  } finally {
    await store.close()
  }
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number }
      server.close(() => resolve(port))
    })
  })
}

interface Line {
  at: number
  text: string
}

/** Runs the CLI; resolves with its stdout lines (arrival times in ms since spawn), exit time, stderr. */
function runCli(
  args: string[],
  { timed = false, until }: { timed?: boolean; until?: (line: string) => boolean } = {},
): {
  done: Promise<{ lines: Line[]; exitMs: number; code: number | null; stderr: string }>
  ready: Promise<void>
  pid: () => number | undefined
  kill: () => void
} {
  // BENCH_PROF=<dir>: each node process writes a CPU profile there.
  const profile = process.env.BENCH_PROF ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_PROF}`] : []
  const node = [process.execPath, ...profile, ...NODE_FLAGS, '--import', TSX, CLI, ...args]
  const [cmd, ...rest] = timed && HAVE_TIME ? ['/usr/bin/time', '-v', ...node] : node
  const t0 = performance.now()
  const child = spawn(cmd!, rest, { cwd: ROOT, env: quiet, stdio: ['ignore', 'pipe', 'pipe'] })
  if (process.env.BENCH_LOG) child.stderr.pipe(createWriteStream(join(tmpdir(), `bench-${child.pid}.log`)))
  const lines: Line[] = []
  let stderr = ''
  let partial = ''
  let onReady: () => void
  const ready = new Promise<void>((r) => {
    onReady = r
  })
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    const at = performance.now() - t0
    const parts = (partial + chunk).split('\n')
    partial = parts.pop()!
    for (const text of parts) {
      lines.push({ at, text })
      if (until?.(text)) onReady()
    }
  })
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
    stderr += chunk
    if (stderr.length > 1_000_000) stderr = stderr.slice(-100_000)
  })
  const done = new Promise<{ lines: Line[]; exitMs: number; code: number | null; stderr: string }>((resolve) => {
    child.on('exit', (code) => resolve({ lines, exitMs: performance.now() - t0, code, stderr }))
  })
  return { done, ready, pid: () => child.pid, kill: () => child.kill('SIGTERM') }
}

/** The floor in a process of its own (bench/floor-fresh.ts), run as the nodes run: posts/s. */
async function freshFloor(storePath: string, group: string): Promise<number> {
  const child = spawn(process.execPath, [...NODE_FLAGS, '--import', TSX, join(ROOT, 'bench', 'floor-fresh.ts'), storePath, group], {
    cwd: ROOT,
    env: quiet,
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let out = ''
  let err = ''
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    out += chunk
  })
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
    err += chunk
  })
  const code = await new Promise<number | null>((resolve) => child.on('exit', resolve))
  const result = /\{"postsPerSecond":([\d.]+)\}/.exec(out)
  if (code !== 0 || !result) throw new Error(`the fresh-process floor failed (exit ${code}): ${err.slice(-2000)}`)
  return Number(result[1])
}

// ---------------------------------------------------------------------------------------------------------
// 1. Mirror a group from one neighbour process.

interface MirrorRun {
  posts: number
  totalS: number
  mirrorS: number
  pullRate: number
  peakMiB: number | undefined
  /** User + system CPU seconds of the mirroring process, all threads. */
  cpuS: number | undefined
}

const CLOCK_TICKS = (() => {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100
  } catch {
    return 100
  }
})()

/** User + system CPU seconds a running process has used so far (all threads), from /proc. */
function cpuSecondsOf(pid: number | undefined): number | undefined {
  if (pid === undefined) return undefined
  try {
    // Fields after the command name (which may hold spaces): utime and stime are the 12th and 13th.
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
    return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS
  } catch {
    return undefined
  }
}

async function mirrorOnce(group: string, peerAddresses: readonly string[]): Promise<MirrorRun> {
  const tmp = await tempDir('bench-mirror-node-')
  const peers = peerAddresses.flatMap((a) => ['--peer', a])
  const run = runCli(['mirror', group, '--no-seeds', '--port', '0', '--listen', '/ip4/127.0.0.1/tcp/0', ...peers, '--data-dir', tmp.dir], {
    timed: true,
  })
  const { lines, exitMs, code, stderr } = await run.done
  await tmp.remove()
  const up = lines.find((l) => l.text.startsWith('Node running:'))
  if (process.env.BENCH_LINES) console.log(`  node up ${up?.at.toFixed(0)} ms after spawn, exited at ${exitMs.toFixed(0)} ms`)
  if (process.env.BENCH_LINES) for (const l of lines) console.log(`  ${(l.at - (up?.at ?? 0)).toFixed(0)} ms: ${l.text}`)
  const last = lines.find((l) => l.text.startsWith('mirrored '))
  if (code !== 0 || !up || !last) throw new Error(`mirror failed (exit ${code}):\n${lines.map((l) => l.text).join('\n')}\n${stderr.slice(-2000)}`)
  // "mirrored g: N new posts (N/N posts · d/d days compared · R posts/s)"
  const match = /: (\d+) new posts .* (\d+) posts\/s/.exec(last.text)
  const hwm = /Maximum resident set size \(kbytes\): (\d+)/.exec(stderr)
  const user = /User time \(seconds\): ([\d.]+)/.exec(stderr)
  const system = /System time \(seconds\): ([\d.]+)/.exec(stderr)
  return {
    posts: Number(match?.[1]),
    totalS: exitMs / 1000,
    mirrorS: (last.at - up.at) / 1000,
    pullRate: Number(match?.[2]),
    peakMiB: hwm ? Number(hwm[1]) / 1024 : undefined,
    cpuS: user && system ? Number(user[1]) + Number(system[1]) : undefined,
  }
}

async function benchMirror(size: number): Promise<string[]> {
  const group = `bench.mirror${size}`
  console.log(`\n[mirror ${size}] generating ${size} signed ~1 KB posts over 30 days…`)
  const articles = makeCorpus({ group, posts: size, days: 30 })
  const dir = await tempDir(`bench-mirror-neighbour-${size}-`)
  await prepareDataDir(dir.dir)
  let t = performance.now()
  await writeStore(join(dir.dir, 'node.sqlite'), group, articles)
  console.log(`[mirror ${size}] neighbour store written in ${((performance.now() - t) / 1000).toFixed(1)} s`)
  const layout = readShardLayout(join(dir.dir, 'node.sqlite'))
  // What arrives over the network, made before the floor's clock starts.
  const changes = articles.map(canonicalChange)
  const articleBytes = articles.map((a) => a.bytes)
  // A known identity and port, so the mirroring node can be pointed at it before it starts.
  const key = await newPeerKey()
  await writeFile(join(dir.dir, 'peer.key'), key, { mode: 0o600 })
  const port = await freePort()
  const address = `/ip4/127.0.0.1/tcp/${port}/p2p/${peerIdOf(key)}`
  const neighbour = runCli(['start', '--no-seeds', '--port', '0', '--listen', `/ip4/127.0.0.1/tcp/${port}`, '--data-dir', dir.dir], {
    until: (line) => line.startsWith('Node running:'),
  })
  const workers = await startFloorWorkers()
  const rows: string[] = []
  try {
    await Promise.race([neighbour.ready, neighbour.done.then((r) => Promise.reject(new Error(`neighbour exited: ${r.stderr.slice(-2000)}`)))])
    const runs: MirrorRun[] = []
    const floors: number[] = []
    const freshFloors: number[] = []
    const oneRowFloors: number[] = []
    for (let r = 0; r < RUNS; r++) {
      t = performance.now()
      floors.push(await floorSameRows(workers, articleBytes, changes, layout, group))
      freshFloors.push(await freshFloor(join(dir.dir, 'node.sqlite'), group))
      oneRowFloors.push(await floorOneRow(workers, articleBytes))
      const servedBefore = cpuSecondsOf(neighbour.pid())
      const m = await mirrorOnce(group, [address])
      const servedAfter = cpuSecondsOf(neighbour.pid())
      if (m.posts !== size) throw new Error(`mirrored ${m.posts} posts, expected ${size}`)
      runs.push(m)
      const served = servedBefore !== undefined && servedAfter !== undefined ? `${(servedAfter - servedBefore).toFixed(1)} s` : '?'
      console.log(
        `[mirror ${size}] run ${r + 1}: spawn→exit ${m.totalS.toFixed(2)} s, node up→mirrored ${m.mirrorS.toFixed(2)} s ` +
          `(${(size / m.mirrorS).toFixed(0)} posts/s; printed pull rate ${m.pullRate}/s), peak RSS ${m.peakMiB?.toFixed(0) ?? '?'} MiB; ` +
          `CPU: mirroring process ${m.cpuS?.toFixed(1) ?? '?'} s, neighbour ${served}; floor ${floors.at(-1)!.toFixed(0)} posts/s ` +
          `(in a fresh process: ${freshFloors.at(-1)!.toFixed(0)}/s; one row a post: ${oneRowFloors.at(-1)!.toFixed(0)}/s)`,
      )
    }
    const mirrorS = median(runs.map((m) => m.mirrorS))
    const totalS = median(runs.map((m) => m.totalS))
    const peaks = runs.map((m) => m.peakMiB).filter((p): p is number => p !== undefined)
    const rate = size / mirrorS
    const ratio = (floor: number) => `${floor.toFixed(0)}/s | ${(floor / rate).toFixed(2)}×`
    rows.push(
      `| ${size.toLocaleString('en')} | ${totalS.toFixed(2)} s (${(size / totalS).toFixed(0)}/s) | ${mirrorS.toFixed(2)} s (${rate.toFixed(0)}/s) | ` +
        `${median(runs.map((m) => m.pullRate)).toFixed(0)}/s | ${peaks.length ? `${median(peaks).toFixed(0)} MiB` : '?'} | ` +
        `${ratio(median(floors))} | ${ratio(median(freshFloors))} | ${ratio(median(oneRowFloors))} |`,
    )
  } finally {
    await Promise.all(workers.map((w) => w.terminate()))
    neighbour.kill()
    await neighbour.done
    await dir.remove()
  }
  return rows
}

// ---------------------------------------------------------------------------------------------------------
// 1b. The same group from one and from three neighbours whose upload is capped (--serve-rate).

/** Starts a neighbour process on a data directory holding a store; resolves with its address once it runs. */
async function startNeighbour(dataDir: string, extra: string[] = []): Promise<{ address: string; stop(): Promise<void> }> {
  const key = await newPeerKey()
  await writeFile(join(dataDir, 'peer.key'), key, { mode: 0o600 })
  const port = await freePort()
  const run = runCli(['start', '--no-seeds', '--port', '0', '--listen', `/ip4/127.0.0.1/tcp/${port}`, '--data-dir', dataDir, ...extra], {
    until: (line) => line.startsWith('Node running:'),
  })
  await Promise.race([run.ready, run.done.then((r) => Promise.reject(new Error(`neighbour exited: ${r.stderr.slice(-2000)}`)))])
  return {
    address: `/ip4/127.0.0.1/tcp/${port}/p2p/${peerIdOf(key)}`,
    async stop() {
      run.kill()
      await run.done
    },
  }
}

async function benchSources(size: number, capKiB: number): Promise<string[]> {
  const group = `bench.sources${size}`
  console.log(`\n[sources ${size}] generating ${size} signed ~1 KB posts over 30 days…`)
  const articles = makeCorpus({ group, posts: size, days: 30 })
  const dirs = await Promise.all([0, 1, 2].map((i) => tempDir(`bench-sources-${i}-`)))
  for (const d of dirs) await prepareDataDir(d.dir)
  await writeStore(join(dirs[0]!.dir, 'node.sqlite'), group, articles)
  for (const d of dirs.slice(1)) await copyFile(join(dirs[0]!.dir, 'node.sqlite'), join(d.dir, 'node.sqlite'))
  const neighbours = await Promise.all(dirs.map((d) => startNeighbour(d.dir, ['--serve-rate', String(capKiB)])))
  const rows: string[] = []
  try {
    let one: number | undefined
    for (const count of [1, 3]) {
      const m = await mirrorOnce(
        group,
        neighbours.slice(0, count).map((n) => n.address),
      )
      if (m.posts !== size) throw new Error(`mirrored ${m.posts} posts, expected ${size}`)
      one ??= m.mirrorS
      console.log(
        `[sources ${size}] from ${count}: node up→mirrored ${m.mirrorS.toFixed(2)} s (${(size / m.mirrorS).toFixed(0)} posts/s), peak RSS ${m.peakMiB?.toFixed(0) ?? '?'} MiB`,
      )
      rows.push(
        `| ${count} | ${size.toLocaleString('en')} | ${capKiB} KiB/s each | ${m.mirrorS.toFixed(2)} s | ${(size / m.mirrorS).toFixed(0)}/s | ${(one / m.mirrorS).toFixed(2)}× | ${m.peakMiB?.toFixed(0) ?? '?'} MiB |`,
      )
    }
  } finally {
    await Promise.all(neighbours.map((n) => n.stop()))
    await Promise.all(dirs.map((d) => d.remove()))
  }
  return rows
}

// ---------------------------------------------------------------------------------------------------------
// 2. Anti-entropy between two nodes that differ by 10 posts.

/** Per kind of request: streams opened, frame bytes sent and received (as the puller's FrameStream sees them). */
type Kind = 'compare' | 'fetch' | 'other'
type Traffic = Record<Kind, { streams: number; sent: number; received: number }> & { firstFetchAt?: number }
const freshTraffic = (): Traffic => ({
  compare: { streams: 0, sent: 0, received: 0 },
  fetch: { streams: 0, sent: 0, received: 0 },
  other: { streams: 0, sent: 0, received: 0 },
})

/** Frame bytes plus the unsigned-varint length prefix it-length-prefixed puts before each. */
const framed = (n: number) => n + (n < 128 ? 1 : n < 16384 ? 2 : n < 2097152 ? 3 : 4)

/** The op byte of a request frame (version 2): 1 digests, 2 buckets, 3 changes, 4 hint. */
const kindOf = (request: Uint8Array): Kind => (request[1] === 1 || request[1] === 2 ? 'compare' : request[1] === 3 ? 'fetch' : 'other')

/** The peer's streams, counted: a measurement wrapper around the real transport. Only streams this side opens. */
function counting(peer: Peer, traffic: { current: Traffic }): StreamTransport {
  const wrap = (s: FrameStream): FrameStream => {
    let kind: Kind | undefined
    const count = (frame: Uint8Array) => {
      if (kind === undefined) {
        kind = kindOf(frame)
        traffic.current[kind].streams++
        if (kind === 'fetch') traffic.current.firstFetchAt ??= performance.now()
      }
      traffic.current[kind].sent += framed(frame.length)
    }
    return {
      async read() {
        const frame = await s.read()
        traffic.current[kind ?? 'other'].received += framed(frame.length)
        return frame
      },
      async write(frame) {
        count(frame)
        await s.write(frame)
      },
      async writeFrames(frames) {
        for (const frame of frames) count(frame)
        await s.writeFrames(frames)
      },
      close: () => s.close(),
    }
  }
  return {
    handle: (protocol, handler) => peer.handle(protocol, handler),
    async open(peerId, protocol, options) {
      return wrap(await peer.open(peerId, protocol, options))
    },
  }
}

interface Side {
  store: Store
  peer: Peer
  traffic: { current: Traffic }
  pull(peerId: string): Promise<number>
}

async function openSide(file: string, extras: readonly SignedArticle[], group: GroupName): Promise<Side> {
  const store = await openStore(file)
  const ingest = createIngest({ db: store.db, shards: new ShardDocuments(), log })
  const results = await ingest.ingestChanges(extras.map(canonicalChange), { origin: 'seed' })
  if (results.some((r) => r.status !== 'accepted')) throw new Error('an extra post was not stored')
  const peer = await createPeer({ key: await newPeerKey(), listen: ['/ip4/127.0.0.1/tcp/0'], maxMessageBytes: MAX_CHANGE_BYTES, log })
  const traffic = { current: freshTraffic() }
  const antiEntropy = createAntiEntropy({ transport: counting(peer, traffic), db: store.db, ingest, log })
  await antiEntropy.serve()
  return { store, peer, traffic, pull: (peerId) => antiEntropy.pull(peerId, group) }
}

interface PullFigures {
  traffic: Traffic
  ms: number
  /** Until the comparison knew what to fetch (the first `changes` stream), or the whole pull. */
  compareMs: number
  got: number
}

async function measuredPull(from: Side, to: Side): Promise<PullFigures> {
  from.traffic.current = freshTraffic()
  const t0 = performance.now()
  const got = await from.pull(to.peer.peerId)
  const ms = performance.now() - t0
  const { firstFetchAt } = from.traffic.current
  return { traffic: from.traffic.current, ms, compareMs: firstFetchAt === undefined ? ms : firstFetchAt - t0, got }
}

const total = (t: Traffic, pick: (k: Traffic[Kind]) => number) => pick(t.compare) + pick(t.fetch) + pick(t.other)

async function benchAntiEntropy(): Promise<string[]> {
  const group = parseGroupName('bench.sync')
  const common = AE_POSTS - 5
  console.log(`\n[anti-entropy] generating ${common} shared + 2×5 differing posts…`)
  const shared = makeCorpus({ group, posts: common, days: 30 })
  // Two cases: the 10 differences spread over the month (10 different days), or all from the last day.
  const variants = {
    spread: makeCorpus({ group, posts: 10, days: 30 }),
    recent: makeCorpus({ group, posts: 10, days: 1 }),
  }
  const base = await tempDir('bench-ae-base-')
  const t = performance.now()
  await writeStore(join(base.dir, 'node.sqlite'), group, shared)
  console.log(`[anti-entropy] shared store of ${common} posts written in ${((performance.now() - t) / 1000).toFixed(1)} s`)
  const rows: string[] = []
  try {
    for (const [name, extras] of Object.entries(variants)) {
      const aExtras = extras.filter((_, i) => i % 2 === 0)
      const bExtras = extras.filter((_, i) => i % 2 === 1)
      const figures: { ab: PullFigures; ba: PullFigures; again: PullFigures; days: number }[] = []
      for (let r = 0; r < AE_RUNS; r++) {
        const tmp = await tempDir('bench-ae-pair-')
        await copyFile(join(base.dir, 'node.sqlite'), join(tmp.dir, 'a.sqlite'))
        await copyFile(join(base.dir, 'node.sqlite'), join(tmp.dir, 'b.sqlite'))
        const a = await openSide(join(tmp.dir, 'a.sqlite'), aExtras, group)
        const b = await openSide(join(tmp.dir, 'b.sqlite'), bExtras, group)
        try {
          const days = (await dayDigests(a.store.db, group)).length
          await a.peer.dial(b.peer.multiaddrs()[0]!.includes('/p2p/') ? b.peer.multiaddrs()[0]! : `${b.peer.multiaddrs()[0]}/p2p/${b.peer.peerId}`)
          // Let identify finish so the first stream does not pay for it.
          await new Promise((r) => setTimeout(r, 200))
          const ab = await measuredPull(a, b)
          const ba = await measuredPull(b, a)
          const again = await measuredPull(a, b)
          if (ab.got !== 5 || ba.got !== 5 || again.got !== 0) throw new Error(`pulled ${ab.got}, ${ba.got}, ${again.got} posts; expected 5, 5, 0`)
          figures.push({ ab, ba, again, days })
          const show = (p: PullFigures) =>
            `${p.traffic.compare.streams}+${p.traffic.fetch.streams} RT, ${total(p.traffic, (k) => k.sent)} B sent / ${total(p.traffic, (k) => k.received)} B received ` +
            `(comparison ${p.traffic.compare.sent + p.traffic.compare.received} B), ${p.compareMs.toFixed(1)} ms comparing, ${p.ms.toFixed(1)} ms in all`
          console.log(`[anti-entropy ${name}] run ${r + 1}: A←B ${show(ab)}; B←A ${show(ba)}; in sync ${show(again)}`)
        } finally {
          await Promise.all([a.peer.stop(), b.peer.stop()])
          await Promise.all([a.store.close(), b.store.close()])
          await tmp.remove()
        }
      }
      const row = (label: string, pick: (f: (typeof figures)[number]) => PullFigures) => {
        const list = figures.map(pick)
        const med = (f: (p: PullFigures) => number) => median(list.map(f))
        const kb = (n: number) => n.toLocaleString('en')
        rows.push(
          `| ${name} | ${label} | ${med((p) => p.traffic.compare.streams)} + ${med((p) => p.traffic.fetch.streams)} | ` +
            `${kb(med((p) => p.traffic.compare.sent))} / ${kb(med((p) => p.traffic.compare.received))} B | ` +
            `${kb(med((p) => p.traffic.fetch.sent))} / ${kb(med((p) => p.traffic.fetch.received))} B | ` +
            `${kb(med((p) => total(p.traffic, (k) => k.sent + k.received)))} B | ${med((p) => p.compareMs).toFixed(1)} ms | ${med((p) => p.ms).toFixed(1)} ms |`,
        )
      }
      row('A pulls from B (5 missing)', (f) => f.ab)
      row('B pulls from A (5 missing)', (f) => f.ba)
      row('A pulls again (in sync)', (f) => f.again)
      console.log(`[anti-entropy ${name}] ${figures[0]!.days} days in the group`)
    }
  } finally {
    await base.remove()
  }
  return rows
}

// ---------------------------------------------------------------------------------------------------------

const mirrorRows: string[] = []
if (!values['skip-mirror']) for (const size of values.sizes.split(',').map(Number)) mirrorRows.push(...(await benchMirror(size)))
const sourceRows = values['skip-sources'] ? [] : await benchSources(Number(values['sources-posts']), Number(values.cap))
const aeRows = values['skip-ae'] ? [] : await benchAntiEntropy()

if (mirrorRows.length) {
  console.log(`\nMirror one group from one neighbour over loopback (separate processes), medians of ${RUNS} runs:`)
  console.log(
    '| posts | spawn → exit | node up → mirrored | printed pull rate | peak RSS (mirroring node) | floor: same rows | floor / mirror | ' +
      'floor: same rows, fresh process | floor / mirror | floor: one row a post | floor / mirror |',
  )
  console.log('|---|---|---|---|---|---|---|---|---|---|---|')
  for (const r of mirrorRows) console.log(r)
  console.log('Target: 50k posts at ≥ 6,000 posts/s (≤ 8.5 s), every signature verified and committed.')
}
if (sourceRows.length) {
  console.log('\nMirror one group from 1 and from 3 neighbour processes, each serving at most --cap KiB/s (--serve-rate), one run each:')
  console.log('| neighbours | posts | upload cap | node up → mirrored | posts/s | speed-up over one | peak RSS |')
  console.log('|---|---|---|---|---|---|---|')
  for (const r of sourceRows) console.log(r)
  console.log('Target: 3 neighbours ≥ 2.5× faster than one.')
}
if (aeRows.length) {
  console.log(
    `\nAnti-entropy, two nodes with ${AE_POSTS.toLocaleString('en')} posts each differing by 10 (5 each way), in-process over loopback libp2p, medians of ${AE_RUNS} runs:`,
  )
  console.log(
    '| differences | pull | round trips: compare + fetch | compare sent / received | fetch sent / received | all bytes | comparison wall time | whole pull (fetch, verify, commit) |',
  )
  console.log('|---|---|---|---|---|---|---|---|')
  for (const r of aeRows) console.log(r)
  console.log(
    'Targets: ≤ 2 round trips, ≤ 16 KB, ≤ 20 ms. One stream per round trip; the multistream-select negotiation of each stream is not counted as a round trip.',
  )
}
