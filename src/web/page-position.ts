import { messageIdFromHex, messageIdHex, type MessageId } from '../article/index.ts'
import { HttpError } from './http-error.ts'

/**
 * Where a page of a keyset-paginated list ends, as it appears in `?after=`: `<ms>.<64 hex digits>`, the
 * time and the Message-ID of the last item shown.
 */
const POSITION = /^(\d{1,15})\.([0-9a-f]{64})$/

export function parsePagePosition(value: string | undefined): { ms: number; id: MessageId } | undefined {
  if (value === undefined) return undefined
  const m = POSITION.exec(value)
  if (!m) throw new HttpError(400, 'the "after" parameter is not a page position of this list')
  return { ms: Number(m[1]), id: messageIdFromHex(m[2]!) }
}

export function formatPagePosition(ms: number, id: string): string {
  return `${ms}.${messageIdHex(id as MessageId)}`
}
