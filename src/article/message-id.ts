import { hash } from 'node:crypto'
import { InvalidArticleError } from './errors.ts'

/**
 * `<64 hex digits@usenet-p2p>`: the SHA-256 of the article's signed bytes, in RFC 5536 §3.1.3 msg-id form.
 * Content-addressed, so an id can never name other content.
 */
export type MessageId = string & { readonly __brand: 'MessageId' }

const DOMAIN = 'usenet-p2p'
const MESSAGE_ID = /^<([0-9a-f]{64})@usenet-p2p>$/
const HEX = /^[0-9a-f]{64}$/

export function parseMessageId(value: string): MessageId {
  if (!MESSAGE_ID.test(value)) throw new InvalidArticleError('bad-message-id', `"${value.slice(0, 100)}" is not a Message-ID of this network`)
  return value as MessageId
}

export function isMessageId(value: string): value is MessageId {
  return MESSAGE_ID.test(value)
}

export function messageIdFromHex(hex: string): MessageId {
  if (!HEX.test(hex)) throw new InvalidArticleError('bad-message-id', `"${hex.slice(0, 100)}" is not an article id (64 hex digits)`)
  return `<${hex}@${DOMAIN}>` as MessageId
}

/** The 64 hex digits: what URLs and shard prefixes use. */
export function messageIdHex(id: MessageId): string {
  return id.slice(1, 65)
}

export function messageIdOf(signedBytes: Uint8Array): MessageId {
  return messageIdFromHex(hash('sha256', signedBytes, 'hex'))
}
