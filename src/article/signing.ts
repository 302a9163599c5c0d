import { createHash, sign } from 'node:crypto'
import type { Article, SignedArticle } from './article.ts'
import { truncateToSecond } from './date.ts'
import { decodeArticle, encodeArticle, signingInput, signingInputOf } from './encoding.ts'
import { InvalidArticleError } from './errors.ts'
import type { GroupName } from './group-name.ts'
import { verifyEd25519 } from './ed25519.ts'
import { publicKeyBytes, type AuthorKey } from './keys.ts'
import { MAX_DISPLAY_NAME_CHARS, MAX_REFERENCES } from './limits.ts'
import type { MessageId } from './message-id.ts'
import { checkLine, normaliseBody } from './text.ts'

export function signArticle(article: Omit<Article, 'authorKey'>, key: AuthorKey): SignedArticle {
  const unsigned: Article = { ...article, authorKey: key.publicKey }
  const signature = sign(null, signingInput(unsigned), key.privateKey).toString('base64url')
  return encodeArticle(unsigned, signature)
}

/** Whether the author's key signed this article's bytes. */
export function hasValidSignature(article: SignedArticle): boolean {
  const signature = Buffer.from(article.signature, 'base64url')
  return verifyEd25519(signature, signingInputOf(article), publicKeyBytes(article.authorKey))
}

/** Decodes canonical bytes and verifies the author's signature: the one way bytes from outside become an article. */
export function openArticle(bytes: Uint8Array): SignedArticle {
  const article = decodeArticle(bytes)
  if (!hasValidSignature(article)) throw new InvalidArticleError('bad-signature', 'the signature does not match the article and its Author-Key')
  return article
}

export interface Draft {
  readonly newsgroups: readonly GroupName[]
  readonly subject: string
  readonly from: string
  readonly body: string
  readonly references?: readonly MessageId[]
  readonly date: number
}

/** Turns what a person typed into a signed article: CRLF to LF, trailing space dropped, date to the second. */
export function composeArticle(draft: Draft, key: AuthorKey): SignedArticle {
  return signArticle(
    {
      newsgroups: draft.newsgroups,
      subject: draft.subject.trim(),
      from: draft.from.trim(),
      body: normaliseBody(draft.body),
      references: draft.references ?? [],
      date: truncateToSecond(draft.date),
    },
    key,
  )
}

/** References for a reply: the parent's chain plus the parent, trimmed in the middle (the root stays first). */
export function replyReferences(parent: SignedArticle): MessageId[] {
  const chain = [...parent.references, parent.id]
  if (chain.length <= MAX_REFERENCES) return chain
  return [chain[0]!, ...chain.slice(chain.length - (MAX_REFERENCES - 1))]
}

/** "Re: " once, as newsreaders do. */
export function replySubject(subject: string): string {
  return /^re:\s/i.test(subject) ? subject : `Re: ${subject}`
}

/** A short, stable fingerprint of an author key for display next to a claimed name. */
export function keyFingerprint(authorKey: string): string {
  return createHash('sha256').update(authorKey).digest('hex').slice(0, 8)
}

/** A display name as the owner typed it: trimmed and checked as the From header will be. */
export function parseDisplayName(value: string): string {
  return checkLine(value.trim(), 'the display name', MAX_DISPLAY_NAME_CHARS, 'bad-from')
}
