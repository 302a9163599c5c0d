import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Browser, BrowserContext, Page } from 'playwright-core'
import { launchChromium } from '../helpers/browser.ts'
import { startTestNode } from '../helpers/web.ts'

/**
 * What a person sees in a real browser: the pages work without JavaScript, and with it htmx 4 (under the
 * nonce CSP, through hx-csp) swaps replies, errors and further pages in place without reloading.
 */

/** A seeded group and thread whose tree is several levels deep (seeds/threads.json). */
const GROUP = 'p2p.general'
const THREAD_SUBJECT = 'Welcome! Introduce yourself here'
/** A seeded group no other test here posts to, filled past one page of threads for the paging tests. */
const PAGED_GROUP = 'misc.test'
const EXTRA_THREADS = 36

type Node = Awaited<ReturnType<typeof startTestNode>>

let browser: Browser
let node: Node

beforeAll(async () => {
  ;[browser, node] = await Promise.all([launchChromium(), startTestNode()])
  // Fill a group past the default page size of 30 through the JSON API, as a script would.
  for (let i = 0; i < EXTRA_THREADS; i++) {
    const res = await fetch(`${node.url}/api/groups/${PAGED_GROUP}/articles`, {
      method: 'POST',
      headers: { authorization: `Bearer ${node.token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ subject: `Paging thread number ${i}`, body: `Thread ${i} for the paging test.` }),
    })
    if (res.status !== 201) throw new Error(`posting thread ${i} failed: ${res.status} ${await res.text()}`)
  }
})

afterAll(async () => {
  await browser?.close()
  await node?.cleanup()
})

/** Everything the page reported as wrong: console errors, uncaught exceptions and CSP violations. */
interface Problems {
  list: string[]
}

/** A fresh context with the owner logged in; with JS it records console errors and CSP violations. */
async function ownerPage({ javaScript }: { javaScript: boolean }): Promise<{ context: BrowserContext; page: Page; problems: Problems }> {
  const context = await browser.newContext({ javaScriptEnabled: javaScript })
  const problems: Problems = { list: [] }
  if (javaScript) {
    await context.exposeFunction('__reportCspViolation', (text: string) => {
      problems.list.push(`CSP: ${text}`)
    })
    await context.addInitScript(() => {
      document.addEventListener('securitypolicyviolation', (e) => {
        const report = (window as unknown as { __reportCspViolation(text: string): void }).__reportCspViolation
        report(`${e.violatedDirective} blocked ${e.blockedURI} at ${e.sourceFile}:${e.lineNumber}`)
      })
    })
  }
  const page = await context.newPage()
  page.on('console', (msg) => {
    if (msg.type() === 'error' && !/favicon/i.test(msg.text() + msg.location().url)) problems.list.push(`console: ${msg.text()}`)
  })
  page.on('pageerror', (err) => problems.list.push(`exception: ${err.message}`))
  await page.goto(node.loginUrl)
  // The login link redirects to the group list and leaves the token out of the address bar.
  expect(new URL(page.url()).pathname).toBe('/')
  await expect.poll(() => page.locator('button', { hasText: 'Log out' }).count()).toBe(1)
  return { context, page, problems }
}

/** From the group list, click through to the seeded deep thread. */
async function openThread(page: Page): Promise<void> {
  await page.click(`a.group-name:text-is("${GROUP}")`)
  await page.waitForURL(`**/g/${GROUP}`)
  await page.click(`li.thread a.subject:text-is("${THREAD_SUBJECT}")`)
  await page.waitForURL(`**/g/${GROUP}/t/*`)
  expect(await page.locator('h1').textContent()).toBe(THREAD_SUBJECT)
}

/** The hex id of the article deepest in the thread's tree (the most nested `ul.replies`). */
async function deepestArticleHex(page: Page): Promise<{ hex: string; depth: number }> {
  return page.$$eval('li.branch > article.article', (articles) => {
    let best = { hex: '', depth: -1 }
    for (const a of articles) {
      let depth = 0
      for (let el = a.parentElement; el; el = el.parentElement) if (el.matches('ul.replies')) depth++
      if (depth > best.depth) best = { hex: a.id.slice(2), depth }
    }
    return best
  })
}

/** The text of the articles directly under a parent, in order. */
function childBodies(page: Page, parentHex: string): Promise<string[]> {
  return page.$$eval(`#replies-${parentHex} > li.branch > article.article .body`, (bodies) => bodies.map((b) => b.textContent ?? ''))
}

async function threadSubjects(page: Page): Promise<string[]> {
  return page.$$eval('ul.threads > li.thread a.subject', (links) => links.map((l) => l.textContent ?? ''))
}

/** Every thread subject of a group, read through the JSON API page by page (independent of the HTML paging). */
async function allSubjectsFromApi(group: string): Promise<string[]> {
  const subjects: string[] = []
  let after: string | null = null
  do {
    const res = await fetch(`${node.url}/api/groups/${group}/threads?limit=200${after ? `&after=${after}` : ''}`)
    const page = (await res.json()) as { threads: { subject: string }[]; next: string | null }
    subjects.push(...page.threads.map((t) => t.subject))
    after = page.next
  } while (after)
  return subjects
}

describe('reading and posting in a browser', () => {
  it('posts a reply deep in the tree in place with JavaScript, without reloading, escaping the text', async () => {
    const { context, page, problems } = await ownerPage({ javaScript: true })
    try {
      await page.click('a.brand')
      await page.waitForURL(`${node.url}/`)
      await openThread(page)
      const threadUrl = page.url()
      const parent = await deepestArticleHex(page)
      expect(parent.depth).toBeGreaterThanOrEqual(3)
      const before = await childBodies(page, parent.hex)

      const details = page.locator(`#reply-${parent.hex}`)
      await details.locator('summary').click()
      await expect.poll(() => details.evaluate((d) => (d as HTMLDetailsElement).open)).toBe(true)
      const text = 'A reply from the browser test <script>window.__xss=1</script> & <b>not bold</b>'
      await details.locator('textarea[name=body]').fill(text)
      await page.evaluate(() => {
        ;(window as unknown as { __marker: number }).__marker = 42
      })
      await details.locator('button[type=submit]').click()

      const newReply = page.locator(`#replies-${parent.hex} > li.branch`).nth(before.length)
      await newReply.waitFor({ timeout: 5000 })
      expect(await childBodies(page, parent.hex)).toEqual([...before, text])
      // No reload, no navigation: the page's JavaScript state survived.
      expect(await page.evaluate(() => (window as unknown as { __marker?: number }).__marker)).toBe(42)
      expect(page.url()).toBe(threadUrl)
      // The text is shown as typed: no element was made of it and the script never ran.
      expect(await page.evaluate(() => (window as unknown as { __xss?: number }).__xss)).toBeUndefined()
      expect(await newReply.locator('.body script, .body b').count()).toBe(0)
      // The reply got its own reply form and replies list, like any other article.
      const newHex = (await newReply.locator('article.article').getAttribute('id'))!.slice(2)
      expect(await page.locator(`#reply-${newHex} form`).count()).toBe(1)
      expect(await page.locator(`ul#replies-${newHex}`).count()).toBe(1)
      // The used form was replaced by a fresh, empty one that still posts in place.
      const fresh = page.locator(`#reply-${parent.hex}`)
      expect(await fresh.count()).toBe(1)
      expect(await fresh.locator('textarea[name=body]').inputValue()).toBe('')
      expect(await fresh.locator('form').getAttribute('hx-post')).toMatch(/\/replies$/)

      await fresh.locator('summary').click()
      await page.screenshot({ path: '/tmp/browser-thread.png', fullPage: true })

      // After a reload the server renders the same reply at the same place.
      await page.reload()
      expect(await childBodies(page, parent.hex)).toEqual([...before, text])
      expect(problems.list).toEqual([])
    } finally {
      await context.close()
    }
  })

  it('posts a reply without JavaScript: the form submits and the redirect shows the thread with the reply', async () => {
    const { context, page } = await ownerPage({ javaScript: false })
    try {
      await openThread(page)
      const threadPath = new URL(page.url()).pathname
      const parent = await deepestArticleHex(page)
      const before = await childBodies(page, parent.hex)

      const details = page.locator(`#reply-${parent.hex}`)
      await details.locator('summary').click()
      const text = 'A reply posted without JavaScript'
      await details.locator('textarea[name=body]').fill(text)
      await Promise.all([page.waitForURL(`**${threadPath}#a-*`), details.locator('button[type=submit]').click()])

      expect(new URL(page.url()).pathname).toBe(threadPath)
      expect(await childBodies(page, parent.hex)).toEqual([...before, text])
      // The fragment in the address points at the new reply.
      const anchor = new URL(page.url()).hash.slice(1)
      expect(await page.locator(`article#${anchor} .body`).textContent()).toBe(text)
    } finally {
      await context.close()
    }
  })

  it('starts a new thread from the group page and lists it first', async () => {
    const { context, page, problems } = await ownerPage({ javaScript: true })
    try {
      // Dates have whole seconds: the reply the test before posted could share this second with the new
      // thread, and threads active in the same second are listed by root id. Post in the next second.
      await new Promise((resolve) => setTimeout(resolve, 1005 - (Date.now() % 1000)))
      await page.goto(`${node.url}/g/${GROUP}`)
      const subject = `A new thread from the browser ${Date.now()}`
      await page.click('details.compose summary')
      await page.fill('details.compose input[name=subject]', subject)
      await page.fill('details.compose textarea[name=body]', 'The first post of a new thread.\n> and a quoted line')
      await Promise.all([page.waitForURL(`**/g/${GROUP}/t/*`), page.click('details.compose button[type=submit]')])

      expect(await page.locator('h1').textContent()).toBe(subject)
      expect(await page.locator('ul.tree > li.branch').count()).toBe(1)
      expect(await page.locator('ul.tree .body p.quote').textContent()).toBe('> and a quoted line')
      const threadPath = new URL(page.url()).pathname

      await page.click(`nav a:text-is("${GROUP}")`)
      await page.waitForURL(`**/g/${GROUP}`)
      const first = page.locator('ul.threads > li.thread a.subject').first()
      expect(await first.textContent()).toBe(subject)
      expect(await first.getAttribute('href')).toBe(threadPath)
      expect(problems.list).toEqual([])
    } finally {
      await context.close()
    }
  })

  it('loads the next page of threads in place with JavaScript until every thread is listed once', async () => {
    const { context, page, problems } = await ownerPage({ javaScript: true })
    try {
      const all = await allSubjectsFromApi(PAGED_GROUP)
      expect(all.length).toBeGreaterThan(EXTRA_THREADS)
      await page.goto(`${node.url}/g/${PAGED_GROUP}`)
      const pageUrl = page.url()
      const firstPage = await threadSubjects(page)
      expect(firstPage).toEqual(all.slice(0, 30))
      await page.evaluate(() => {
        ;(window as unknown as { __marker: number }).__marker = 42
      })

      let clicks = 0
      while ((await page.locator('li.more a').count()) > 0) {
        const shown = (await threadSubjects(page)).length
        await page.click('li.more a')
        await expect.poll(() => threadSubjects(page).then((s) => s.length), { timeout: 5000 }).toBeGreaterThan(shown)
        clicks++
        expect(clicks).toBeLessThan(10)
      }

      const listed = await threadSubjects(page)
      expect(clicks).toBeGreaterThanOrEqual(1)
      expect(new Set(listed).size).toBe(listed.length)
      expect(listed).toEqual(all)
      expect(await page.evaluate(() => (window as unknown as { __marker?: number }).__marker)).toBe(42)
      expect(page.url()).toBe(pageUrl)
      // The rows were appended to the list itself, not nested inside the old "load more" row.
      expect(await page.locator('ul.threads li li').count()).toBe(0)
      expect(problems.list).toEqual([])
    } finally {
      await context.close()
    }
  })

  it('follows "Load more threads" to the next page without JavaScript', async () => {
    const { context, page } = await ownerPage({ javaScript: false })
    try {
      const all = await allSubjectsFromApi(PAGED_GROUP)
      await page.goto(`${node.url}/g/${PAGED_GROUP}`)
      const firstPage = await threadSubjects(page)
      await Promise.all([page.waitForURL(`**/g/${PAGED_GROUP}?after=*`), page.click('li.more a')])

      const secondPage = await threadSubjects(page)
      expect(secondPage.length).toBeGreaterThan(0)
      expect(secondPage).toEqual(all.slice(firstPage.length, firstPage.length + secondPage.length))
      expect(await page.locator('a', { hasText: 'Newest threads' }).getAttribute('href')).toBe(`/g/${PAGED_GROUP}`)
    } finally {
      await context.close()
    }
  })

  it('shows the error for a blank reply next to its form and adds nothing', async () => {
    const { context, page, problems } = await ownerPage({ javaScript: true })
    try {
      await openThread(page)
      const threadUrl = page.url()
      const parent = await deepestArticleHex(page)
      const before = await childBodies(page, parent.hex)
      const articlesBefore = await page.locator('article.article').count()

      const details = page.locator(`#reply-${parent.hex}`)
      await details.locator('summary').click()
      const textarea = details.locator('textarea[name=body]')
      await textarea.evaluate((t) => t.removeAttribute('required'))
      await textarea.fill('   \n  ')
      await page.evaluate(() => {
        ;(window as unknown as { __marker: number }).__marker = 42
      })
      await details.locator('button[type=submit]').click()

      const error = page.locator(`#reply-error-${parent.hex}`)
      await expect.poll(() => error.textContent(), { timeout: 5000 }).not.toBe('')
      expect(await error.textContent()).toMatch(/empty/)
      // Only the message itself, not a whole error page swapped into the form.
      expect(await error.locator('*').count()).toBe(0)
      // Shown in place: same page, the form still there with what was typed.
      expect(await page.evaluate(() => (window as unknown as { __marker?: number }).__marker)).toBe(42)
      expect(page.url()).toBe(threadUrl)
      expect(await textarea.inputValue()).toBe('   \n  ')
      expect(await page.locator('article.article').count()).toBe(articlesBefore)
      expect(await childBodies(page, parent.hex)).toEqual(before)

      await page.reload()
      expect(await page.locator('article.article').count()).toBe(articlesBefore)
      // The rejected request shows up in the console as a failed resource load; nothing else may.
      expect(problems.list.filter((p) => !/^console: Failed to load resource: the server responded with a status of 400/.test(p))).toEqual([])
    } finally {
      await context.close()
    }
  })
})
