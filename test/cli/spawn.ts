import { type ChildProcess, spawn } from 'node:child_process'
import { join, resolve } from 'node:path'

/** The project directory, where users run the CLI from. */
export const ROOT = resolve(import.meta.dirname, '..', '..')
/** The Node 24 binary of the `node` package (the system node is older). */
export const NODE24 = join(ROOT, 'node_modules', 'node', 'bin', 'node')
/** How users start a node from a checkout: Node 24 with tsx on src/cli.ts. */
export const CLI = ['--import', 'tsx', join('src', 'cli.ts')]

export interface Exit {
  code: number | null
  signal: NodeJS.Signals | null
  stdout: string
  stderr: string
}

/** The environment without any USENET_* variable of the person running the tests. */
function cleanEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {}
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('USENET_')) env[k] = v
  return { ...env, ...extra }
}

export interface Spawned {
  readonly child: ChildProcess
  stdout(): string
  stderr(): string
  /** Resolves when the process has exited (at once if it already has). */
  exited: Promise<Exit>
}

export function spawnCli(
  args: readonly string[],
  { command = [NODE24, ...CLI], env = {} }: { command?: string[]; env?: Record<string, string> } = {},
): Spawned {
  const [bin, ...pre] = command
  // Tests never take fixed ports: a node's peer listens on a free one unless the test says otherwise.
  const listen = args.includes('--listen') ? [] : ['--listen', '/ip4/127.0.0.1/tcp/0']
  const child = spawn(bin!, [...pre, ...args, ...(args.includes('--help') || args.includes('-h') ? [] : listen)], {
    cwd: ROOT,
    env: cleanEnv(env),
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let out = ''
  let err = ''
  child.stdout!.setEncoding('utf8').on('data', (d: string) => {
    out += d
  })
  child.stderr!.setEncoding('utf8').on('data', (d: string) => {
    err += d
  })
  const exited = new Promise<Exit>((resolveExit, reject) => {
    child.once('error', reject)
    child.once('close', (code, signal) => resolveExit({ code, signal, stdout: out, stderr: err }))
  })
  return { child, stdout: () => out, stderr: () => err, exited }
}

/** Runs the CLI to completion; kills it if it is still running after `timeoutMs`. */
export async function runCli(args: readonly string[], options: { command?: string[]; env?: Record<string, string>; timeoutMs?: number } = {}): Promise<Exit> {
  const run = spawnCli(args, options)
  const timer = setTimeout(() => run.child.kill('SIGKILL'), options.timeoutMs ?? 20_000)
  try {
    return await run.exited
  } finally {
    clearTimeout(timer)
  }
}

export interface RunningCli extends Spawned {
  readonly url: string
  readonly loginUrl: string
  readonly token: string
}

/** Starts a node and waits until it prints its address and login link. */
export async function startCli(
  args: readonly string[],
  options: { command?: string[]; env?: Record<string, string>; timeoutMs?: number } = {},
): Promise<RunningCli> {
  const run = spawnCli(args, options)
  const deadline = Date.now() + (options.timeoutMs ?? 30_000)
  let exit: Exit | undefined
  void run.exited.then((e) => {
    exit = e
  })
  for (;;) {
    const url = /^Node running: (\S+)$/m.exec(run.stdout())?.[1]
    const loginUrl = /^Owner login \(keep it private\): (\S+)$/m.exec(run.stdout())?.[1]
    if (url && loginUrl) {
      const token = new URL(loginUrl).searchParams.get('token') ?? ''
      return { ...run, url, loginUrl, token }
    }
    if (exit) throw new Error(`the node exited (${exit.code ?? exit.signal}) before it started:\n${exit.stderr}`)
    if (Date.now() > deadline) {
      run.child.kill('SIGKILL')
      throw new Error(`the node did not start in time:\n${run.stdout()}\n${run.stderr()}`)
    }
    await new Promise((r) => setTimeout(r, 25))
  }
}
