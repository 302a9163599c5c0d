import { randomBytes } from 'node:crypto'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import SqliteDatabase from 'better-sqlite3'
import { authorKeyFromSeed, composeArticle, parseGroupName, replyReferences, type AuthorKey, type SignedArticle } from '../src/article/index.ts'

/** Median of a list of numbers. */
export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b)
  const mid = Math.floor(sorted.length / 2)
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2
}

export async function tempDir(prefix: string): Promise<{ dir: string; remove(): Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), prefix))
  return { dir, remove: () => rm(dir, { recursive: true, force: true }) }
}

const WORDS = 'the node peer post group thread reply shard gossip flood mirror history signature key board news reader server message'.split(' ')

/** About `bytes` of plain text in lines, different for every seed. */
function bodyText(bytes: number): string {
  const lines: string[] = []
  let size = 0
  let line = ''
  while (size < bytes) {
    const word = WORDS[randomBytes(1)[0]! % WORDS.length]!
    line = line ? `${line} ${word}` : word
    size += word.length + 1
    if (line.length > 70) {
      lines.push(line)
      line = ''
    }
  }
  if (line) lines.push(line)
  return lines.join('\n')
}

export interface CorpusOptions {
  group: string
  posts: number
  /** Approximate article size in bytes. */
  articleBytes?: number
  /** Posts go into threads of this many (a root and replies to earlier posts of the thread). */
  threadSize?: (index: number) => number
  /** Spread over this many days, ending now. */
  days?: number
  authors?: number
}

/**
 * A realistic corpus: signed ~1 KB articles in threads, several authors, dates over many days. Returned in
 * posting order (parents before replies).
 */
export function makeCorpus({ group, posts, articleBytes = 1000, threadSize = () => 10, days = 30, authors = 50 }: CorpusOptions): SignedArticle[] {
  const keys: { key: AuthorKey; name: string }[] = Array.from({ length: authors }, (_, i) => ({
    key: authorKeyFromSeed(Buffer.alloc(32, i + 1)),
    name: `Author ${i + 1}`,
  }))
  const groupName = parseGroupName(group)
  const start = Date.now() - days * 86_400_000
  const step = (days * 86_400_000) / posts
  const out: SignedArticle[] = []
  let thread: SignedArticle[] = []
  let threadTarget = 0
  for (let i = 0; i < posts; i++) {
    if (thread.length >= threadTarget) {
      thread = []
      threadTarget = threadSize(out.length)
    }
    const author = keys[i % keys.length]!
    const parent = thread.length === 0 ? undefined : thread[Math.floor(Math.random() * thread.length)]
    const article = composeArticle(
      {
        newsgroups: [groupName],
        subject: parent ? `Re: ${thread[0]!.subject}` : `Thread ${out.length} about ${WORDS[i % WORDS.length]}`,
        from: author.name,
        body: bodyText(articleBytes - 350),
        references: parent ? replyReferences(parent) : [],
        date: start + i * step,
      },
      author.key,
    )
    thread.push(article)
    out.push(article)
  }
  return out
}

export function rssMiB(): number {
  return process.memoryUsage().rss / 1024 / 1024
}

/**
 * The table of the one-row-a-post floor (bench/ingest.ts, bench/mirror.ts): one five-column row a post, one
 * index, WAL and synchronous=FULL. `insert` takes id, author key, subject, date and bytes.
 */
export function openOneRowFloor(path: string): { db: SqliteDatabase.Database; insert: SqliteDatabase.Statement } {
  const db = new SqliteDatabase(path)
  db.pragma('journal_mode = WAL')
  db.pragma('synchronous = FULL')
  db.exec('create table articles (id text primary key, author_key text, subject text, date integer, bytes blob)')
  return { db, insert: db.prepare('insert into articles values (?, ?, ?, ?, ?)') }
}
