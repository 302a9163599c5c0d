import { InvalidArticleError, type ArticleProblem } from './errors.ts'

// C0 and C1 controls and DEL, other than those a field explicitly allows.
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/u
const BODY_CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/u
// Bidirectional overrides and isolates let a name or subject display as something else (CVE-2021-42574).
const BIDI = /[\u202a-\u202e\u2066-\u2069]/u

/** A one-line header text: trimmed, non-empty, no control or bidi-override characters, at most `max` characters. */
export function checkLine(value: string, what: string, max: number, problem: ArticleProblem): string {
  if (value.length === 0 || value.trim().length === 0) throw new InvalidArticleError(problem, `${what} is empty`)
  if (value !== value.trim()) throw new InvalidArticleError(problem, `${what} has leading or trailing spaces`)
  if (CONTROL.test(value)) throw new InvalidArticleError(problem, `${what} contains a control character`)
  if (BIDI.test(value)) throw new InvalidArticleError(problem, `${what} contains a bidirectional override character`)
  if (hasLoneSurrogate(value)) throw new InvalidArticleError(problem, `${what} is not valid Unicode`)
  if ([...value].length > max) throw new InvalidArticleError(problem, `${what} is longer than ${max} characters`)
  return value
}

/** A body: lines separated by LF, tabs allowed, no other control characters, not blank. */
export function checkBody(value: string): string {
  if (value.trim().length === 0) throw new InvalidArticleError('bad-body', 'the body is empty')
  if (value.includes('\r')) throw new InvalidArticleError('bad-body', 'the body contains a carriage return (use LF line ends)')
  if (BODY_CONTROL.test(value)) throw new InvalidArticleError('bad-body', 'the body contains a control character')
  if (hasLoneSurrogate(value)) throw new InvalidArticleError('bad-body', 'the body is not valid Unicode')
  return value
}

/** Forms send CRLF; articles use LF. Trailing whitespace at the end of the body carries nothing. */
export function normaliseBody(value: string): string {
  return value.replace(/\r\n?/g, '\n').replace(/\s+$/u, '')
}

function hasLoneSurrogate(value: string): boolean {
  return !value.isWellFormed()
}
