import { describe, expect, it } from 'vitest'
import { runCli } from './spawn.ts'

/** stderr as lines, without the empty string after the final newline. */
function lines(text: string): string[] {
  return text.split('\n').filter((l, i, all) => !(l === '' && i === all.length - 1))
}

// Each case is a short-lived process that fails before opening anything; running them side by side keeps the file fast.
describe.concurrent('bad peer and listen addresses, and a bad upload cap', () => {
  const cases: { args: string[]; value: string }[] = [
    { args: ['--peer', 'nonsense'], value: 'nonsense' },
    { args: ['--peer', '/ip4/127.0.0.1/tcp/7070'], value: '/ip4/127.0.0.1/tcp/7070' },
    { args: ['--listen', 'garbage'], value: 'garbage' },
    { args: ['--serve-rate', 'fast'], value: 'fast' },
    { args: ['--serve-rate', '0'], value: '0' },
  ]
  for (const { args, value } of cases) {
    it(`exits 2 with one stderr line naming "${value}" for ${args.join(' ')}`, async () => {
      // A data directory that must never be created: the node fails before touching the disk.
      const r = await runCli([...args, '--port', '0', '--data-dir', '/nonexistent/usenet-peer-options', '--no-seeds'])
      expect(r.code).toBe(2)
      expect(r.stdout).toBe('')
      const errLines = lines(r.stderr)
      expect(errLines).toHaveLength(1)
      expect(errLines[0]).toMatch(/^usenet-node: /)
      expect(errLines[0]).toContain(`"${value}"`)
      expect(errLines[0]).toContain(args[0])
    })
  }
})

describe('the upload cap', () => {
  it('is read in KiB per second from --serve-rate or USENET_SERVE_RATE, and is off by default', async () => {
    const { loadConfig } = await import('../../src/config.ts')
    expect(loadConfig([]).serveRate).toBeUndefined()
    expect(loadConfig(['--serve-rate', '1024']).serveRate).toBe(1024 * 1024)
    expect(loadConfig([], { USENET_SERVE_RATE: '64' }).serveRate).toBe(64 * 1024)
  })
})
