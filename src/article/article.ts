import type { GroupName } from './group-name.ts'
import type { MessageId } from './message-id.ts'

/** What an author writes and signs. Field names follow RFC 5536 headers. */
export interface Article {
  /** Newsgroups: the first is the group the article was posted from. */
  readonly newsgroups: readonly GroupName[]
  readonly subject: string
  /** From: a display name. It is only a claim; `authorKey` is who wrote it. */
  readonly from: string
  /** Date: milliseconds since the epoch, whole seconds. */
  readonly date: number
  /** References: the thread root first, the parent last (RFC 5536 §3.2.10). */
  readonly references: readonly MessageId[]
  /** Author-Key: the author's Ed25519 public key, base64url without padding (43 characters). */
  readonly authorKey: string
  readonly body: string
}

/** An article with its signature, its exact canonical bytes and the Message-ID derived from them. */
export interface SignedArticle extends Article {
  /** Signature: Ed25519 over the signing input, base64url without padding (86 characters). */
  readonly signature: string
  readonly id: MessageId
  readonly bytes: Uint8Array
}

/**
 * A signed article as storage, range digests and live pages read it: every field but the body and the
 * signature, which stay in `bytes`. A verify thread hands back this much, so the thread that stores a mirror's
 * posts does not copy and keep each body as a string (about 1 KB a post) that it never reads.
 */
export type ArticleRecord = Omit<SignedArticle, 'body' | 'signature'>

export function parentOf(article: Pick<Article, 'references'>): MessageId | undefined {
  return article.references.at(-1)
}

/** The thread an article belongs to: its root, or itself when it starts one. */
export function threadRootOf(article: Pick<SignedArticle, 'references' | 'id'>): MessageId {
  return article.references[0] ?? article.id
}
