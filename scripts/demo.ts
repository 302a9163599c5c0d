/**
 * `npm run demo`: a small local network to watch posts flood. Five nodes in a ring with one chord
 * (1–2–3–4–5–1 and 1–3), each with its own data directory under ./demo-data, web UI on ports 8081–8085 and
 * peer port 9101–9105, all seeded. Post on one node's page and watch it appear on the others. Ctrl-C stops
 * them all; the data stays for the next run (delete ./demo-data to start over).
 */
import { type ChildProcess, spawn } from 'node:child_process'
import { mkdir, readFile, writeFile } from 'node:fs/promises'
import { join, resolve } from 'node:path'
import { newPeerKey, peerIdOf } from '../src/node/index.ts'

const ROOT = resolve(import.meta.dirname, '..')
const COUNT = 5
const LINKS: [number, number][] = [
  [1, 2],
  [2, 3],
  [3, 4],
  [4, 5],
  [5, 1],
  [1, 3],
]

async function peerKey(dir: string): Promise<Uint8Array> {
  const path = join(dir, 'peer.key')
  try {
    return new Uint8Array(await readFile(path))
  } catch {
    const key = await newPeerKey()
    await writeFile(path, key, { mode: 0o600 })
    return key
  }
}

const nodes: { n: number; dir: string; port: number; p2p: number; peerId: string }[] = []
for (let n = 1; n <= COUNT; n++) {
  const dir = join(ROOT, 'demo-data', `node-${n}`)
  await mkdir(dir, { recursive: true, mode: 0o700 })
  nodes.push({ n, dir, port: 8080 + n, p2p: 9100 + n, peerId: peerIdOf(await peerKey(dir)) })
}

const children: ChildProcess[] = []
const ready: Promise<string>[] = []
for (const node of nodes) {
  // Each node dials the neighbours with a smaller number; the links are two-way once made.
  const peers = LINKS.filter(([a, b]) => b === node.n || (a === node.n && b < a)).map(([a, b]) => nodes[(a === node.n ? b : a) - 1]!)
  const args = [
    join(ROOT, 'bin', 'usenet-node.mjs'),
    '--port',
    String(node.port),
    '--listen',
    `/ip4/127.0.0.1/tcp/${node.p2p}`,
    '--data-dir',
    node.dir,
    ...peers.flatMap((p) => ['--peer', `/ip4/127.0.0.1/tcp/${p.p2p}/p2p/${p.peerId}`]),
  ]
  const child = spawn(process.execPath, args, { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'] })
  children.push(child)
  ready.push(
    new Promise((resolveLogin, reject) => {
      let out = ''
      child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
        out += chunk
        const login = /Owner login \(keep it private\): (\S+)/.exec(out)
        if (login) resolveLogin(login[1]!)
      })
      child.once('exit', (code) => reject(new Error(`node ${node.n} exited with code ${code}`)))
    }),
  )
}

function stopAll(): void {
  for (const child of children) child.kill('SIGTERM')
}
process.on('SIGINT', stopAll)
process.on('SIGTERM', stopAll)

try {
  const logins = await Promise.all(ready)
  console.log('\nDemo network: 5 nodes, ring 1–2–3–4–5–1 with a chord 1–3.\n')
  for (const node of nodes) {
    console.log(`node ${node.n}: http://127.0.0.1:${node.port}   owner login: ${logins[node.n - 1]}`)
  }
  console.log('\nOpen a thread on two nodes, log in as owner on one and reply: the reply appears on the other within a second.')
  console.log('Press Ctrl-C to stop all nodes.')
} catch (err) {
  console.error(`demo: ${(err as Error).message}`)
  stopAll()
  process.exitCode = 1
}
