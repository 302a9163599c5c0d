import { afterEach, describe, expect, it } from 'vitest'
import { parseGroupName } from '../../src/article/index.ts'
import type { SyncProgress } from '../../src/sync/index.ts'
import { testApp } from '../helpers/web.ts'
import { get, type TestApp } from './support.ts'

const PEER = '12D3KooWFU9gdcZetSiUt7dBt4xAeVXuPps29N2B33irbjtbYTXq'
let t: TestApp | undefined
afterEach(() => t?.close())

function progress(change: Partial<SyncProgress>): SyncProgress {
  return {
    group: parseGroupName('test.one'),
    peer: PEER,
    state: 'fetching',
    daysToCheck: 20,
    daysChecked: 5,
    postsWanted: 500,
    postsStored: 120,
    postsTheyLack: 0,
    startedAt: Date.now() - 2000,
    ...change,
  }
}

describe('sync status in the web UI', () => {
  it('shows a progress bar on the group page while syncing, which keeps asking for itself', async () => {
    let current = progress({})
    t = await testApp({ sync: { status: () => [current] } })
    const page = await (await get(t, '/g/test.one')).text()
    expect(page).toContain(`Syncing from …${PEER.slice(-8)}: 120 of 500 posts · 5 of 20 days compared`)
    expect(page).toMatch(/<progress max="500" value="120">/)
    expect(page).toMatch(/hx-get="\/g\/test.one\/sync" hx-trigger="every 1s"/)

    current = progress({ state: 'done', postsStored: 500, daysChecked: 20, finishedAt: Date.now() })
    const fragment = await (await get(t, '/g/test.one/sync', { 'hx-request': 'true' })).text()
    expect(fragment).not.toContain('<progress')
    expect(fragment).not.toContain('hx-trigger')
    const node = await (await get(t, '/node')).text()
    expect(node).toContain('in sync (fetched 500)')
  })

  it('says on the node page how far behind a neighbour this node is, or that syncing failed', async () => {
    t = await testApp({
      sync: { status: () => [progress({}), progress({ group: parseGroupName('test.two'), state: 'failed', error: 'sent an invalid post (bad-signature)' })] },
    })
    const node = await (await get(t, '/node')).text()
    expect(node).toContain('syncing: behind by 380')
    expect(node).toContain('failed: sent an invalid post (bad-signature)')
    const group = await (await get(t, '/g/test.two/sync')).text()
    expect(group).toContain(`Syncing from …${PEER.slice(-8)} failed: sent an invalid post (bad-signature)`)
  })
})
