import { sql } from 'kysely'
import { parentOf, threadRootOf, type ArticleRecord, type GroupName } from '../article/index.ts'
import { insertRows, upsertRows } from './bulk-insert.ts'
import { recordDigests } from './digests.ts'
import type { Db } from './schema.ts'

/** An accepted article and the groups this node files it under (the carried ones among its Newsgroups). */
export interface ArticleToRecord {
  readonly article: ArticleRecord
  readonly groups: readonly GroupName[]
  readonly receivedAt: number
}

// SQLite allows 32,766 bound values per statement; 9 columns × 500 rows stays well below.
const ROWS_PER_INSERT = 500

/**
 * Adds articles to the read model: the article rows, their postings per group, and the thread, group and
 * author overviews. Callers run it inside the transaction that also saves the shard bytes, and pass only
 * articles that are not stored yet. Overviews are aggregated per batch so a batch costs a few statements.
 */
export async function recordArticles(db: Db, items: readonly ArticleToRecord[]): Promise<void> {
  if (items.length === 0) return
  for (const rows of chunks(items, ROWS_PER_INSERT)) {
    await insertRows(
      db,
      'articles',
      ['id', 'author_key', 'from_name', 'subject', 'date', 'parent_id', 'root_id', 'bytes', 'received_at'],
      rows.map(({ article, receivedAt }) => [
        article.id,
        article.authorKey,
        article.from,
        article.subject,
        article.date,
        parentOf(article) ?? null,
        threadRootOf(article),
        article.bytes,
        receivedAt,
      ]),
    )
    const postings = rows.flatMap(({ article, groups }) => groups.map((group) => [group, article.id, threadRootOf(article), article.date]))
    // A crosspost has a posting per carried group: within SQLite's limit of bound values all the same.
    for (const part of chunks(postings, ROWS_PER_INSERT)) await insertRows(db, 'postings', ['group_name', 'article_id', 'root_id', 'date'], part)
  }
  await recordThreads(db, items)
  await recordGroups(db, items)
  await recordAuthors(db, items)
  await recordDigests(db, items)
}

interface ThreadDelta {
  group_name: string
  root_id: string
  subject: string
  author_key: string
  from_name: string
  started_at: number
  last_post_at: number
  post_count: number
  hasRoot: boolean
}

async function recordThreads(db: Db, items: readonly ArticleToRecord[]): Promise<void> {
  const deltas = new Map<string, ThreadDelta>()
  for (const { article, groups } of items) {
    const root = threadRootOf(article)
    const isRoot = root === article.id
    for (const group of groups) {
      const key = `${group} ${root}`
      const delta = deltas.get(key)
      if (!delta) {
        deltas.set(key, {
          group_name: group,
          root_id: root,
          subject: article.subject,
          author_key: article.authorKey,
          from_name: article.from,
          started_at: article.date,
          last_post_at: article.date,
          post_count: 1,
          hasRoot: isRoot,
        })
        continue
      }
      delta.post_count += 1
      delta.last_post_at = Math.max(delta.last_post_at, article.date)
      if (isRoot || (!delta.hasRoot && article.date < delta.started_at)) {
        Object.assign(delta, { subject: article.subject, author_key: article.authorKey, from_name: article.from, started_at: article.date, hasRoot: isRoot })
      }
    }
  }
  // A reply can arrive before its thread's root. Until the root comes, the thread shows the earliest
  // reply's subject and author; the root then takes its place. One statement for each kind, per 500 threads.
  const all = [...deltas.values()]
  for (const hasRoot of [true, false]) {
    const rows = all
      .filter((d) => d.hasRoot === hasRoot)
      .map((d) => [d.group_name, d.root_id, d.subject, d.author_key, d.from_name, d.started_at, d.last_post_at, d.post_count])
    for (const chunk of chunks(rows, ROWS_PER_INSERT)) {
      await upsertRows(db, 'threads', THREAD_COLUMNS, chunk, hasRoot ? THREAD_WITH_ROOT : THREAD_WITHOUT_ROOT)
    }
  }
}

const THREAD_COLUMNS = ['group_name', 'root_id', 'subject', 'author_key', 'from_name', 'started_at', 'last_post_at', 'post_count'] as const
const THREAD_COUNTS = 'post_count = threads.post_count + excluded.post_count, last_post_at = max(threads.last_post_at, excluded.last_post_at)'
const THREAD_WITH_ROOT = {
  key: ['group_name', 'root_id'],
  set: `${THREAD_COUNTS}, subject = excluded.subject, author_key = excluded.author_key, from_name = excluded.from_name, started_at = excluded.started_at`,
} as const
const THREAD_WITHOUT_ROOT = { key: ['group_name', 'root_id'], set: `${THREAD_COUNTS}, started_at = min(threads.started_at, excluded.started_at)` } as const

async function recordGroups(db: Db, items: readonly ArticleToRecord[]): Promise<void> {
  const deltas = new Map<string, { count: number; last: number }>()
  for (const { article, groups } of items) {
    for (const group of groups) {
      const delta = deltas.get(group) ?? { count: 0, last: 0 }
      delta.count += 1
      delta.last = Math.max(delta.last, article.date)
      deltas.set(group, delta)
    }
  }
  for (const [name, { count, last }] of deltas) {
    await db
      .updateTable('groups')
      .set({ post_count: sql`post_count + ${count}`, last_post_at: sql`max(coalesce(last_post_at, 0), ${last})` })
      .where('name', '=', name)
      .execute()
  }
}

async function recordAuthors(db: Db, items: readonly ArticleToRecord[]): Promise<void> {
  const deltas = new Map<string, { key: string; from_name: string; post_count: number; first_post_at: number; last_post_at: number }>()
  for (const { article } of items) {
    const delta = deltas.get(article.authorKey)
    if (!delta) {
      deltas.set(article.authorKey, { key: article.authorKey, from_name: article.from, post_count: 1, first_post_at: article.date, last_post_at: article.date })
      continue
    }
    delta.post_count += 1
    delta.first_post_at = Math.min(delta.first_post_at, article.date)
    if (article.date >= delta.last_post_at) Object.assign(delta, { last_post_at: article.date, from_name: article.from })
  }
  const rows = [...deltas.values()].map((d) => [d.key, d.from_name, d.post_count, d.first_post_at, d.last_post_at])
  for (const chunk of chunks(rows, ROWS_PER_INSERT)) await upsertRows(db, 'authors', AUTHOR_COLUMNS, chunk, AUTHOR_TOTALS)
}

const AUTHOR_COLUMNS = ['key', 'from_name', 'post_count', 'first_post_at', 'last_post_at'] as const
/** The name shown for a key is the one on its newest post. Every expression reads the row as stored. */
const AUTHOR_TOTALS = {
  key: ['key'],
  set:
    'post_count = authors.post_count + excluded.post_count, first_post_at = min(authors.first_post_at, excluded.first_post_at), ' +
    'from_name = case when excluded.last_post_at >= authors.last_post_at then excluded.from_name else authors.from_name end, ' +
    'last_post_at = max(authors.last_post_at, excluded.last_post_at)',
} as const

function* chunks<T>(items: readonly T[], size: number): Generator<T[]> {
  for (let i = 0; i < items.length; i += size) yield items.slice(i, i + size)
}
