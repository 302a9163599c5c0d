import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Browser, BrowserContext, Page } from 'playwright-core'
import { launchChromium } from '../helpers/browser.ts'
import { apiPost, removePeer, startPeer, type TestPeer } from '../helpers/network.ts'

/**
 * Live pages across the network: a reader's open page on one node shows what was posted on another node,
 * pushed by Server-Sent Events, without reloading.
 */

const GROUP = 'p2p.general'
const THREAD_SUBJECT = 'Welcome! Introduce yourself here'

let browser: Browser
let a: TestPeer
let b: TestPeer

beforeAll(async () => {
  browser = await launchChromium()
  a = await startPeer()
  b = await startPeer({ peers: [a.address] })
  // Meshes form on gossipsub heartbeats (1 s).
  await new Promise((r) => setTimeout(r, 2500))
})

afterAll(async () => {
  await browser?.close()
  await Promise.all([a, b].filter(Boolean).map(removePeer))
})

/** A page of a fresh context that records console errors, uncaught exceptions and CSP violations. */
async function watchedPage(): Promise<{ context: BrowserContext; page: Page; problems: string[] }> {
  const context = await browser.newContext()
  const problems: string[] = []
  await context.exposeFunction('__reportCspViolation', (text: string) => {
    problems.push(`CSP: ${text}`)
  })
  await context.addInitScript(() => {
    document.addEventListener('securitypolicyviolation', (e) => {
      const report = (window as unknown as { __reportCspViolation(text: string): void }).__reportCspViolation
      report(`${e.violatedDirective} blocked ${e.blockedURI}`)
    })
  })
  const page = await context.newPage()
  page.on('console', (msg) => {
    if (msg.type() === 'error' && !/favicon/i.test(msg.text() + msg.location().url)) problems.push(`console: ${msg.text()}`)
  })
  page.on('pageerror', (err) => problems.push(`exception: ${err.message}`))
  return { context, page, problems }
}

async function setMarker(page: Page): Promise<void> {
  await page.evaluate(() => {
    ;(window as unknown as { __marker: number }).__marker = 42
  })
}

const marker = (page: Page) => page.evaluate(() => (window as unknown as { __marker?: number }).__marker)

/** The hex id of the seeded thread, as node B lists it. */
async function seededThreadHex(node: TestPeer): Promise<string> {
  const res = await fetch(`${node.url}/api/groups/${GROUP}/threads?limit=200`)
  const { threads } = (await res.json()) as { threads: { rootHex: string; subject: string }[] }
  const thread = threads.find((t) => t.subject === THREAD_SUBJECT)
  if (!thread) throw new Error(`${node.url} has no thread "${THREAD_SUBJECT}"`)
  return thread.rootHex
}

/** Opens a page and waits until its event stream has answered, so what is posted next is pushed to it. */
async function openLive(page: Page, url: string): Promise<void> {
  const stream = page.waitForResponse((r) => r.url().includes('/events?') && r.status() === 200, { timeout: 5000 })
  await page.goto(url)
  await stream
}

describe('live pages across two connected nodes', () => {
  it("shows a reply posted on A's page on B's open thread page, and a new thread of A on B's open group page, without reloading", async () => {
    const rootHex = await seededThreadHex(b)
    const threadPath = `/g/${GROUP}/t/${rootHex}`

    // A reader on B (not logged in) has the thread and the group open.
    const reader = await watchedPage()
    const poster = await browser.newContext()
    try {
      const threadPage = reader.page
      await openLive(threadPage, `${b.url}${threadPath}`)
      expect(await threadPage.locator('h1').textContent()).toBe(THREAD_SUBJECT)
      expect(await threadPage.locator('details.reply').count()).toBe(0)
      const groupPage = await reader.context.newPage()
      groupPage.on('pageerror', (err) => reader.problems.push(`exception: ${err.message}`))
      await openLive(groupPage, `${b.url}/g/${GROUP}`)
      await Promise.all([setMarker(threadPage), setMarker(groupPage)])
      const repliesBefore = await threadPage.locator(`#replies-${rootHex} > li.branch`).count()

      // The owner of A replies to the thread's first post from A's own page.
      const ownerPage = await poster.newPage()
      await ownerPage.goto(a.loginUrl)
      await ownerPage.goto(`${a.url}${threadPath}`)
      const text = `A reply typed on node A at ${Date.now()}`
      const form = ownerPage.locator(`#reply-${rootHex}`)
      await form.locator('summary').click()
      await form.locator('textarea[name=body]').fill(text)
      const postedAt = Date.now()
      await form.locator('button[type=submit]').click()
      await ownerPage.locator(`#replies-${rootHex} > li.branch .body`, { hasText: text }).waitFor({ timeout: 5000 })

      // It appears on B's open page, in its place in the tree, without a reload.
      const shown = threadPage.locator(`#replies-${rootHex} > li.branch > article.article .body`, { hasText: text })
      await shown.waitFor({ timeout: 5000 })
      const replyDelayMs = Date.now() - postedAt
      expect(await threadPage.locator(`#replies-${rootHex} > li.branch`).count()).toBe(repliesBefore + 1)
      expect(await marker(threadPage)).toBe(42)
      expect(threadPage.url()).toBe(`${b.url}${threadPath}`)

      // A new thread started on A is listed at the top of B's open group page.
      const subject = `A new thread from node A ${Date.now()}`
      const threadPostedAt = Date.now()
      await apiPost(a, GROUP, { subject, body: 'Started on A, read on B.' })
      // Threads are ordered by last post, to the second: the reply above may share the new thread's second.
      const subjects = () => groupPage.$$eval('ul.threads > li.thread a.subject', (links) => links.slice(0, 2).map((l) => l.textContent))
      await expect.poll(subjects, { timeout: 5000 }).toContain(subject)
      const threadDelayMs = Date.now() - threadPostedAt
      expect(await marker(groupPage)).toBe(42)
      expect(groupPage.url()).toBe(`${b.url}/g/${GROUP}`)
      expect(reader.problems).toEqual([])
      console.log(`reply shown on B after ${replyDelayMs} ms, new thread after ${threadDelayMs} ms`)
    } finally {
      await reader.context.close()
      await poster.close()
    }
  }, 40_000)
})
