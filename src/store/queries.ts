import type { GroupName, MessageId } from '../article/index.ts'
import type { Db } from './schema.ts'

export interface GroupSummary {
  name: string
  description: string
  post_count: number
  last_post_at: number | null
  subscribed: number
}

export async function listGroups(db: Db): Promise<GroupSummary[]> {
  return db.selectFrom('groups').select(['name', 'description', 'post_count', 'last_post_at', 'subscribed']).orderBy('name').execute()
}

export async function getGroup(db: Db, name: string): Promise<GroupSummary | undefined> {
  return db.selectFrom('groups').select(['name', 'description', 'post_count', 'last_post_at', 'subscribed']).where('name', '=', name).executeTakeFirst()
}

/**
 * Adds a group if it is new (carried unless `subscribed` is false); an existing group keeps its description.
 * Returns whether it was added.
 */
export async function addGroup(
  db: Db,
  group: { name: GroupName; description: string; createdAt: number; subscribed?: boolean; descriptor?: Uint8Array },
): Promise<boolean> {
  const result = await db
    .insertInto('groups')
    .values({
      name: group.name,
      description: group.description,
      created_at: group.createdAt,
      subscribed: group.subscribed === false ? 0 : 1,
      descriptor: group.descriptor ?? null,
    })
    .onConflict((oc) => oc.column('name').doNothing())
    .executeTakeFirst()
  return Number(result.numInsertedOrUpdatedRows ?? 0) > 0
}

export async function setSubscribed(db: Db, name: string, subscribed: boolean): Promise<void> {
  await db
    .updateTable('groups')
    .set({ subscribed: subscribed ? 1 : 0 })
    .where('name', '=', name)
    .execute()
}

/** Gives a group its signed announcement if it has none yet. */
export async function setGroupDescriptor(db: Db, name: string, descriptor: Uint8Array): Promise<void> {
  await db.updateTable('groups').set({ descriptor }).where('name', '=', name).where('descriptor', 'is', null).execute()
}

/** The announcements of the groups this node carries: what it tells a neighbour. */
export async function carriedGroupDescriptors(db: Db, limit = 1000): Promise<Uint8Array[]> {
  const rows = await db.selectFrom('groups').select('descriptor').where('subscribed', '=', 1).where('descriptor', 'is not', null).limit(limit).execute()
  return rows.map((r) => r.descriptor!)
}

export async function carriedGroups(db: Db): Promise<Set<string>> {
  const rows = await db.selectFrom('groups').select('name').where('subscribed', '=', 1).execute()
  return new Set(rows.map((r) => r.name))
}

export interface ThreadSummary {
  root_id: string
  subject: string
  author_key: string
  from_name: string
  started_at: number
  last_post_at: number
  post_count: number
}

/** Where a page of threads ends: the next page starts after this thread in newest-activity order. */
export interface ThreadCursor {
  lastPostAt: number
  rootId: string
}

export interface Page<T, C> {
  items: T[]
  next: C | undefined
}

/** A group's threads, newest activity first, by keyset pagination on (last_post_at, root_id). */
export async function listThreads(
  db: Db,
  group: string,
  { limit, after }: { limit: number; after?: ThreadCursor | undefined },
): Promise<Page<ThreadSummary, ThreadCursor>> {
  let query = db
    .selectFrom('threads')
    .select(['root_id', 'subject', 'author_key', 'from_name', 'started_at', 'last_post_at', 'post_count'])
    .where('group_name', '=', group)
  if (after) {
    query = query.where((eb) =>
      eb.or([eb('last_post_at', '<', after.lastPostAt), eb.and([eb('last_post_at', '=', after.lastPostAt), eb('root_id', '<', after.rootId)])]),
    )
  }
  const rows = await query
    .orderBy('last_post_at', 'desc')
    .orderBy('root_id', 'desc')
    .limit(limit + 1)
    .execute()
  const items = rows.slice(0, limit)
  const last = items.at(-1)
  return { items, next: rows.length > limit && last ? { lastPostAt: last.last_post_at, rootId: last.root_id } : undefined }
}

export async function getThread(db: Db, group: string, rootId: string): Promise<ThreadSummary | undefined> {
  return db
    .selectFrom('threads')
    .select(['root_id', 'subject', 'author_key', 'from_name', 'started_at', 'last_post_at', 'post_count'])
    .where('group_name', '=', group)
    .where('root_id', '=', rootId)
    .executeTakeFirst()
}

export interface StoredArticle {
  id: string
  bytes: Uint8Array
  date: number
  parent_id: string | null
  root_id: string
}

/** Every article of a thread in a group, oldest first, at most `limit`. */
export async function threadArticles(db: Db, group: string, rootId: string, { limit }: { limit: number }): Promise<StoredArticle[]> {
  return db
    .selectFrom('postings')
    .innerJoin('articles', 'articles.id', 'postings.article_id')
    .select(['articles.id', 'articles.bytes', 'articles.date', 'articles.parent_id', 'articles.root_id'])
    .where('postings.group_name', '=', group)
    .where('postings.root_id', '=', rootId)
    .orderBy('postings.date')
    .orderBy('postings.article_id')
    .limit(limit)
    .execute()
}

export async function getArticle(db: Db, id: MessageId | string): Promise<StoredArticle | undefined> {
  return db.selectFrom('articles').select(['id', 'bytes', 'date', 'parent_id', 'root_id']).where('id', '=', id).executeTakeFirst()
}

/** The groups a stored article is filed under. */
export async function articleGroups(db: Db, id: string): Promise<string[]> {
  const rows = await articleGroupsQuery(db, id).execute()
  return rows.map((r) => r.group_name)
}

/**
 * The query of `articleGroups` (exported for its query-plan test). Postings are keyed by (group, article),
 * so it probes that key once per known group (every posting's group is one: groups are never deleted);
 * by the article alone SQLite scanned every posting, 7.8 ms an article at 50k posts, for each reply posted.
 */
export function articleGroupsQuery(db: Db, id: string) {
  return db
    .selectFrom('groups')
    .crossJoin('postings')
    .select('postings.group_name')
    .whereRef('postings.group_name', '=', 'groups.name')
    .where('postings.article_id', '=', id)
}

/** Which of these ids are stored. */
export async function storedIds(db: Db, ids: readonly string[]): Promise<Set<string>> {
  const found = new Set<string>()
  for (let i = 0; i < ids.length; i += 500) {
    const rows = await db
      .selectFrom('articles')
      .select('id')
      .where('id', 'in', ids.slice(i, i + 500))
      .execute()
    for (const row of rows) found.add(row.id)
  }
  return found
}

export interface AuthorSummary {
  key: string
  from_name: string
  post_count: number
  first_post_at: number
  last_post_at: number
}

export async function getAuthor(db: Db, key: string): Promise<AuthorSummary | undefined> {
  return db.selectFrom('authors').selectAll().where('key', '=', key).executeTakeFirst()
}

export interface AuthorArticle {
  id: string
  subject: string
  date: number
  root_id: string
}

export interface ArticleCursor {
  date: number
  id: string
}

/** An author's articles, newest first, by keyset pagination on (date, id). */
export async function listAuthorArticles(
  db: Db,
  key: string,
  { limit, after }: { limit: number; after?: ArticleCursor | undefined },
): Promise<Page<AuthorArticle, ArticleCursor>> {
  let query = db.selectFrom('articles').select(['id', 'subject', 'date', 'root_id']).where('author_key', '=', key)
  if (after) {
    query = query.where((eb) => eb.or([eb('date', '<', after.date), eb.and([eb('date', '=', after.date), eb('id', '<', after.id)])]))
  }
  const rows = await query
    .orderBy('date', 'desc')
    .orderBy('id', 'desc')
    .limit(limit + 1)
    .execute()
  const items = rows.slice(0, limit)
  const last = items.at(-1)
  return { items, next: rows.length > limit && last ? { date: last.date, id: last.id } : undefined }
}

export async function getSetting(db: Db, key: string): Promise<string | undefined> {
  const row = await db.selectFrom('settings').select('value').where('key', '=', key).executeTakeFirst()
  return row?.value
}

export async function putSetting(db: Db, key: string, value: string): Promise<void> {
  await db
    .insertInto('settings')
    .values({ key, value })
    .onConflict((oc) => oc.column('key').doUpdateSet({ value }))
    .execute()
}
