import { InvalidArticleError } from '../article/index.ts'
import { PostingError } from '../sync/index.ts'

/** An HTTP error whose message is shown to the person (or API client) as it is. */
export class HttpError extends Error {
  override readonly name = 'HttpError'
  readonly status: 400 | 401 | 403 | 404 | 413 | 415

  constructor(status: HttpError['status'], message: string) {
    super(message)
    this.status = status
  }
}

/** The status and message for an error a request caused, or undefined for a fault of ours. */
export function describeError(err: unknown): { status: HttpError['status']; message: string; problem?: string } | undefined {
  if (err instanceof HttpError) return { status: err.status, message: err.message }
  if (err instanceof InvalidArticleError) return { status: 400, message: err.message, problem: err.problem }
  if (err instanceof PostingError) return { status: err.problem === 'rejected' ? 400 : 404, message: err.message, problem: err.problem }
  return undefined
}
