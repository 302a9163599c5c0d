import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { removePeer, startPeer, type TestPeer } from '../helpers/network.ts'
import { runCli } from './spawn.ts'

describe('usenet-node mirror', () => {
  let source: TestPeer
  let dir: string
  beforeAll(async () => {
    source = await startPeer()
    dir = await mkdtemp(join(tmpdir(), 'usenet-mirror-cli-'))
  })
  afterAll(async () => {
    await removePeer(source)
    await rm(dir, { recursive: true, force: true })
  })

  it('mirrors a group it did not know from the peer, prints progress lines and exits 0; a second run fetches nothing', async () => {
    const args = ['mirror', 'sci.space.history', '--no-seeds', '--data-dir', dir, '--port', '0', '--peer', source.address]
    const first = await runCli(args, { timeoutMs: 30_000 })
    expect(first.code, first.stderr).toBe(0)
    // The seeds hold 17 posts in sci.space.history.
    expect(first.stdout).toMatch(/mirrored sci\.space\.history: 17 new posts \(17\/17 posts/)
    const again = await runCli(args, { timeoutMs: 30_000 })
    expect(again.code, again.stderr).toBe(0)
    expect(again.stdout).toMatch(/mirrored sci\.space\.history: 0 new posts \(0\/0 posts · 0\/0 days compared/)
  }, 60_000)

  it('says in one line that the peer does not carry a group it does not know, exit code 1', async () => {
    const result = await runCli(['mirror', 'no.such.group', '--no-seeds', '--data-dir', dir, '--port', '0', '--peer', source.address], { timeoutMs: 30_000 })
    expect(result.code).toBe(1)
    expect(
      result.stderr
        .trim()
        .split('\n')
        .filter((l) => l.startsWith('usenet-node:')),
    ).toEqual([`usenet-node: the peer ${source.peerId} does not carry the group no.such.group`])
  }, 60_000)

  it('refuses a missing group, a bad group name and a missing --peer with exit code 2', async () => {
    for (const args of [['mirror'], ['mirror', 'Not A Group', '--peer', source.address], ['mirror', 'misc.test']]) {
      const result = await runCli(args, { timeoutMs: 15_000 })
      expect(result.code, args.join(' ')).toBe(2)
      expect(result.stderr.trim().split('\n')).toHaveLength(1)
    }
  }, 60_000)
})
