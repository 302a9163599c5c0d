import { canonicalChange } from '../../src/sync/canonical-change.ts'
import type { SignedArticle } from '../../src/article/index.ts'
import { messageIdHex } from '../../src/article/index.ts'
import { TEST_TOKEN, type testApp } from '../helpers/web.ts'

export type TestApp = Awaited<ReturnType<typeof testApp>>

/** What the browser of the node's owner sends with a same-origin form post. */
export const SAME_ORIGIN = { host: 'localhost', origin: 'http://localhost' } as const
export const FORM = 'application/x-www-form-urlencoded'

/** Logs in with the link the node prints and returns the session cookie as a Cookie header value. */
export async function ownerCookie(t: TestApp): Promise<string> {
  const res = await t.app.request(`/login?token=${TEST_TOKEN}`, { headers: { host: 'localhost' } })
  if (res.status !== 303) throw new Error(`login answered ${res.status}`)
  const [cookie] = res.headers.getSetCookie()
  if (!cookie) throw new Error('login set no cookie')
  return cookie.split(';')[0]!
}

export function get(t: TestApp, path: string, headers: Record<string, string> = {}): Promise<Response> {
  return Promise.resolve(t.app.request(path, { headers: { host: 'localhost', ...headers } }))
}

/** A urlencoded form post as the owner's browser sends it. */
export function postForm(t: TestApp, path: string, fields: Record<string, string>, headers: Record<string, string> = {}): Promise<Response> {
  return Promise.resolve(
    t.app.request(path, {
      method: 'POST',
      headers: { ...SAME_ORIGIN, 'content-type': FORM, ...headers },
      body: new URLSearchParams(fields).toString(),
    }),
  )
}

/** A JSON post to the API with the owner token. */
export function apiPost(t: TestApp, group: string, body: unknown, headers: Record<string, string> = {}): Promise<Response> {
  return Promise.resolve(
    t.app.request(`/api/groups/${group}/articles`, {
      method: 'POST',
      headers: { host: 'localhost', 'content-type': 'application/json', authorization: `Bearer ${TEST_TOKEN}`, ...headers },
      body: typeof body === 'string' ? body : JSON.stringify(body),
    }),
  )
}

/**
 * Row counts of every table of the store (whatever the schema holds today) and the groups' post counts;
 * equal snapshots mean nothing was stored.
 */
export function storedState(t: TestApp): { articles: number; [table: string]: number } {
  const sqlite = t.node.store.sqlite
  const tables = sqlite
    .prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name NOT LIKE 'kysely_%'")
    .pluck()
    .all() as string[]
  const state: { articles: number; [table: string]: number } = { articles: 0 }
  for (const table of tables) state[table] = sqlite.prepare(`SELECT count(*) FROM "${table}"`).pluck().get() as number
  state.groupPosts = (sqlite.prepare('SELECT coalesce(sum(post_count), 0) FROM groups').pluck().get() as number) ?? 0
  return state
}

/** Stores articles through the same ingest path a peer's posts take. */
export async function ingest(t: TestApp, ...articles: SignedArticle[]): Promise<void> {
  const results = await t.node.ingest.ingestChanges(articles.map(canonicalChange))
  const bad = results.find((r) => r.status !== 'accepted')
  if (bad) throw new Error(`ingest refused a test article: ${JSON.stringify(bad)}`)
}

export const hex = (a: SignedArticle) => messageIdHex(a.id)
