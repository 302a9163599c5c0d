import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { utcDay } from '../../src/article/date.ts'

describe('the UTC day of a date', () => {
  it('is the ISO date of any moment from 1970 to 9999, whatever was asked before it', () => {
    const moment = fc.integer({ min: 0, max: Date.UTC(9999, 11, 31, 23, 59, 59) })
    fc.assert(
      fc.property(fc.array(moment, { minLength: 1, maxLength: 20 }), (moments) => {
        for (const ms of moments) expect(utcDay(ms)).toBe(new Date(ms).toISOString().slice(0, 10))
      }),
    )
  })

  it('changes at midnight UTC, not a millisecond before', () => {
    const midnight = Date.UTC(2026, 10, 24)
    expect([utcDay(midnight - 1), utcDay(midnight), utcDay(midnight - 1)]).toEqual(['2026-11-23', '2026-11-24', '2026-11-23'])
  })
})
