import { copyFile, mkdtemp, readFile, rm } from 'node:fs/promises'
import { existsSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import SqliteDatabase from 'better-sqlite3'
import { afterAll, describe, expect, it } from 'vitest'
import { ROOT, type RunningCli, startCli } from './spawn.ts'

/**
 * Crash safety as a user meets it: a post the node acknowledged (201) is there after the process dies at any
 * moment, the database file is intact, and the read model's counts agree with the articles it holds.
 */

interface Acked {
  hex: string
  body: string
  rootHex: string
}

const dirs: string[] = []
let node: RunningCli | undefined

afterAll(async () => {
  if (node && node.child.exitCode === null && node.child.signalCode === null) node.child.kill('SIGKILL')
  await node?.exited
  for (const dir of dirs) await rm(dir, { recursive: true, force: true })
})

async function post(n: RunningCli, group: string, input: { subject?: string; body: string; parent?: string }): Promise<{ hex: string } | undefined> {
  const res = await fetch(`${n.url}/api/groups/${group}/articles`, {
    method: 'POST',
    headers: { authorization: `Bearer ${n.token}`, 'content-type': 'application/json' },
    body: JSON.stringify(input),
  })
  if (res.status !== 201) return undefined
  return ((await res.json()) as { article: { hex: string } }).article
}

/** Which of the acknowledged posts this one replies to, if any: every third post answers an earlier one. */
function pickParent(acked: readonly Acked[], i: number): Acked | undefined {
  return i % 3 === 2 && acked.length > 0 ? acked[(i * 7) % acked.length] : undefined
}

function bodyFor(round: number, i: number): string {
  return `round ${round} post ${i}\n${'Lorem ipsum dolor sit amet. '.repeat(30).trimEnd()}`
}

/**
 * Copies the database (and its write-ahead log) as the dead process left it and checks the copy, so the
 * node's own recovery on restart still starts from the crashed state.
 */
async function inspectCopy(dataDir: string, group: string, acked: readonly Acked[]) {
  const scratch = await mkdtemp(join(tmpdir(), 'usenet-crash-copy-'))
  dirs.push(scratch)
  for (const suffix of ['', '-wal']) {
    const from = join(dataDir, `node.sqlite${suffix}`)
    if (existsSync(from)) await copyFile(from, join(scratch, `node.sqlite${suffix}`))
  }
  const db = new SqliteDatabase(join(scratch, 'node.sqlite'))
  try {
    const integrity = db.pragma('integrity_check', { simple: true })
    const foreignKeys = db.pragma('foreign_key_check') as unknown[]
    const has = db.prepare('SELECT 1 FROM articles WHERE id = ?').pluck()
    const missing = acked.filter((a) => has.get(`<${a.hex}@usenet-p2p>`) === undefined).map((a) => a.hex)
    const one = (sql: string) => db.prepare(sql).pluck().get(group) as number
    return {
      integrity,
      foreignKeys,
      missing,
      postings: one('SELECT count(*) FROM postings WHERE group_name = ?'),
      groupCount: one('SELECT post_count FROM groups WHERE name = ?'),
      threadSum: one('SELECT coalesce(sum(post_count), 0) FROM threads WHERE group_name = ?'),
      threadRows: one('SELECT count(*) FROM threads WHERE group_name = ?'),
      roots: one('SELECT count(DISTINCT root_id) FROM postings WHERE group_name = ?'),
      articles: db.prepare('SELECT count(*) FROM articles').pluck().get() as number,
      allPostings: db.prepare('SELECT count(DISTINCT article_id) FROM postings').pluck().get() as number,
    }
  } finally {
    db.close()
  }
}

/** Everything the restarted node says about the group, read through its API. */
async function readGroup(n: RunningCli, group: string) {
  const groups = (await (await fetch(`${n.url}/api/groups`)).json()) as { groups: { name: string; postCount: number }[] }
  const postCount = groups.groups.find((g) => g.name === group)?.postCount
  let threadPosts = 0
  let threadArticles = 0
  let next: string | null = null
  do {
    const url: string = `${n.url}/api/groups/${group}/threads?limit=200${next ? `&after=${next}` : ''}`
    const page = (await (await fetch(url)).json()) as { threads: { rootHex: string; posts: number }[]; next: string | null }
    for (const t of page.threads) {
      threadPosts += t.posts
      const thread = (await (await fetch(`${n.url}/api/groups/${group}/threads/${t.rootHex}`)).json()) as { articles: unknown[] }
      expect(thread.articles.length, `thread ${t.rootHex}`).toBe(t.posts)
      threadArticles += thread.articles.length
    }
    next = page.next
  } while (next)
  return { postCount, threadPosts, threadArticles }
}

/** Posters of a burst, and the most posts each sends (the kill comes long before). */
const BURST_POSTERS = 8
const POSTS_PER_POSTER = 50

describe('crash safety', () => {
  it('keeps every acknowledged post and a consistent, intact database when the node is killed at three different moments', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'usenet-crash-'))
    dirs.push(dataDir)
    const seeds = JSON.parse(await readFile(join(ROOT, 'seeds', 'groups.json'), 'utf8')) as { name: string }[]
    const group = seeds[0]!.name
    const args = ['--port', '0', '--data-dir', dataDir]
    const env = { USENET_LOG: 'warn' }
    const acked: Acked[] = []

    // When, during a burst of concurrent posts, the process dies.
    const moments: { name: string; sequential: number; killWhen: (burstAcks: number, sinceBurst: number) => boolean }[] = [
      { name: 'as the burst is sent', sequential: 30, killWhen: () => true },
      { name: 'on the first acknowledgement of the burst', sequential: 10, killWhen: (acks) => acks >= 1 },
      { name: 'midway through the burst', sequential: 10, killWhen: (acks, ms) => acks >= 12 || ms > 2000 },
    ]

    node = await startCli(args, { env })
    for (const [round, moment] of moments.entries()) {
      for (let i = 0; i < moment.sequential; i++) {
        const parent = pickParent(acked, i)
        const body = bodyFor(round, i)
        const article = await post(node, group, parent ? { body, parent: parent.hex } : { subject: `Round ${round} thread ${i}`, body })
        expect(article, `round ${round} post ${i}`).toBeDefined()
        acked.push({ hex: article!.hex, body, rootHex: parent ? parent.rootHex : article!.hex })
      }

      const victim = node
      let burstAcks = 0
      let killed = false
      // Posts the kill cut off: sent, never answered.
      let cut = 0
      const started = Date.now()
      // Eight posters, each sending its next post as soon as the last is answered, until the kill: posts are
      // always in flight when it comes. (A fixed burst of 40 was sometimes all acknowledged before the kill
      // landed: the node stores concurrent posts in one commit, and answers them together.)
      const burst = Array.from({ length: BURST_POSTERS }, async (_, poster) => {
        for (let k = 0; !killed && k < POSTS_PER_POSTER; k++) {
          const i = moment.sequential + poster * POSTS_PER_POSTER + k
          const parent = pickParent(acked, i)
          const body = bodyFor(round, i)
          try {
            const article = await post(victim, group, parent ? { body, parent: parent.hex } : { subject: `Round ${round} burst ${i}`, body })
            if (article) {
              // A 201 that reached us is a promise the node made, whenever it arrived.
              acked.push({ hex: article.hex, body, rootHex: parent ? parent.rootHex : article.hex })
              burstAcks++
            }
          } catch {
            // The connection died with the process: the post may or may not be stored.
            cut++
            return
          }
        }
      })
      while (!moment.killWhen(burstAcks, Date.now() - started)) await new Promise((r) => setTimeout(r, 1))
      killed = true
      victim.child.kill('SIGKILL')
      const exit = await victim.exited
      expect(exit.signal, moment.name).toBe('SIGKILL')
      await Promise.all(burst)
      // The kill came while posts were still in flight, or the round tested nothing.
      expect(cut, moment.name).toBeGreaterThan(0)

      const copy = await inspectCopy(dataDir, group, acked)
      expect(copy.integrity, moment.name).toBe('ok')
      expect(copy.foreignKeys, moment.name).toEqual([])
      expect(copy.missing, moment.name).toEqual([])
      expect(copy.groupCount, moment.name).toBe(copy.postings)
      expect(copy.threadSum, moment.name).toBe(copy.postings)
      expect(copy.threadRows, moment.name).toBe(copy.roots)
      expect(copy.allPostings, moment.name).toBe(copy.articles)

      node = await startCli(args, { env })
      for (const a of acked) {
        const res = await fetch(`${node.url}/api/articles/${a.hex}`)
        expect(res.status, `${moment.name}: ${a.hex}`).toBe(200)
        expect(((await res.json()) as { body: string }).body).toBe(a.body)
      }
      const seen = await readGroup(node, group)
      expect(seen.postCount, moment.name).toBe(copy.postings)
      expect(seen.threadPosts, moment.name).toBe(copy.postings)
      expect(seen.threadArticles, moment.name).toBe(copy.postings)
    }

    // The last restart stops cleanly and leaves an intact file behind.
    node.child.kill('SIGTERM')
    expect((await node.exited).code).toBe(0)
    const db = new SqliteDatabase(join(dataDir, 'node.sqlite'), { readonly: true })
    try {
      expect(db.pragma('integrity_check', { simple: true })).toBe('ok')
    } finally {
      db.close()
    }
    expect(acked.length).toBeGreaterThanOrEqual(50)
  }, 120_000)
})
