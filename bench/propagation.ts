/**
 * Propagation through a network of real nodes, beside bare gossipsub on the same graph in the same run.
 *
 * N nodes run as child processes (bench/propagation-node.ts) on 127.0.0.1, linked in a sparse random
 * connected graph (a ring plus random chords up to the degree, from a seeded RNG). One node publishes P signed
 * ~1 KB posts at a fixed rate. Measured per post: the time from publish until every other node has it, in
 *   full mode: stored and renderable (ingest's `onAccepted`, after the SQLite commit); the publisher posts
 *              through its own ingest with origin 'local', and gossip floods what ingest accepted;
 *   bare mode: delivered by a plain libp2p peer whose topic validator accepts everything (no ingest, storage).
 * Reported: p50/p99 of that time, posts/s sustained (fully delivered posts / time from the first publish to
 * the last full delivery), lost posts (missing on some node when the timeout ends), peak RSS per node, and the
 * full/bare ratios. On a 2-core machine the nodes share the cores, so the ratio is the verdict
 * (DESIGN.md, "Flooding: gossipsub").
 *
 *   npm run bench:propagation [-- --nodes 10,30 --posts 200 --rate 5,20 --degree 4 --runs 1 --warmup 50 --timeout 30]
 *
 * --nodes and --rate take lists; every pair is measured. Other flags: --modes full,bare, --settle (s before
 * the first post), --seed (graphs), --quiet-wait (s to wait for other processes to leave the cores idle).
 * For digging in: BENCH_DETAIL=1 prints each node's gossip counters and event-loop stalls, BENCH_DUMP=prefix
 * writes every publish and arrival time as JSON, BENCH_PROF=dir runs the nodes under --cpu-prof.
 */
import { type ChildProcess, fork } from 'node:child_process'
import { createHash } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { mkdir, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { canonicalChange, groupTopic, MAX_CHANGE_BYTES } from '../src/sync/index.ts'
import { makeCorpus, median, tempDir } from './lib.ts'
import type { Command, Mode, Report } from './propagation-node.ts'

const { values } = parseArgs({
  options: {
    nodes: { type: 'string', default: '10,30' },
    posts: { type: 'string', default: '200' },
    rate: { type: 'string', default: '5,20' },
    degree: { type: 'string', default: '4' },
    runs: { type: 'string', default: '1' },
    /** Seconds after the last publish before a post still missing somewhere counts as lost. */
    timeout: { type: 'string', default: '30' },
    /** Seconds between the last connection and the first post, for the gossipsub meshes to form. */
    settle: { type: 'string', default: '5' },
    seed: { type: 'string', default: '1' },
    /** Posts published first and left out of the figures: fresh processes are slow until the JIT warms up. */
    warmup: { type: 'string', default: '50' },
    /** Seconds to wait for other processes to leave the cores idle before each measurement (0: don't). */
    'quiet-wait': { type: 'string', default: '120' },
    modes: { type: 'string', default: 'full,bare' },
  },
})
const list = (s: string) => s.split(',').map((x) => Number(x.trim()))
const NODES = list(values.nodes)
const RATES = list(values.rate)
const POSTS = Number(values.posts)
const DEGREE = Number(values.degree)
const RUNS = Number(values.runs)
const TIMEOUT_MS = Number(values.timeout) * 1000
const SETTLE_MS = Number(values.settle) * 1000
const SEED = Number(values.seed)
const WARMUP = Number(values.warmup)
const QUIET_WAIT_MS = Number(values['quiet-wait']) * 1000
/** Other processes using less than this many cores count as a quiet machine. */
const QUIET_CORES = 0.3
const MODES = values.modes.split(',') as Mode[]
const GROUP = 'bench.flood'
const TOPIC = groupTopic(GROUP)
const WORKER = join(import.meta.dirname, 'propagation-node.ts')

if (Number(process.versions.node.split('.')[0]) < 24) throw new Error(`run this through npm (Node 24); this is Node ${process.versions.node}`)
if (NODES.some((n) => !(n >= 3)) || RATES.some((r) => !(r > 0)) || !(POSTS > 0) || !(DEGREE >= 2) || !(RUNS >= 1)) {
  throw new Error('need --nodes ≥ 3, --rate > 0, --posts > 0, --degree ≥ 2, --runs ≥ 1')
}
if (MODES.some((m) => m !== 'full' && m !== 'bare')) throw new Error('--modes takes full and/or bare')

/** The key receipts carry, as bench/propagation-node.ts computes it. */
const changeKey = (change: Uint8Array) => createHash('sha256').update(change).digest('hex').slice(0, 16)
const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, Math.max(0, ms)))

// ---- the graph ------------------------------------------------------------------------------------------

/** mulberry32: a small seeded PRNG, so a run's graph can be rebuilt from its seed. */
function rng(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

/** A ring (so the graph is connected) plus random chords between nodes still below the degree. */
function randomGraph(n: number, degree: number, random: () => number): [number, number][] {
  const adjacent = Array.from({ length: n }, () => new Set<number>())
  const edges: [number, number][] = []
  const link = (a: number, b: number) => {
    adjacent[a]!.add(b)
    adjacent[b]!.add(a)
    edges.push([Math.min(a, b), Math.max(a, b)])
  }
  for (let i = 0; i < n; i++) link(i, (i + 1) % n)
  for (let attempt = 0; attempt < n * degree * 50; attempt++) {
    const open = adjacent.flatMap((set, i) => (set.size < degree ? [i] : []))
    if (open.length < 2) break
    const a = open[Math.floor(random() * open.length)]!
    const b = open[Math.floor(random() * open.length)]!
    if (a !== b && !adjacent[a]!.has(b)) link(a, b)
  }
  return edges
}

/** How many hops the farthest node is from `from`. */
function farthest(n: number, edges: readonly [number, number][], from: number): number {
  const hops = new Array<number>(n).fill(-1)
  hops[from] = 0
  const queue = [from]
  for (const node of queue) {
    for (const [a, b] of edges) {
      const next = a === node ? b : b === node ? a : -1
      if (next >= 0 && hops[next] === -1) {
        hops[next] = hops[node]! + 1
        queue.push(next)
      }
    }
  }
  return Math.max(...hops)
}

// ---- the workers ----------------------------------------------------------------------------------------

type ReportOf<K extends Report['type']> = Extract<Report, { type: K }>
type EventsReport = ReportOf<'events'>

interface Worker {
  readonly index: number
  readonly child: ChildProcess
  send(command: Command): void
  next<K extends Report['type']>(type: K, timeoutMs: number): Promise<ReportOf<K>>
}

const live = new Set<ChildProcess>()
const liveDirs = new Set<{ remove(): Promise<void> }>()

function killAll(): Promise<void> {
  const exits = [...live].map(
    (child) =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) return resolve()
        const force = setTimeout(() => child.kill('SIGKILL'), 3000)
        child.once('exit', () => {
          clearTimeout(force)
          resolve()
        })
        child.kill('SIGTERM')
      }),
  )
  live.clear()
  return Promise.all(exits).then(() => undefined)
}

process.on('SIGINT', () => {
  console.error('\ninterrupted: stopping the nodes')
  void killAll()
    .then(() => Promise.all([...liveDirs].map((d) => d.remove())))
    .finally(() => process.exit(130))
})

/** Starts a worker; `onEvents` hears its receipts, `onFailure` an error it reports or an unexpected exit. */
function startWorker(index: number, mode: Mode, dir: string, onEvents: (index: number, r: EventsReport) => void, onFailure: (err: Error) => void): Worker {
  const child = fork(WORKER, [mode, dir, GROUP, TOPIC, String(MAX_CHANGE_BYTES)], {
    execArgv: ['--import', import.meta.resolve('tsx'), ...(process.env.BENCH_PROF ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_PROF}`] : [])],
    serialization: 'advanced',
    env: { ...process.env, USENET_LOG: process.env.USENET_LOG ?? 'warn' },
  })
  live.add(child)
  const buffered: Report[] = []
  const waiting: { type: Report['type']; resolve: (r: Report) => void }[] = []
  child.on('message', (report: Report) => {
    if (report.type === 'events') return onEvents(index, report)
    if (report.type === 'error') return onFailure(new Error(`node ${index} (${mode}): ${report.message}`))
    const w = waiting.findIndex((x) => x.type === report.type)
    if (w >= 0) waiting.splice(w, 1)[0]!.resolve(report)
    else buffered.push(report)
  })
  child.on('exit', (code, signal) => {
    if (live.has(child)) onFailure(new Error(`node ${index} (${mode}) exited (${signal ?? code})`))
  })
  return {
    index,
    child,
    send: (command) => void child.send(command),
    next(type, timeoutMs) {
      const b = buffered.findIndex((r) => r.type === type)
      if (b >= 0) return Promise.resolve(buffered.splice(b, 1)[0] as ReportOf<typeof type>)
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`node ${index} (${mode}) sent no '${type}' within ${timeoutMs / 1000} s`)), timeoutMs)
        waiting.push({
          type,
          resolve: (r) => {
            clearTimeout(timer)
            resolve(r as ReportOf<typeof type>)
          },
        })
      })
    },
  }
}

// ---- the machine's load ---------------------------------------------------------------------------------

/** CPU time the whole machine has spent busy since boot, in ms (Linux /proc/stat), or NaN. */
function machineBusyMs(): number {
  try {
    const [user, nice, system, , , irq, softirq, steal] = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number)
    return (user! + nice! + system! + irq! + softirq! + (steal ?? 0)) * 10 // USER_HZ is 100 on Linux
  } catch {
    return Number.NaN
  }
}

const cpuMs = (usage: NodeJS.CpuUsage) => (usage.user + usage.system) / 1000

/** Measures how busy other processes keep the machine: busy time minus ours (this process and the workers). */
function startLoadWindow(): { othersCores(workersCpuMs: number): number } {
  const busy0 = machineBusyMs()
  const own0 = process.cpuUsage()
  const t0 = performance.now()
  return {
    othersCores(workersCpuMs) {
      const others = machineBusyMs() - busy0 - cpuMs(process.cpuUsage(own0)) - workersCpuMs
      return Math.max(0, others) / (performance.now() - t0)
    },
  }
}

/** This machine is shared: wait (up to --quiet-wait seconds) until other processes leave the cores idle. */
async function waitForQuiet(): Promise<void> {
  const deadline = performance.now() + QUIET_WAIT_MS
  for (;;) {
    const window = startLoadWindow()
    await sleep(2000)
    const others = window.othersCores(0)
    if (Number.isNaN(others) || others < QUIET_CORES) return
    if (performance.now() > deadline) {
      console.log(`  other processes still keep ${others.toFixed(1)} cores busy; measuring anyway`)
      return
    }
    console.log(`  waiting: other processes keep ${others.toFixed(1)} cores busy`)
    await sleep(8000)
  }
}

// ---- one measurement ------------------------------------------------------------------------------------

interface Result {
  p50: number
  p99: number
  /** Median over every (post, node) delivery: how long one node waits, not the last one. */
  nodeP50: number
  postsPerSecond: number
  /** Publishes per second actually achieved by the pacing. */
  offered: number
  lost: number
  missingDeliveries: number
  rssMax: number
  rssMedian: number
  /** CPU time per post on the median node while the posts flowed (all its work: gossip, ingest, heartbeats). */
  cpuPerPost: number
  /** Cores that processes other than this bench kept busy meanwhile (NaN where /proc/stat is missing). */
  others: number
  connections: { min: number; max: number }
  /** Connections per node when the posts have flowed. */
  connectionsAtEnd: { min: number; max: number }
  details: string[]
}

function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1))]!
}

/**
 * One network of `nodes` workers in one mode: `changes` are published at `rate`; the first `warmup` of them
 * only warm the freshly started processes up (JIT, connections) and are left out of every figure.
 */
async function measure(
  mode: Mode,
  nodes: number,
  rate: number,
  edges: readonly [number, number][],
  changes: readonly Uint8Array[],
  warmup: number,
): Promise<Result> {
  const posts = changes.length
  const indexOf = new Map(changes.map((c, i) => [changeKey(c), i]))
  const sentAt = new Float64Array(posts).fill(Number.NaN)
  // arrivals[post * nodes + node]: when that node had the post (NaN: not yet).
  const arrivals = new Float64Array(posts * nodes).fill(Number.NaN)
  const deliveredTo = new Uint16Array(posts)
  let complete = 0 // measured posts that every node has

  const onEvents = (node: number, report: EventsReport) => {
    for (const [i, at] of report.published) sentAt[i] = at
    if (node === 0) return // the publisher's own copy is not a delivery
    for (const [key, at] of report.received) {
      const i = indexOf.get(key)
      if (i === undefined || !Number.isNaN(arrivals[i * nodes + node]!)) continue
      arrivals[i * nodes + node] = at
      if (++deliveredTo[i]! === nodes - 1 && i >= warmup) complete++
    }
  }
  let failure: Error | undefined
  let fail!: (err: Error) => void
  const failed = new Promise<never>((_, reject) => {
    fail = (err) => {
      failure ??= err
      reject(err)
    }
  })
  failed.catch(() => undefined)
  const guard = <T>(p: Promise<T>) => Promise.race([p, failed])

  const tmp = await tempDir(`bench-propagation-${mode}-`)
  liveDirs.add(tmp)
  try {
    const workers: Worker[] = []
    for (let i = 0; i < nodes; i++) {
      const dir = join(tmp.dir, `node-${i}`)
      await mkdir(dir)
      workers.push(startWorker(i, mode, dir, onEvents, fail))
    }
    const addrs = (await guard(Promise.all(workers.map((w) => w.next('ready', 180_000))))).map((r) => r.addr)

    // Each link is dialled once, by its lower-numbered end.
    for (const w of workers) w.send({ type: 'dial', addrs: edges.filter(([a]) => a === w.index).map(([, b]) => addrs[b]!) })
    const dialed = await guard(Promise.all(workers.map((w) => w.next('dialed', 60_000))))
    const failures = dialed.flatMap((d) => d.failed)
    if (failures.length > 0) throw new Error(`dials failed: ${failures.join('; ')}`)
    await guard(sleep(SETTLE_MS))
    for (const w of workers) w.send({ type: 'status' })
    const connected = (await guard(Promise.all(workers.map((w) => w.next('status', 30_000))))).map((s) => s.connected)

    const publisher = workers[0]!
    publisher.send({ type: 'load', changes: [...changes] })
    // Paced against the start time, so a late timer does not slow the rate down.
    const load = startLoadWindow()
    const start = performance.now()
    for (let i = 0; i < posts; i++) {
      await guard(sleep(start + (i * 1000) / rate - performance.now()))
      publisher.send({ type: 'publish', index: i })
    }
    const deadline = performance.now() + TIMEOUT_MS
    while (complete < posts - warmup && performance.now() < deadline && !failure) await sleep(50)

    for (const w of workers) w.send({ type: 'finish' })
    const done = await guard(Promise.all(workers.map((w) => w.next('done', 60_000))))
    if (failure) throw failure
    const others = load.othersCores(done.reduce((sum, d) => sum + d.cpuMs, 0))

    const latencies: number[] = []
    const perNode: number[] = []
    let firstSent = Number.POSITIVE_INFINITY
    let lastSent = Number.NEGATIVE_INFINITY
    let lastComplete = Number.NEGATIVE_INFINITY
    let missingDeliveries = 0
    for (let i = warmup; i < posts; i++) {
      const sent = sentAt[i]!
      if (Number.isNaN(sent)) throw new Error(`the publisher never reported post ${i}`)
      firstSent = Math.min(firstSent, sent)
      lastSent = Math.max(lastSent, sent)
      let last = Number.NEGATIVE_INFINITY
      for (let node = 1; node < nodes; node++) {
        const at = arrivals[i * nodes + node]!
        if (Number.isNaN(at)) missingDeliveries++
        else {
          perNode.push(at - sent)
          last = Math.max(last, at)
        }
      }
      if (deliveredTo[i] === nodes - 1) {
        latencies.push(last - sent)
        lastComplete = Math.max(lastComplete, last)
      }
    }
    if (process.env.BENCH_DUMP) {
      // For digging into one measurement: every post's publish time and each node's arrival time.
      const file = `${process.env.BENCH_DUMP}-${mode}-${nodes}n-${rate}r.json`
      await writeFile(file, JSON.stringify({ nodes, sentAt: [...sentAt], arrivals: [...arrivals].map((x) => (Number.isNaN(x) ? null : x)) }))
    }
    latencies.sort((a, b) => a - b)
    perNode.sort((a, b) => a - b)
    const rss = done.map((d) => d.peakRssMiB)
    return {
      p50: percentile(latencies, 0.5),
      p99: percentile(latencies, 0.99),
      nodeP50: percentile(perNode, 0.5),
      postsPerSecond: latencies.length > 0 ? latencies.length / ((lastComplete - firstSent) / 1000) : 0,
      offered: posts - warmup > 1 ? (posts - warmup - 1) / ((lastSent - firstSent) / 1000) : rate,
      lost: posts - warmup - latencies.length,
      missingDeliveries,
      rssMax: Math.max(...rss),
      rssMedian: median(rss),
      cpuPerPost: median(done.map((d) => d.cpuMs)) / posts,
      others,
      connections: { min: Math.min(...connected), max: Math.max(...connected) },
      connectionsAtEnd: { min: Math.min(...done.map((d) => d.connected)), max: Math.max(...done.map((d) => d.connected)) },
      details: done.map((d, i) => `node ${i}: ${d.detail}`),
    }
  } finally {
    await killAll()
    await tmp.remove()
    liveDirs.delete(tmp)
  }
}

// ---- reporting ------------------------------------------------------------------------------------------

const cores = (x: number) => (Number.isNaN(x) ? '?' : x.toFixed(2))
const ms = (x: number) => (Number.isNaN(x) ? '–' : x < 10 ? x.toFixed(1) : x.toFixed(0))
const pad = (cells: readonly string[], widths: readonly number[]) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ')

function describe(mode: Mode, r: Result): string {
  return (
    `${mode}: p50 ${ms(r.p50)} ms, p99 ${ms(r.p99)} ms (per node p50 ${ms(r.nodeP50)} ms), ${r.postsPerSecond.toFixed(1)} posts/s ` +
    `(offered ${r.offered.toFixed(1)}), lost ${r.lost} (${r.missingDeliveries} deliveries missing), RSS max ${r.rssMax.toFixed(0)} / median ` +
    `${r.rssMedian.toFixed(0)} MiB, CPU ${r.cpuPerPost.toFixed(1)} ms/post/node, ${r.connections.min}-${r.connections.max} connections per node ` +
    `(${r.connectionsAtEnd.min}-${r.connectionsAtEnd.max} at the end), ` +
    `other processes ${cores(r.others)} cores`
  )
}

/** Medians of each figure over the runs. */
function medianResult(results: readonly Result[]): Result {
  const m = (f: (r: Result) => number) => median(results.map(f))
  return {
    p50: m((r) => r.p50),
    p99: m((r) => r.p99),
    nodeP50: m((r) => r.nodeP50),
    postsPerSecond: m((r) => r.postsPerSecond),
    offered: m((r) => r.offered),
    lost: m((r) => r.lost),
    missingDeliveries: m((r) => r.missingDeliveries),
    rssMax: m((r) => r.rssMax),
    rssMedian: m((r) => r.rssMedian),
    cpuPerPost: m((r) => r.cpuPerPost),
    others: m((r) => r.others),
    connections: { min: Math.min(...results.map((r) => r.connections.min)), max: Math.max(...results.map((r) => r.connections.max)) },
    connectionsAtEnd: {
      min: Math.min(...results.map((r) => r.connectionsAtEnd.min)),
      max: Math.max(...results.map((r) => r.connectionsAtEnd.max)),
    },
    details: [],
  }
}

// ---- main -----------------------------------------------------------------------------------------------

console.log(`generating ${WARMUP} + ${POSTS} signed articles of about 1 KB…`)
// Dated within the last hour, as a live flood is: they share a day's shard (split at its cap), as live posts do.
const articles = makeCorpus({ group: GROUP, posts: WARMUP + POSTS, days: 1 / 24 })
const changes = articles.map(canonicalChange)
console.log(
  `mean change ${Math.round(changes.reduce((s, c) => s + c.length, 0) / changes.length)} B; modes ${MODES.join(', ')}; ${RUNS} run(s) per ` +
    `configuration; each measurement publishes ${WARMUP} warm-up posts first, at the same rate, left out of the figures`,
)

const summaries: string[] = []
for (const nodes of NODES) {
  for (const rate of RATES) {
    const results = new Map<Mode, Result[]>(MODES.map((m) => [m, []]))
    let links = 0
    for (let run = 0; run < RUNS; run++) {
      const edges = randomGraph(nodes, DEGREE, rng(SEED * 1_000_003 + nodes * 1009 + run))
      links = edges.length
      console.log(
        `\n${nodes} nodes, ${edges.length} links (degree ≈ ${DEGREE}; the farthest node is ${farthest(nodes, edges, 0)} hops from the ` +
          `publisher), ${POSTS} posts at ${rate}/s, run ${run + 1}/${RUNS}`,
      )
      // Alternate which mode goes first, so neither always runs on a warmer (or more tired) machine.
      const order = run % 2 === 0 ? MODES : [...MODES].reverse()
      for (const mode of order) {
        if (QUIET_WAIT_MS > 0) await waitForQuiet()
        const t0 = performance.now()
        const result = await measure(mode, nodes, rate, edges, changes, WARMUP)
        results.get(mode)!.push(result)
        console.log(`  ${describe(mode, result)} [${((performance.now() - t0) / 1000).toFixed(0)} s]`)
        if (process.env.BENCH_DETAIL) for (const line of result.details) console.log(`    ${line}`)
      }
    }
    const widths = [4, 7, 7, 11, 7, 7, 4, 7, 7, 10, 11, 6]
    const head = ['mode', 'p50 ms', 'p99 ms', 'node p50 ms', 'posts/s', 'offered', 'lost', 'missing', 'RSS max', 'RSS median', 'CPU ms/post', 'others']
    console.log(
      `\n${nodes} nodes, ${links} links, ${POSTS} posts of ~1 KB at ${rate} posts/s — ${RUNS === 1 ? '1 run (no median)' : `medians of ${RUNS} runs`}`,
    )
    console.log(pad(head, widths))
    const medians = new Map<Mode, Result>()
    for (const mode of MODES) {
      const r = medianResult(results.get(mode)!)
      medians.set(mode, r)
      console.log(
        pad(
          [
            mode,
            ms(r.p50),
            ms(r.p99),
            ms(r.nodeP50),
            r.postsPerSecond.toFixed(1),
            r.offered.toFixed(1),
            String(r.lost),
            String(r.missingDeliveries),
            `${r.rssMax.toFixed(0)} MiB`,
            `${r.rssMedian.toFixed(0)} MiB`,
            r.cpuPerPost.toFixed(1),
            cores(r.others),
          ],
          widths,
        ),
      )
    }
    const full = medians.get('full')
    const bare = medians.get('bare')
    let summary = `${nodes} nodes @ ${rate}/s:`
    if (full) summary += ` full p50 ${ms(full.p50)} ms p99 ${ms(full.p99)} ms, ${full.postsPerSecond.toFixed(1)} posts/s, lost ${full.lost};`
    if (bare) summary += ` bare p50 ${ms(bare.p50)} ms p99 ${ms(bare.p99)} ms, ${bare.postsPerSecond.toFixed(1)} posts/s, lost ${bare.lost};`
    if (full && bare) {
      const ratios = `full/bare p50 ${(full.p50 / bare.p50).toFixed(2)}×, p99 ${(full.p99 / bare.p99).toFixed(2)}×`
      console.log(ratios)
      summary += ` ${ratios};`
    }
    if (full) summary += ` full RSS max ${full.rssMax.toFixed(0)} / median ${full.rssMedian.toFixed(0)} MiB`
    if (bare) summary += `${full ? ',' : ''} bare RSS max ${bare.rssMax.toFixed(0)} / median ${bare.rssMedian.toFixed(0)} MiB`
    const busy = [...medians.values()].map((r) => cores(r.others)).join(' / ')
    summary += `; other processes ${busy} cores`
    summaries.push(summary)
  }
}

console.log(
  `\nsummary (${RUNS === 1 ? 'one run per configuration' : `medians of ${RUNS} runs`}; p50/p99: publish → stored on the last node; RSS: peak per ` +
    `node; 'others': cores other processes kept busy during the measurement):`,
)
for (const s of summaries) console.log(`  ${s}`)
