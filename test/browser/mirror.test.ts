import type { Browser } from 'playwright-core'
import { launchChromium } from '../helpers/browser.ts'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { removePeer, startPeer, type TestPeer } from '../helpers/network.ts'
import { makeHistory, writeHistory } from '../mirror/support.ts'

const GROUP = 'misc.test'

let browser: Browser
let source: TestPeer
let fresh: TestPeer

beforeAll(async () => {
  browser = await launchChromium()
  // A neighbour with a long history of the group: 6,000 posts over 30 days, served at 1 MiB/s (about 6 s) as
  // over a real network: unthrottled on loopback the mirror can end before the bar has been swapped twice.
  source = await startPeer({
    serveRateKiB: 1024,
    dataDir: await writeHistory(
      makeHistory(
        GROUP,
        Array.from({ length: 30 }, () => 200),
      ),
    ),
  })
  fresh = await startPeer({ seeds: false, peers: [source.address] })
}, 120_000)

afterAll(async () => {
  await browser?.close()
  await Promise.all([source, fresh].filter(Boolean).map(removePeer))
})

describe('mirroring a group in the browser', () => {
  it('subscribes to a group a neighbour carries and shows the progress bar advance and the threads arrive without a reload', async () => {
    const context = await browser.newContext()
    const page = await context.newPage()
    try {
      await page.goto(fresh.loginUrl)
      // The fresh node learned of the neighbour's groups when it connected.
      await expect
        .poll(
          async () => {
            await page.reload()
            return page.locator('ul.other-groups').textContent()
          },
          { timeout: 15_000 },
        )
        .toContain(GROUP)
      await page.locator(`form[action="/g/${GROUP}/subscribe"] button`).click()
      await page.waitForURL(`**/g/${GROUP}`)
      await page.evaluate(() => {
        ;(window as unknown as { __marker: number }).__marker = 42
      })

      // Record every progress value the bar shows while it fills.
      const seen = new Set<string>()
      const deadline = Date.now() + 60_000
      let done = false
      while (!done && Date.now() < deadline) {
        // Read in one step in the page: the bar is swapped every second, so a locator could outlive it.
        const state = await page.evaluate(() => ({
          value: document.querySelector('#sync-status progress')?.getAttribute('value') ?? null,
          threads: document.querySelectorAll('ul.threads li.thread').length,
        }))
        if (state.value !== null) seen.add(state.value)
        done = state.value === null && state.threads > 0
        await page.waitForTimeout(100)
      }
      expect(done).toBe(true)
      // The bar was there and moved: at least two different values before it went away.
      expect(seen.size).toBeGreaterThanOrEqual(2)
      // Threads arrived in place: the first page is full, and the page never reloaded.
      await expect.poll(() => page.locator('ul.threads li.thread').count(), { timeout: 10_000 }).toBeGreaterThanOrEqual(30)
      expect(await page.evaluate(() => (window as unknown as { __marker?: number }).__marker)).toBe(42)
    } finally {
      await context.close()
    }
  }, 120_000)
})
