import type { Article, SignedArticle } from './article.ts'
import { parseArticleDate, formatArticleDate } from './date.ts'
import { InvalidArticleError } from './errors.ts'
import { parseGroupName } from './group-name.ts'
import { MAX_ARTICLE_BYTES, MAX_DISPLAY_NAME_CHARS, MAX_HEADER_LINE_BYTES, MAX_NEWSGROUPS, MAX_REFERENCES, MAX_SUBJECT_CHARS } from './limits.ts'
import { messageIdOf, parseMessageId } from './message-id.ts'
import { checkBody, checkLine } from './text.ts'

/*
 * The canonical encoding (docs/ARCHITECTURE.md, "Article encoding"). UTF-8, LF line ends, headers in this
 * fixed order, each at most once, References omitted when empty, then an empty line and the body:
 *
 *   Newsgroups: comp.lang.typescript,p2p.general
 *   Subject: Hello
 *   From: Ada
 *   Date: Mon, 23 Nov 2026 05:41:17 +0000
 *   References: <…@usenet-p2p> <…@usenet-p2p>
 *   Author-Key: <43 base64url characters>
 *   Signature: <86 base64url characters>
 *
 *   body
 *
 * The signature covers SIGNING_CONTEXT followed by every header line but Signature, the empty line and the
 * body. A byte string is accepted only if decoding and encoding it again gives the same bytes.
 */
export const SIGNING_CONTEXT = 'usenet-p2p article v1\n'

const KEY = /^[A-Za-z0-9_-]{42}[AEIMQUYcgkosw048]$/
const SIGNATURE = /^[A-Za-z0-9_-]{85}[AQgw]$/
const utf8 = new TextEncoder()
const strictUtf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true })

/** Checks every field against the format and the limits; returns the same article. */
export function checkArticle<A extends Article>(article: A): A {
  const { newsgroups, references } = article
  if (newsgroups.length === 0) throw new InvalidArticleError('bad-group', 'the article names no group')
  if (newsgroups.length > MAX_NEWSGROUPS) throw new InvalidArticleError('bad-group', `an article may name at most ${MAX_NEWSGROUPS} groups`)
  for (const group of newsgroups) parseGroupName(group)
  if (new Set(newsgroups).size !== newsgroups.length) throw new InvalidArticleError('bad-group', 'a group is named twice')
  checkLine(article.subject, 'the subject', MAX_SUBJECT_CHARS, 'bad-subject')
  checkLine(article.from, 'the display name', MAX_DISPLAY_NAME_CHARS, 'bad-from')
  formatArticleDate(article.date)
  if (article.date % 1000 !== 0) throw new InvalidArticleError('bad-date', 'the date must be in whole seconds')
  if (references.length > MAX_REFERENCES) throw new InvalidArticleError('bad-message-id', `References may hold at most ${MAX_REFERENCES} ids`)
  for (const ref of references) parseMessageId(ref)
  if (new Set(references).size !== references.length) throw new InvalidArticleError('bad-message-id', 'References names an article twice')
  if (!KEY.test(article.authorKey)) throw new InvalidArticleError('bad-key', 'Author-Key is not a base64url Ed25519 public key')
  checkBody(article.body)
  return article
}

function unsignedHeaderLines(article: Article): string[] {
  const lines = [
    `Newsgroups: ${article.newsgroups.join(',')}`,
    `Subject: ${article.subject}`,
    `From: ${article.from}`,
    `Date: ${formatArticleDate(article.date)}`,
  ]
  if (article.references.length > 0) lines.push(`References: ${article.references.join(' ')}`)
  lines.push(`Author-Key: ${article.authorKey}`)
  return lines
}

/** The exact bytes an author signs. */
export function signingInput(article: Article): Uint8Array {
  checkArticle(article)
  return utf8.encode(`${SIGNING_CONTEXT}${unsignedHeaderLines(article).join('\n')}\n\n${article.body}`)
}

const SIGNATURE_LINE_BYTES = 'Signature: '.length + 86
const CONTEXT_BYTES = utf8.encode(SIGNING_CONTEXT)
const EMPTY_LINE = Buffer.from('\n\n')

/**
 * The signing input of a signed article, cut from its canonical bytes instead of encoded again (the check every
 * post from outside pays): the Signature line is the last header line and has a fixed length. Equal to
 * `signingInput` of its fields, since `encodeArticle` and `decodeArticle` make the fields and bytes together.
 */
export function signingInputOf(article: SignedArticle): Uint8Array {
  const bytes = Buffer.from(article.bytes.buffer, article.bytes.byteOffset, article.bytes.byteLength)
  const headersEnd = bytes.indexOf(EMPTY_LINE)
  if (headersEnd <= SIGNATURE_LINE_BYTES) throw new InvalidArticleError('malformed', 'the article bytes have no signed headers')
  // The "\n" before the Signature line goes with it; the one ending the line before stays as the empty line's.
  const signatureLine = headersEnd - SIGNATURE_LINE_BYTES - 1
  return Buffer.concat([CONTEXT_BYTES, bytes.subarray(0, signatureLine), bytes.subarray(headersEnd)])
}

/** The canonical text of a signed article, checked against the format and the limits. */
function articleText(article: Article, signature: string): string {
  checkArticle(article)
  if (!SIGNATURE.test(signature)) throw new InvalidArticleError('bad-signature', 'Signature is not a base64url Ed25519 signature')
  const lines = unsignedHeaderLines(article)
  lines.push(`Signature: ${signature}`)
  for (const line of lines) {
    if (Buffer.byteLength(line) > MAX_HEADER_LINE_BYTES) {
      throw new InvalidArticleError('bad-header', `a header line is longer than ${MAX_HEADER_LINE_BYTES} bytes`)
    }
  }
  return `${lines.join('\n')}\n\n${article.body}`
}

function checkSize(bytes: Uint8Array): void {
  if (bytes.length > MAX_ARTICLE_BYTES) {
    throw new InvalidArticleError('too-large', `the article is ${bytes.length} bytes; the limit is ${MAX_ARTICLE_BYTES}`)
  }
}

/** The canonical bytes of a signed article, with its Message-ID. Does not verify the signature. */
export function encodeArticle(article: Article, signature: string): SignedArticle {
  const bytes = utf8.encode(articleText(article, signature))
  checkSize(bytes)
  return { ...copyFields(article), signature, bytes, id: messageIdOf(bytes) }
}

const HEADER_ORDER = ['Newsgroups', 'Subject', 'From', 'Date', 'References', 'Author-Key', 'Signature'] as const
type HeaderName = (typeof HEADER_ORDER)[number]
const OPTIONAL: ReadonlySet<HeaderName> = new Set(['References'])

/**
 * Parses canonical bytes. Anything that is not exactly what `encodeArticle` would produce is refused, so one
 * article has one byte string and one Message-ID. Does not verify the signature: see `openArticle`.
 */
export function decodeArticle(bytes: Uint8Array): SignedArticle {
  checkSize(bytes)
  let text: string
  try {
    text = strictUtf8.decode(bytes)
  } catch {
    throw new InvalidArticleError('not-utf8', 'the article is not valid UTF-8')
  }
  const split = text.indexOf('\n\n')
  if (split < 0) throw new InvalidArticleError('malformed', 'the article has no empty line between headers and body')
  const headers = parseHeaders(text.slice(0, split).split('\n'))
  const article: Article = {
    newsgroups: headers.Newsgroups.split(',').map(parseGroupName),
    subject: headers.Subject,
    from: headers.From,
    date: parseArticleDate(headers.Date),
    references: headers.References === undefined ? [] : headers.References.split(' ').map(parseMessageId),
    authorKey: headers['Author-Key'],
    body: text.slice(split + 2),
  }
  // Strict UTF-8 maps byte strings one to one onto well-formed texts, so equal texts mean equal bytes; comparing
  // texts spares encoding the article again.
  if (articleText(article, headers.Signature) !== text) throw new InvalidArticleError('non-canonical', 'the article is not in canonical form')
  // A copy: the input is often a view of a much larger buffer (a network read, a packed batch).
  const own = new Uint8Array(bytes)
  return { ...article, signature: headers.Signature, bytes: own, id: messageIdOf(own) }
}

function parseHeaders(lines: string[]): Record<Exclude<HeaderName, 'References'>, string> & { References?: string } {
  const values: Partial<Record<HeaderName, string>> = {}
  let next = 0
  for (const line of lines) {
    const colon = line.indexOf(': ')
    if (colon <= 0) throw new InvalidArticleError('malformed', `header line "${line.slice(0, 40)}" has no "Name: value" form`)
    const name = line.slice(0, colon)
    const at = HEADER_ORDER.indexOf(name as HeaderName, next)
    if (at < 0) {
      const known = HEADER_ORDER.includes(name as HeaderName)
      throw new InvalidArticleError(
        known ? 'non-canonical' : 'bad-header',
        known ? `header ${name} is repeated or out of order` : `unknown header "${name.slice(0, 40)}"`,
      )
    }
    for (const skipped of HEADER_ORDER.slice(next, at)) {
      if (!OPTIONAL.has(skipped)) throw missingOrMisplaced(skipped, lines)
    }
    values[name as HeaderName] = line.slice(colon + 2)
    next = at + 1
  }
  for (const missing of HEADER_ORDER.slice(next)) {
    if (!OPTIONAL.has(missing)) throw missingOrMisplaced(missing, lines)
  }
  return values as ReturnType<typeof parseHeaders>
}

/** A required header not found where it belongs: absent, or present but out of order (not "missing" then). */
function missingOrMisplaced(name: HeaderName, lines: readonly string[]): InvalidArticleError {
  return lines.some((line) => line.startsWith(`${name}: `))
    ? new InvalidArticleError('non-canonical', `header ${name} is out of order`)
    : new InvalidArticleError('bad-header', `the ${name} header is missing`)
}

function copyFields(article: Article): Article {
  const { newsgroups, subject, from, date, references, authorKey, body } = article
  return { newsgroups: [...newsgroups], subject, from, date, references: [...references], authorKey, body }
}

export function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(b.buffer, b.byteOffset, b.byteLength))
}
