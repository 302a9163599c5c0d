import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import {
  decodeArticle,
  encodeArticle,
  InvalidArticleError,
  MAX_ARTICLE_BYTES,
  MAX_NEWSGROUPS,
  MAX_REFERENCES,
  messageIdFromHex,
  messageIdOf,
  openArticle,
  sameBytes,
  signArticle,
  type ArticleProblem,
  type SignedArticle,
} from '../../src/article/index.ts'
import { alice, makeArticle } from '../helpers/articles.ts'
import { articleFields, authorKey } from './arbitraries.ts'

const utf8 = new TextEncoder()
const text = (bytes: Uint8Array) => new TextDecoder().decode(bytes)

/** Splits canonical bytes into header lines and body, to build variants of an article by hand. */
function parts(article: SignedArticle): { headers: string[]; body: string } {
  const all = text(article.bytes)
  const split = all.indexOf('\n\n')
  return { headers: all.slice(0, split).split('\n'), body: all.slice(split + 2) }
}

function assemble(headers: readonly string[], body: string): Uint8Array {
  return utf8.encode(`${headers.join('\n')}\n\n${body}`)
}

/** The article's bytes with one header's value replaced (the header must be present). */
function withHeader(article: SignedArticle, name: string, value: string): Uint8Array {
  const { headers, body } = parts(article)
  const at = headers.findIndex((h) => h.startsWith(`${name}: `))
  if (at < 0) throw new Error(`no ${name} header`)
  headers[at] = `${name}: ${value}`
  return assemble(headers, body)
}

function problemOf(run: () => unknown): ArticleProblem | 'accepted' {
  try {
    run()
    return 'accepted'
  } catch (err) {
    if (err instanceof InvalidArticleError) return err.problem
    throw err
  }
}

describe('canonical encoding round trip', () => {
  it('decodes every signed article to the same fields, bytes and Message-ID', () => {
    fc.assert(
      fc.property(articleFields, authorKey, (fields, key) => {
        const signed = signArticle(fields, key)
        const decoded = decodeArticle(signed.bytes)
        expect(decoded.newsgroups).toEqual(fields.newsgroups)
        expect(decoded.subject).toBe(fields.subject)
        expect(decoded.from).toBe(fields.from)
        expect(decoded.date).toBe(fields.date)
        expect(decoded.references).toEqual(fields.references)
        expect(decoded.body).toBe(fields.body)
        expect(decoded.authorKey).toBe(key.publicKey)
        expect(decoded.signature).toBe(signed.signature)
        expect(sameBytes(decoded.bytes, signed.bytes)).toBe(true)
        expect(decoded.id).toBe(signed.id)
        expect(decoded.id).toBe(messageIdOf(signed.bytes))
        // The signature made by signArticle is one openArticle accepts.
        expect(openArticle(signed.bytes).id).toBe(signed.id)
      }),
      { numRuns: 300 },
    )
  })

  it('encodes the documented header order with References omitted when empty', () => {
    const root = makeArticle({ subject: 'Order', body: 'b' })
    const reply = makeArticle({ parent: root })
    expect(parts(root).headers.map((h) => h.slice(0, h.indexOf(':')))).toEqual(['Newsgroups', 'Subject', 'From', 'Date', 'Author-Key', 'Signature'])
    expect(parts(reply).headers.map((h) => h.slice(0, h.indexOf(':')))).toEqual([
      'Newsgroups',
      'Subject',
      'From',
      'Date',
      'References',
      'Author-Key',
      'Signature',
    ])
  })
})

type Mutation = (bytes: Uint8Array) => Uint8Array

const splice = (bytes: Uint8Array, at: number, remove: number, insert: readonly number[] = []) =>
  Uint8Array.from([...bytes.subarray(0, at), ...insert, ...bytes.subarray(at + remove)])

/** Ways a relay, an editor or an attacker could change canonical bytes. Each yields bytes that differ from the input. */
const mutation: fc.Arbitrary<{ name: string; apply: Mutation }> = fc.oneof(
  fc.record({ at: fc.nat(), xor: fc.integer({ min: 1, max: 255 }) }).map(({ at, xor }) => ({
    name: `flip byte ${at} with ${xor}`,
    apply: (b: Uint8Array) => {
      const copy = Uint8Array.from(b)
      copy[at % b.length]! ^= xor
      return copy
    },
  })),
  fc.record({ at: fc.nat(), byte: fc.integer({ min: 0, max: 255 }) }).map(({ at, byte }) => ({
    name: `insert ${byte} at ${at}`,
    apply: (b: Uint8Array) => splice(b, at % (b.length + 1), 0, [byte]),
  })),
  fc.nat().map((at) => ({ name: `remove byte ${at}`, apply: (b: Uint8Array) => splice(b, at % b.length, 1) })),
  fc.constant({ name: 'CRLF line ends', apply: (b: Uint8Array) => utf8.encode(text(b).replaceAll('\n', '\r\n')) }),
  fc.nat().map((n) => ({
    name: `one CRLF at the ${n}th LF`,
    apply: (b: Uint8Array) => {
      const lfs = [...b.keys()].filter((i) => b[i] === 0x0a)
      return splice(b, lfs[n % lfs.length]!, 0, [0x0d])
    },
  })),
  fc.record({ i: fc.nat(), j: fc.nat() }).map(({ i, j }) => ({
    name: `swap header lines ${i} and ${j}`,
    apply: (b: Uint8Array) => {
      const { headers, body } = splitText(b)
      const a = i % headers.length
      let c = j % headers.length
      if (c === a) c = (a + 1) % headers.length
      ;[headers[a], headers[c]] = [headers[c]!, headers[a]!]
      return assemble(headers, body)
    },
  })),
  fc.record({ i: fc.nat(), j: fc.nat() }).map(({ i, j }) => ({
    name: `repeat header line ${i} at ${j}`,
    apply: (b: Uint8Array) => {
      const { headers, body } = splitText(b)
      headers.splice(j % (headers.length + 1), 0, headers[i % headers.length]!)
      return assemble(headers, body)
    },
  })),
  fc.uint8Array({ minLength: 1, maxLength: 8 }).map((tail) => ({
    name: `trailing bytes ${Buffer.from(tail).toString('hex')}`,
    apply: (b: Uint8Array) => Uint8Array.from([...b, ...tail]),
  })),
  fc.constant({ name: 'a UTF-8 BOM', apply: (b: Uint8Array) => Uint8Array.from([0xef, 0xbb, 0xbf, ...b]) }),
  fc.nat().map((at) => ({ name: `a space at ${at}`, apply: (b: Uint8Array) => splice(b, at % (b.length + 1), 0, [0x20]) })),
  fc.record({ line: fc.nat(), where: fc.constantFrom('before colon', 'after colon', 'line end', 'line start') }).map(({ line, where }) => ({
    name: `a space ${where} of header ${line}`,
    apply: (b: Uint8Array) => {
      const { headers, body } = splitText(b)
      const at = line % headers.length
      const h = headers[at]!
      const colon = h.indexOf(':')
      headers[at] =
        where === 'before colon'
          ? `${h.slice(0, colon)} ${h.slice(colon)}`
          : where === 'after colon'
            ? `${h.slice(0, colon + 1)} ${h.slice(colon + 1)}`
            : where === 'line end'
              ? `${h} `
              : ` ${h}`
      return assemble(headers, body)
    },
  })),
)

function splitText(bytes: Uint8Array): { headers: string[]; body: string } {
  const all = text(bytes)
  const split = all.indexOf('\n\n')
  return { headers: all.slice(0, split).split('\n'), body: all.slice(split + 2) }
}

describe('non-canonical input', () => {
  it('either refuses mutated bytes or decodes them to an article whose bytes are exactly the input', () => {
    fc.assert(
      fc.property(articleFields, authorKey, fc.array(mutation, { minLength: 1, maxLength: 3 }), (fields, key, mutations) => {
        const signed = signArticle(fields, key)
        const mutated = mutations.reduce((b, m) => m.apply(b), signed.bytes)
        let decoded: SignedArticle | undefined
        try {
          decoded = decodeArticle(mutated)
        } catch (err) {
          // Anything but the typed error (a TypeError, a RangeError) would be a parser bug.
          expect(err).toBeInstanceOf(InvalidArticleError)
        }
        if (decoded) {
          expect(sameBytes(decoded.bytes, mutated)).toBe(true)
          expect(decoded.id).toBe(messageIdOf(mutated))
        }
        if (!sameBytes(mutated, signed.bytes)) {
          expect(() => openArticle(mutated)).toThrow(InvalidArticleError)
        }
      }),
      { numRuns: 500 },
    )
  })

  it('refuses the canonical bytes with CRLF line ends, a BOM or a trailing newline', () => {
    const article = makeArticle({ body: 'one\ntwo' })
    expect(problemOf(() => decodeArticle(utf8.encode(text(article.bytes).replaceAll('\n', '\r\n'))))).not.toBe('accepted')
    expect(problemOf(() => decodeArticle(Uint8Array.from([0xef, 0xbb, 0xbf, ...article.bytes])))).not.toBe('accepted')
    // A trailing newline is canonical text of another body, so it decodes, but it is a different article that the signature does not cover.
    const trailing = Uint8Array.from([...article.bytes, 0x0a])
    expect(problemOf(() => openArticle(trailing))).toBe('bad-signature')
  })
})

describe('refusal reasons', () => {
  const article = makeArticle({ subject: 'Reasons', body: 'A body.' })
  const reply = makeArticle({ parent: article })

  it('refuses an article over 64 KiB as too-large, before decoding it', () => {
    const big = new Uint8Array(MAX_ARTICLE_BYTES + 1).fill(0x61)
    expect(problemOf(() => decodeArticle(big))).toBe('too-large')
    expect(problemOf(() => makeArticle({ body: 'x'.repeat(MAX_ARTICLE_BYTES) }))).toBe('too-large')
  })

  it('accepts an article of exactly 64 KiB', () => {
    const base = makeArticle({ body: 'x', date: Date.UTC(2026, 0, 1) })
    const body = 'x'.repeat(MAX_ARTICLE_BYTES - base.bytes.length + 1)
    const full = makeArticle({ body, date: Date.UTC(2026, 0, 1) })
    expect(full.bytes.length).toBe(MAX_ARTICLE_BYTES)
    expect(openArticle(full.bytes).id).toBe(full.id)
  })

  it('refuses bytes that are not UTF-8 as not-utf8', () => {
    const { headers } = parts(article)
    for (const bad of [[0xff], [0xc0, 0xaf], [0xed, 0xa0, 0x80], [0xe2, 0x82]]) {
      const bytes = Uint8Array.from([...assemble(headers, 'body '), ...bad])
      expect(problemOf(() => decodeArticle(bytes))).toBe('not-utf8')
    }
  })

  it('refuses an article with a required header missing as bad-header', () => {
    for (const name of ['Newsgroups', 'Subject', 'From', 'Date', 'Author-Key', 'Signature']) {
      const { headers, body } = parts(article)
      const bytes = assemble(
        headers.filter((h) => !h.startsWith(`${name}: `)),
        body,
      )
      expect(
        problemOf(() => decodeArticle(bytes)),
        name,
      ).toBe('bad-header')
    }
  })

  it('refuses an unknown header as bad-header', () => {
    const { headers, body } = parts(article)
    headers.splice(2, 0, 'X-Trace: somewhere')
    expect(problemOf(() => decodeArticle(assemble(headers, body)))).toBe('bad-header')
  })

  it('refuses an article without the empty line or with a line that is not a header as malformed', () => {
    const { headers } = parts(article)
    expect(problemOf(() => decodeArticle(utf8.encode(headers.join('\n'))))).toBe('malformed')
    expect(problemOf(() => decodeArticle(assemble([...headers.slice(0, 2), 'no colon here', ...headers.slice(2)], 'b')))).toBe('malformed')
  })

  it('refuses a repeated or reordered header as non-canonical', () => {
    const { headers, body } = parts(article)
    expect(problemOf(() => decodeArticle(assemble([headers[0]!, headers[0]!, ...headers.slice(1)], body)))).toBe('non-canonical')
    expect(problemOf(() => decodeArticle(assemble([headers[1]!, headers[0]!, ...headers.slice(2)], body)))).toBe('non-canonical')
  })

  it('refuses an empty or space-padded subject as bad-subject', () => {
    expect(problemOf(() => decodeArticle(withHeader(article, 'Subject', '')))).toBe('bad-subject')
    expect(problemOf(() => decodeArticle(withHeader(article, 'Subject', '   ')))).toBe('bad-subject')
    expect(problemOf(() => decodeArticle(withHeader(article, 'Subject', ' padded')))).toBe('bad-subject')
  })

  it('refuses control characters in headers and the body', () => {
    expect(problemOf(() => decodeArticle(withHeader(article, 'Subject', 'bell \u0007')))).toBe('bad-subject')
    expect(problemOf(() => decodeArticle(withHeader(article, 'Subject', 'esc \u001b[31m red')))).toBe('bad-subject')
    expect(problemOf(() => decodeArticle(withHeader(article, 'From', 'C1 \u0085 name')))).toBe('bad-from')
    const { headers } = parts(article)
    expect(problemOf(() => decodeArticle(assemble(headers, 'nul \u0000 inside')))).toBe('bad-body')
    expect(problemOf(() => decodeArticle(assemble(headers, 'cr \r inside')))).toBe('bad-body')
    expect(problemOf(() => decodeArticle(assemble(headers, 'del \u007f inside')))).toBe('bad-body')
  })

  it('refuses bidirectional override characters in From and Subject', () => {
    for (const c of ['\u202e', '\u202a', '\u2066', '\u2069']) {
      expect(problemOf(() => decodeArticle(withHeader(article, 'From', `Ada${c}nimda`)))).toBe('bad-from')
      expect(problemOf(() => decodeArticle(withHeader(article, 'Subject', `invoice${c}fdp.exe`)))).toBe('bad-subject')
    }
  })

  it('refuses a bad group name, more than five groups and a repeated group as bad-group', () => {
    for (const bad of ['Comp.Lang', 'single', 'comp..lang', 'comp.lang.', 'comp lang.x', 'comp.lang,', '']) {
      expect(
        problemOf(() => decodeArticle(withHeader(article, 'Newsgroups', bad))),
        bad,
      ).toBe('bad-group')
    }
    const six = Array.from({ length: MAX_NEWSGROUPS + 1 }, (_, i) => `test.g${i}`).join(',')
    expect(problemOf(() => decodeArticle(withHeader(article, 'Newsgroups', six)))).toBe('bad-group')
    const five = Array.from({ length: MAX_NEWSGROUPS }, (_, i) => `test.g${i}`).join(',')
    // Five groups are fine as far as the groups go; only the signature is wrong now.
    expect(problemOf(() => openArticle(withHeader(article, 'Newsgroups', five)))).toBe('bad-signature')
    expect(problemOf(() => decodeArticle(withHeader(article, 'Newsgroups', 'test.one,test.two,test.one')))).toBe('bad-group')
  })

  it('refuses a References entry that is not a Message-ID of this network as bad-message-id', () => {
    const good = reply.references[0]!
    for (const bad of ['<abc@example.com>', good.toUpperCase(), good.slice(1), `${good} `, `${good}  ${good}`, `${good},${good}`]) {
      expect(
        problemOf(() => decodeArticle(withHeader(reply, 'References', bad))),
        bad,
      ).not.toBe('accepted')
    }
    expect(problemOf(() => decodeArticle(withHeader(reply, 'References', '<abc@example.com>')))).toBe('bad-message-id')
    expect(problemOf(() => decodeArticle(withHeader(reply, 'References', `${good} ${good}`)))).toBe('bad-message-id')
  })

  it('refuses Date text that is not the one canonical form as bad-date', () => {
    for (const bad of [
      'Sun, 01 Nov 2026 12:00:01 GMT',
      'Sun, 1 Nov 2026 12:00:01 +0000',
      'Mon, 01 Nov 2026 12:00:01 +0000',
      'Sun, 01 Nov 2026 12:00:01 +0100',
      'Sat, 31 Nov 2026 12:00:01 +0000',
      'Sun, 01 Nov 2026 24:00:00 +0000',
      '2026-11-01T12:00:01Z',
      'Sun, 01 nov 2026 12:00:01 +0000',
    ]) {
      expect(
        problemOf(() => decodeArticle(withHeader(article, 'Date', bad))),
        bad,
      ).toBe('bad-date')
    }
  })

  it('refuses a non-canonical base64url spelling of the same Author-Key as bad-key', () => {
    const key = article.authorKey
    // The last of 43 characters carries 2 unused bits; a lenient decoder maps these spellings to the same 32 bytes.
    const last = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'
    const sibling = key.slice(0, 42) + last[last.indexOf(key[42]!) + 1]
    expect(Buffer.from(sibling, 'base64url').equals(Buffer.from(key, 'base64url'))).toBe(true)
    expect(problemOf(() => decodeArticle(withHeader(article, 'Author-Key', sibling)))).toBe('bad-key')
    expect(problemOf(() => decodeArticle(withHeader(article, 'Author-Key', `${key}=`)))).toBe('bad-key')
    expect(problemOf(() => decodeArticle(withHeader(article, 'Author-Key', Buffer.from(key, 'base64url').toString('base64'))))).not.toBe('accepted')
  })

  it('refuses a non-canonical base64url spelling of the same Signature as bad-signature', () => {
    const sig = article.signature
    // The last of 86 characters carries 4 unused bits.
    const last = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'
    const sibling = sig.slice(0, 85) + last[last.indexOf(sig[85]!) + 1]
    expect(Buffer.from(sibling, 'base64url').equals(Buffer.from(sig, 'base64url'))).toBe(true)
    expect(problemOf(() => decodeArticle(withHeader(article, 'Signature', sibling)))).toBe('bad-signature')
    expect(problemOf(() => decodeArticle(withHeader(article, 'Signature', `${sig}==`)))).toBe('bad-signature')
    expect(problemOf(() => encodeArticle(article, sibling))).toBe('bad-signature')
  })

  it('refuses to sign fields out of limits, with the same codes as decoding', () => {
    const fields = { newsgroups: article.newsgroups, subject: 'ok', from: 'Ada', date: article.date, references: [], body: 'b' }
    expect(problemOf(() => signArticle({ ...fields, subject: '' }, alice))).toBe('bad-subject')
    expect(problemOf(() => signArticle({ ...fields, from: 'Ada\u202e' }, alice))).toBe('bad-from')
    expect(problemOf(() => signArticle({ ...fields, body: ' \n\t ' }, alice))).toBe('bad-body')
    expect(problemOf(() => signArticle({ ...fields, date: fields.date + 1 }, alice))).toBe('bad-date')
    expect(problemOf(() => signArticle({ ...fields, newsgroups: [] }, alice))).toBe('bad-group')
    const ids = Array.from({ length: MAX_REFERENCES + 1 }, (_, i) => messageIdFromHex(i.toString(16).padStart(64, 'f')))
    expect(problemOf(() => signArticle({ ...fields, references: ids }, alice))).toBe('bad-message-id')
    // The longest References allowed still fits one header line.
    expect(openArticle(signArticle({ ...fields, references: ids.slice(1) }, alice).bytes).references).toHaveLength(MAX_REFERENCES)
  })
})
