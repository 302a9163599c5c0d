import {
  authorKeyFromSeed,
  composeArticle,
  parseGroupName,
  replyReferences,
  replySubject,
  type AuthorKey,
  type SignedArticle,
} from '../../src/article/index.ts'

export const alice: AuthorKey = authorKeyFromSeed(new Uint8Array(32).fill(1))
export const mallory: AuthorKey = authorKeyFromSeed(new Uint8Array(32).fill(2))

let clock = Date.UTC(2026, 10, 1, 12, 0, 0)

/** A signed article; each call gets a later date unless one is given. */
export function makeArticle({
  group = 'test.one',
  subject = 'Hello',
  body = 'Hello, world.',
  from = 'Alice',
  key = alice,
  date,
  parent,
}: {
  group?: string
  subject?: string
  body?: string
  from?: string
  key?: AuthorKey
  date?: number
  parent?: SignedArticle
} = {}): SignedArticle {
  clock += 1000
  return composeArticle(
    {
      newsgroups: parent ? parent.newsgroups : [parseGroupName(group)],
      subject: parent ? replySubject(parent.subject) : subject,
      from,
      body,
      references: parent ? replyReferences(parent) : [],
      date: date ?? clock,
    },
    key,
  )
}
