import { sign } from 'node:crypto'
import { formatArticleDate, parseArticleDate, truncateToSecond } from './date.ts'
import { sameBytes } from './encoding.ts'
import { InvalidArticleError } from './errors.ts'
import { parseGroupName, type GroupName } from './group-name.ts'
import { verifyEd25519 } from './ed25519.ts'
import { publicKeyBytes, type AuthorKey } from './keys.ts'
import { checkLine } from './text.ts'

/**
 * A group's announcement: its name and description, signed by whoever created it, so neighbours learn of a
 * new group and can subscribe. Canonical text, like articles:
 *
 *   usenet-p2p group v1
 *   Name: comp.lang.typescript
 *   Description: The TypeScript language.
 *   Date: Mon, 23 Nov 2026 05:41:17 +0000
 *   Author-Key: <43 base64url characters>
 *   Signature: <86 base64url characters>
 *
 * The signature covers every line before Signature (with its line ends).
 */
export interface GroupDescriptor {
  readonly name: GroupName
  readonly description: string
  readonly date: number
  readonly authorKey: string
  readonly signature: string
  readonly bytes: Uint8Array
}

export const MAX_DESCRIPTION_CHARS = 200
const MAX_DESCRIPTOR_BYTES = 2048
const HEADER = 'usenet-p2p group v1'
const utf8 = new TextEncoder()
const strictUtf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true })

function signedPart(d: Omit<GroupDescriptor, 'signature' | 'bytes'>): string {
  return `${HEADER}\nName: ${d.name}\nDescription: ${d.description}\nDate: ${formatArticleDate(d.date)}\nAuthor-Key: ${d.authorKey}\n`
}

export function parseDescription(value: string): string {
  return checkLine(value.trim(), 'the description', MAX_DESCRIPTION_CHARS, 'bad-header')
}

export function signGroupDescriptor({ name, description, date }: { name: GroupName; description: string; date: number }, key: AuthorKey): GroupDescriptor {
  const unsigned = { name: parseGroupName(name), description: parseDescription(description), date: truncateToSecond(date), authorKey: key.publicKey }
  const body = signedPart(unsigned)
  const signature = sign(null, utf8.encode(body), key.privateKey).toString('base64url')
  return { ...unsigned, signature, bytes: utf8.encode(`${body}Signature: ${signature}`) }
}

/** Decodes and verifies an announcement from outside; refuses anything not in canonical form. */
export function openGroupDescriptor(bytes: Uint8Array): GroupDescriptor {
  if (bytes.length > MAX_DESCRIPTOR_BYTES) throw new InvalidArticleError('too-large', 'the group announcement is too large')
  let text: string
  try {
    text = strictUtf8.decode(bytes)
  } catch {
    throw new InvalidArticleError('not-utf8', 'the group announcement is not valid UTF-8')
  }
  const m = /^usenet-p2p group v1\nName: (.*)\nDescription: (.*)\nDate: (.*)\nAuthor-Key: (.*)\nSignature: (.*)$/.exec(text)
  if (!m) throw new InvalidArticleError('malformed', 'the group announcement is malformed')
  const [, name, description, date, authorKey, signature] = m as unknown as [string, string, string, string, string, string]
  const unsigned = { name: parseGroupName(name), description: parseDescription(description), date: parseArticleDate(date), authorKey }
  const body = signedPart(unsigned)
  if (!sameBytes(utf8.encode(`${body}Signature: ${signature}`), bytes))
    throw new InvalidArticleError('non-canonical', 'the group announcement is not in canonical form')
  if (!verifyEd25519(Buffer.from(signature, 'base64url'), utf8.encode(body), publicKeyBytes(authorKey))) {
    throw new InvalidArticleError('bad-signature', 'the group announcement’s signature does not match')
  }
  return { ...unsigned, signature, bytes }
}
