import fc from 'fast-check'
import {
  authorKeyFromSeed,
  MAX_DISPLAY_NAME_CHARS,
  MAX_NEWSGROUPS,
  MAX_REFERENCES,
  MAX_SUBJECT_CHARS,
  messageIdFromHex,
  parseGroupName,
  type Article,
  type AuthorKey,
  type GroupName,
  type MessageId,
} from '../../src/article/index.ts'

/** Characters no header line may hold: C0/C1 controls, DEL, bidi overrides and isolates. */
const FORBIDDEN_IN_LINE = /[\u0000-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/gu
/** The body may hold LF and tab, but no other control, and never CR. */
const FORBIDDEN_IN_BODY = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/gu

/** One character: often a telling one, otherwise any code point of any plane (never a lone surrogate). */
function anyOf(...telling: string[]): fc.Arbitrary<string> {
  return fc.oneof(fc.constantFrom(...telling), fc.string({ unit: 'binary', minLength: 1, maxLength: 1 }))
}

/** Any Unicode text (astral planes included, no lone surrogates), cleaned into a valid one-line header value. */
export function headerText(maxChars: number): fc.Arbitrary<string> {
  return fc
    .string({ unit: anyOf('a', 'Z', ' ', 'é', '日', '😀', 'ß', 'Ω', ':', ',', '<', '>'), minLength: 1, maxLength: maxChars })
    .map((s) => [...s.replace(FORBIDDEN_IN_LINE, '').trim()].slice(0, maxChars).join('').trim())
    .filter((s) => s.length > 0)
}

export const bodyText: fc.Arbitrary<string> = fc
  .array(
    fc.string({ unit: anyOf('a', ' ', '\t', '\n', 'ü', '漢', '🎉', '>', '-', '.', ':'), maxLength: 60 }).map((s) => s.replace(FORBIDDEN_IN_BODY, '')),
    { minLength: 1, maxLength: 12 },
  )
  .map((lines) => lines.join('\n'))
  .filter((body) => body.trim().length > 0)

const groupPart = fc.stringMatching(/^[a-z0-9+_-]{1,12}$/)

export const groupName: fc.Arbitrary<GroupName> = fc.array(groupPart, { minLength: 2, maxLength: 5 }).map((parts) => parseGroupName(parts.join('.')))

export const messageId: fc.Arbitrary<MessageId> = fc.uint8Array({ minLength: 32, maxLength: 32 }).map((b) => messageIdFromHex(Buffer.from(b).toString('hex')))

/** Whole seconds between 1970 and 9999, the range the Date header can express. */
export const articleDate: fc.Arbitrary<number> = fc.integer({ min: 0, max: Date.UTC(9999, 11, 31, 23, 59, 59) / 1000 }).map((s) => s * 1000)

export const authorKey: fc.Arbitrary<AuthorKey> = fc.uint8Array({ minLength: 32, maxLength: 32 }).map((seed) => authorKeyFromSeed(seed))

/** Every field of a valid article but the key. */
export const articleFields: fc.Arbitrary<Omit<Article, 'authorKey'>> = fc.record({
  newsgroups: fc.uniqueArray(groupName, { minLength: 1, maxLength: MAX_NEWSGROUPS }),
  subject: headerText(MAX_SUBJECT_CHARS),
  from: headerText(MAX_DISPLAY_NAME_CHARS),
  date: articleDate,
  references: fc.uniqueArray(messageId, { minLength: 0, maxLength: MAX_REFERENCES }),
  body: bodyText,
})
