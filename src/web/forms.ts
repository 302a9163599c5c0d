import type { WebContext } from './env.ts'
import { HttpError } from './http-error.ts'

/** Reads a urlencoded or multipart form; every field named must be a single text value. */
export async function readForm<K extends string>(c: WebContext, required: readonly K[], optional: readonly K[] = []): Promise<Record<K, string | undefined>> {
  const type = c.req.header('content-type') ?? ''
  if (!type.startsWith('application/x-www-form-urlencoded') && !type.startsWith('multipart/form-data')) {
    throw new HttpError(415, 'send the form as application/x-www-form-urlencoded or multipart/form-data')
  }
  let body: Record<string, unknown>
  try {
    body = await c.req.parseBody()
  } catch {
    throw new HttpError(400, 'the form could not be read')
  }
  const out = {} as Record<K, string | undefined>
  for (const name of [...required, ...optional]) {
    const value = body[name]
    if (value === undefined && !required.includes(name)) continue
    if (typeof value !== 'string') throw new HttpError(400, value === undefined ? `the form has no ${name} field` : `the ${name} field must be text`)
    out[name] = value
  }
  return out
}

const HEX_ID = /^[0-9a-f]{64}$/

/** An article id as it appears in URLs and forms: the 64 hex digits of its Message-ID. */
export function hexParam(value: string | undefined, what = 'article id'): string {
  if (value === undefined || !HEX_ID.test(value)) throw new HttpError(400, `that is not an ${what} (64 hex digits)`)
  return value
}
