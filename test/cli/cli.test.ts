import { existsSync } from 'node:fs'
import { chmod, mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { request } from 'node:http'
import { join } from 'node:path'
import { afterAll, afterEach, describe, expect, it } from 'vitest'
import { ROOT, runCli, type RunningCli, startCli } from './spawn.ts'

const temps: string[] = []
const running: RunningCli[] = []

async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'usenet-cli-'))
  temps.push(dir)
  return dir
}

afterEach(async () => {
  for (const node of running.splice(0)) {
    if (node.child.exitCode === null && node.child.signalCode === null) node.child.kill('SIGKILL')
    await node.exited
  }
})
// Not after each: the usage tests run concurrently.
afterAll(async () => {
  for (const dir of temps.splice(0)) await rm(dir, { recursive: true, force: true })
})

/** fetch() always sends the URL's host, so a request with another Host header goes through node:http. */
function statusWithHost(url: string, host: string): Promise<number> {
  return new Promise((resolveStatus, reject) => {
    const req = request(url, { headers: { host } }, (res) => {
      res.resume()
      resolveStatus(res.statusCode ?? 0)
    })
    req.once('error', reject)
    req.end()
  })
}

/** stderr as lines, without the empty string after the final newline. */
function lines(text: string): string[] {
  return text.split('\n').filter((l, i, all) => !(l === '' && i === all.length - 1))
}

// Each case is a short-lived process; running them side by side keeps the file fast.
describe.concurrent('usage', () => {
  it('prints the usage on --help and -h and exits 0', async () => {
    const [long, short] = await Promise.all([runCli(['--help']), runCli(['-h'])])
    for (const r of [long, short]) {
      expect(r.code).toBe(0)
      expect(r.stdout).toMatch(/^Usage: usenet-node/)
      for (const option of ['--port', '--bind', '--data-dir', '--no-seeds', '--allowed-host']) expect(r.stdout).toContain(option)
      expect(r.stderr).toBe('')
    }
  })

  const bad: { args: string[]; names: string }[] = [
    { args: ['--port', 'abc'], names: '"abc"' },
    { args: ['--port', '70000'], names: '"70000"' },
    { args: ['--port=-1'], names: '"-1"' },
    { args: ['--bind', 'nonsense'], names: '"nonsense"' },
    { args: ['--unknown'], names: '--unknown' },
    { args: ['start', 'extra'], names: '"extra"' },
    { args: ['serve'], names: '"serve"' },
    { args: ['--port'], names: '--port' },
    { args: ['--allowed-host', 'bad host!'], names: '"bad host!"' },
    { args: ['--seeds', 'x', '--no-seeds'], names: '--no-seeds' },
  ]
  it.each(bad)('exits with code 2 and one line on stderr naming the bad value for $args', async ({ args, names }) => {
    const dir = await tempDir()
    const r = await runCli([...args, '--data-dir', join(dir, 'data')])
    expect(r.code).toBe(2)
    expect(r.stdout).toBe('')
    expect(lines(r.stderr)).toHaveLength(1)
    expect(r.stderr).toContain(names)
    expect(r.stderr).toMatch(/^usenet-node: /)
    // A refused start leaves no trace.
    expect(existsSync(join(dir, 'data'))).toBe(false)
  })

  it('refuses a bad port from the environment the same way', async () => {
    const r = await runCli([], { env: { USENET_PORT: 'eighty' } })
    expect(r.code).toBe(2)
    expect(lines(r.stderr)).toEqual(['usenet-node: --port "eighty" is not a port number (0-65535)'])
  })
})

describe.concurrent('an unusable data directory', () => {
  it('exits non-zero with one line naming a data directory under a regular file', async () => {
    const dir = await tempDir()
    await writeFile(join(dir, 'file'), 'not a directory')
    const path = join(dir, 'file', 'data')
    const r = await runCli(['--port', '0', '--data-dir', path])
    expect(r.code).not.toBe(0)
    expect(r.code).not.toBeNull()
    expect(lines(r.stderr)).toHaveLength(1)
    expect(r.stderr).toContain(path)
    expect(r.stdout).toBe('')
  })

  it('exits non-zero with one line naming a data directory that is a regular file', async () => {
    const dir = await tempDir()
    const path = join(dir, 'file')
    await writeFile(path, 'not a directory')
    const r = await runCli(['--port', '0', '--data-dir', path])
    expect(r.code).not.toBe(0)
    expect(lines(r.stderr)).toHaveLength(1)
    expect(r.stderr).toContain(path)
  })

  it('exits non-zero with one line naming a database file that is not a database', async () => {
    const dir = await tempDir()
    await writeFile(join(dir, 'node.sqlite'), 'this is not an SQLite file, just text that is long enough'.repeat(10))
    const r = await runCli(['--port', '0', '--data-dir', dir, '--no-seeds'])
    expect(r.code).not.toBe(0)
    expect(lines(r.stderr)).toHaveLength(1)
    expect(r.stderr).toContain(join(dir, 'node.sqlite'))
  })

  it.skipIf(process.getuid?.() === 0)('exits non-zero with one line naming a directory without write permission', async () => {
    const dir = await tempDir()
    const path = join(dir, 'locked')
    await mkdir(path, { mode: 0o500 })
    const r = await runCli(['--port', '0', '--data-dir', path])
    await chmod(path, 0o700)
    expect(r.code).not.toBe(0)
    expect(lines(r.stderr)).toHaveLength(1)
    expect(r.stderr).toContain(path)
  })
})

describe('a real start', () => {
  it('prints the URL and login link, serves the seeded groups, keeps the owner key private, and stops cleanly on SIGTERM', async () => {
    const parent = await tempDir()
    const dataDir = join(parent, 'data')
    const node = await startCli(['--port', '0', '--data-dir', dataDir])
    running.push(node)

    const url = new URL(node.url)
    expect(url.protocol).toBe('http:')
    expect(url.hostname).toBe('127.0.0.1')
    expect(Number(url.port)).toBeGreaterThan(0)
    expect(node.stdout()).toContain(`Data directory: ${dataDir}`)
    expect(node.loginUrl).toBe(`${node.url}/login?token=${node.token}`)
    expect(node.token).toBe((await readFile(join(dataDir, 'owner.token'), 'utf8')).trim())

    const home = await fetch(node.url)
    expect(home.status).toBe(200)
    const html = await home.text()
    const seeded = JSON.parse(await readFile(join(ROOT, 'seeds', 'groups.json'), 'utf8')) as { name: string }[]
    expect(seeded.length).toBeGreaterThan(0)
    for (const g of seeded) expect(html).toContain(`href="/g/${g.name}"`)
    const api = (await (await fetch(`${node.url}/api/groups`)).json()) as { groups: { name: string; postCount: number }[] }
    expect(api.groups.map((g) => g.name).sort()).toEqual(seeded.map((g) => g.name).sort())
    expect(api.groups.reduce((n, g) => n + g.postCount, 0)).toBeGreaterThan(0)

    // The printed link logs the owner in.
    const login = await fetch(node.loginUrl, { redirect: 'manual' })
    expect(login.status).toBe(303)
    expect(login.headers.getSetCookie()[0]).toMatch(/^usenet_owner=/)
    // The node answers to its own name only.
    expect(await statusWithHost(node.url, `evil.example:${url.port}`)).toBe(403)
    expect(await statusWithHost(node.url, `localhost:${url.port}`)).toBe(200)

    for (const secret of ['owner.key', 'owner.token']) expect((await stat(join(dataDir, secret))).mode & 0o777, secret).toBe(0o600)
    expect((await stat(dataDir)).mode & 0o777).toBe(0o700)

    node.child.kill('SIGTERM')
    const exit = await node.exited
    expect(exit.code).toBe(0)
    expect(exit.signal).toBeNull()
    await expect(fetch(node.url)).rejects.toThrow()
  })

  it('keeps its identity and posts across a restart, without importing the demo posts twice', async () => {
    const dataDir = await tempDir()
    const first = await startCli(['--port', '0', '--data-dir', dataDir])
    running.push(first)
    const posted = await fetch(`${first.url}/api/groups/misc.test/articles`, {
      method: 'POST',
      headers: { authorization: `Bearer ${first.token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ subject: 'Survives a restart', body: 'still here' }),
    })
    expect(posted.status).toBe(201)
    const { article } = (await posted.json()) as { article: { hex: string; authorKey: string } }
    const countsBefore = (await (await fetch(`${first.url}/api/groups`)).json()) as unknown
    first.child.kill('SIGTERM')
    expect((await first.exited).code).toBe(0)

    const second = await startCli(['--port', '0', '--data-dir', dataDir])
    running.push(second)
    expect(second.token).toBe(first.token)
    const again = (await (await fetch(`${second.url}/api/articles/${article.hex}`)).json()) as { authorKey: string; body: string }
    expect(again.body).toBe('still here')
    expect(again.authorKey).toBe(article.authorKey)
    expect(await (await fetch(`${second.url}/api/groups`)).json()).toEqual(countsBefore)
    second.child.kill('SIGINT')
    expect((await second.exited).code).toBe(0)
  })

  it('says which port is taken when another node already listens on it', async () => {
    const a = await startCli(['--port', '0', '--data-dir', await tempDir(), '--no-seeds'])
    running.push(a)
    const port = new URL(a.url).port
    const r = await runCli(['--port', port, '--data-dir', await tempDir(), '--no-seeds'])
    expect(r.code).toBe(1)
    expect(lines(r.stderr).filter((l) => l.startsWith('usenet-node: '))).toEqual([`usenet-node: port ${port} on 127.0.0.1 is in use; pick another with --port`])
  })
})

describe('the bin script', () => {
  // The machine's own node is older than 24; the bin script re-runs itself with the project's Node 24.
  const systemNode = ['/usr/bin/node', '/usr/local/bin/node'].find((p) => existsSync(p))

  it.skipIf(!systemNode)('runs under the system node and passes on the exit code of a bad option', async () => {
    const help = await runCli(['--help'], { command: [systemNode!, 'bin/usenet-node.mjs'] })
    expect(help.code).toBe(0)
    expect(help.stdout).toMatch(/^Usage: usenet-node/)
    const bad = await runCli(['--port', 'abc'], { command: [systemNode!, 'bin/usenet-node.mjs'] })
    expect(bad.code).toBe(2)
    expect(lines(bad.stderr)).toEqual(['usenet-node: --port "abc" is not a port number (0-65535)'])
  })

  it.skipIf(!systemNode)('forwards SIGTERM to the node it started, which stops with exit code 0', async () => {
    const node = await startCli(['--port', '0', '--data-dir', await tempDir(), '--no-seeds'], { command: [systemNode!, 'bin/usenet-node.mjs'] })
    running.push(node)
    expect((await fetch(node.url)).status).toBe(200)
    node.child.kill('SIGTERM')
    expect((await node.exited).code).toBe(0)
    await expect(fetch(node.url)).rejects.toThrow()
  })
})
