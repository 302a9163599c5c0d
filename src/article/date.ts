import { InvalidArticleError } from './errors.ts'

const DAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat']
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec']
const DATE = /^(Sun|Mon|Tue|Wed|Thu|Fri|Sat), (\d{2}) (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) (\d{4}) (\d{2}):(\d{2}):(\d{2}) \+0000$/

const pad = (n: number, width = 2) => String(n).padStart(width, '0')

/** RFC 5322 §3.3 date-time, always in UTC and with seconds: the one form our canonical encoding allows. */
export function formatArticleDate(ms: number): string {
  const d = new Date(ms)
  if (!Number.isFinite(ms) || d.getUTCFullYear() < 1970 || d.getUTCFullYear() > 9999) {
    throw new InvalidArticleError('bad-date', 'the date is out of range')
  }
  return `${DAYS[d.getUTCDay()]}, ${pad(d.getUTCDate())} ${MONTHS[d.getUTCMonth()]} ${pad(d.getUTCFullYear(), 4)} ${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())} +0000`
}

/** Milliseconds since the epoch; refuses anything that does not format back to the same text. */
export function parseArticleDate(value: string): number {
  const m = DATE.exec(value)
  if (!m) throw new InvalidArticleError('bad-date', `"${value.slice(0, 60)}" is not a date of the form "Mon, 23 Nov 2026 05:41:17 +0000"`)
  const [, , day, month, year, hh, mm, ss] = m
  const ms = Date.UTC(Number(year), MONTHS.indexOf(month!), Number(day), Number(hh), Number(mm), Number(ss))
  if (formatArticleDate(ms) !== value) throw new InvalidArticleError('bad-date', `"${value}" is not a real date (check the weekday and day of month)`)
  return ms
}

/** Article dates have whole seconds. */
export function truncateToSecond(ms: number): number {
  return Math.floor(ms / 1000) * 1000
}

/**
 * The UTC day of a date, "2026-11-23": the coarsest range of shards and of set reconciliation. The last day
 * asked is kept: ingest asks for every post of a batch, mostly of the same day, and formatting a Date each
 * time was about 40 ms of a 10k mirror's event loop.
 */
export function utcDay(ms: number): string {
  const day = Math.floor(ms / MS_PER_DAY)
  if (day !== lastDay) {
    lastDayText = new Date(day * MS_PER_DAY).toISOString().slice(0, 10)
    lastDay = day
  }
  return lastDayText
}

const MS_PER_DAY = 86_400_000
let lastDay = Number.NaN
let lastDayText = ''
