import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import {
  authorKeyFromSeed,
  composeArticle,
  InvalidArticleError,
  parseGroupName,
  replyReferences,
  signGroupDescriptor,
  type AuthorKey,
  type GroupName,
  type SignedArticle,
} from '../article/index.ts'
import { addGroup, type Db } from '../store/index.ts'
import { canonicalChange } from './canonical-change.ts'
import { SeedError } from './errors.ts'
import type { Ingest } from './ingest.ts'

/**
 * The demo content a fresh node starts with (seeds/): groups, authors with public demo keys, and threads.
 * Posts are signed here and go through ingest like any other, so every node seeded from the same files holds
 * the same Message-IDs.
 */
export interface SeedContent {
  groups: { name: GroupName; description: string; descriptor: Uint8Array }[]
  articles: SignedArticle[]
}

const SEED_GROUPS_DATE = Date.UTC(2026, 8, 1)

export async function readSeeds(dir: string): Promise<SeedContent> {
  const groupsJson = await readJson(join(dir, 'groups.json'))
  const authorsJson = await readJson(join(dir, 'authors.json'))
  const threadsJson = await readJson(join(dir, 'threads.json'))

  const authors = new Map<string, { name: string; key: AuthorKey }>()
  array(object(authorsJson, 'authors.json').authors, 'authors.json authors').forEach((a, i) => {
    const where = `authors.json authors[${i}]`
    const seed = string(a, 'seed', where)
    if (!/^[0-9a-f]{64}$/.test(seed)) throw new SeedError(`${where}.seed must be 64 hex digits`)
    authors.set(string(a, 'handle', where), { name: string(a, 'name', where), key: authorKeyFromSeed(Buffer.from(seed, 'hex')) })
  })

  // The demo groups are announced by the first demo author, dated before any demo post, so every node seeded
  // from these files holds the same announcements.
  const announcer = authors.values().next().value
  if (!announcer) throw new SeedError('authors.json names no author')
  const groups = array(groupsJson, 'groups.json').map((g, i) => {
    const where = `groups.json[${i}]`
    const descriptor = field(
      () =>
        signGroupDescriptor(
          { name: parseGroupName(string(g, 'name', where)), description: string(g, 'description', where), date: SEED_GROUPS_DATE },
          announcer.key,
        ),
      where,
    )
    return { name: descriptor.name, description: descriptor.description, descriptor: descriptor.bytes }
  })

  const articles: SignedArticle[] = []
  array(threadsJson, 'threads.json').forEach((t, ti) => {
    const where = `threads.json[${ti}]`
    const group = field(() => parseGroupName(string(t, 'group', where)), where)
    const byLabel = new Map<string, SignedArticle>()
    array(object(t, where).posts, `${where}.posts`).forEach((p, pi) => {
      const at = `${where}.posts[${pi}]`
      const author = authors.get(string(p, 'author', at))
      if (!author) throw new SeedError(`${at}.author is not a handle in authors.json`)
      const replyTo = object(p, at).replyTo
      const parent = replyTo === null ? undefined : byLabel.get(String(replyTo))
      if (replyTo !== null && !parent) throw new SeedError(`${at}.replyTo names no earlier post of the thread`)
      const date = Date.parse(string(p, 'date', at))
      if (Number.isNaN(date)) throw new SeedError(`${at}.date is not an ISO 8601 date`)
      const article = field(
        () =>
          composeArticle(
            {
              newsgroups: parent ? parent.newsgroups : [group],
              subject: string(p, 'subject', at),
              from: author.name,
              body: string(p, 'body', at),
              references: parent ? replyReferences(parent) : [],
              date,
            },
            author.key,
          ),
        at,
      )
      byLabel.set(string(p, 'id', at), article)
      articles.push(article)
    })
  })
  return { groups, articles }
}

/** Adds the seed groups and ingests the seed posts. Returns how many posts were new. */
export async function importSeeds(db: Db, ingest: Ingest, seeds: SeedContent, now: number): Promise<number> {
  for (const group of seeds.groups) await addGroup(db, { ...group, createdAt: now })
  const results = await ingest.ingestChanges(seeds.articles.map(canonicalChange), { origin: 'seed' })
  const refused = results.find((r) => r.status === 'rejected')
  if (refused?.status === 'rejected') throw new SeedError(`a seed post was refused: ${refused.reason}`)
  return results.filter((r) => r.status === 'accepted').length
}

async function readJson(path: string): Promise<unknown> {
  let text: string
  try {
    text = await readFile(path, 'utf8')
  } catch (err) {
    throw new SeedError(`cannot read ${path}: ${(err as Error).message}`)
  }
  try {
    return JSON.parse(text)
  } catch (err) {
    throw new SeedError(`${path} is not valid JSON: ${(err as Error).message}`)
  }
}

function array(value: unknown, where: string): unknown[] {
  if (!Array.isArray(value)) throw new SeedError(`${where} must be an array`)
  return value
}

function object(value: unknown, where: string): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new SeedError(`${where} must be an object`)
  return value as Record<string, unknown>
}

function string(value: unknown, key: string, where: string): string {
  const v = object(value, where)[key]
  if (typeof v !== 'string') throw new SeedError(`${where}.${key} must be a string`)
  return v
}

function field<T>(read: () => T, where: string): T {
  try {
    return read()
  } catch (err) {
    if (err instanceof InvalidArticleError) throw new SeedError(`${where}: ${err.message}`)
    throw err
  }
}
