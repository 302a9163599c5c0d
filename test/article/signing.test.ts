import { createHash, sign } from 'node:crypto'
import { join } from 'node:path'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import {
  authorKeyFromSeed,
  decodeArticle,
  encodeArticle,
  hasValidSignature,
  InvalidArticleError,
  keyFingerprint,
  MAX_REFERENCES,
  messageIdOf,
  openArticle,
  replyReferences,
  signArticle,
  signingInput,
  signingInputOf,
  threadRootOf,
  type SignedArticle,
} from '../../src/article/index.ts'
import { readSeeds } from '../../src/sync/seeds.ts'
import { alice, makeArticle, mallory } from '../helpers/articles.ts'
import { articleFields, authorKey } from './arbitraries.ts'

const utf8 = new TextEncoder()
const text = (bytes: Uint8Array) => new TextDecoder().decode(bytes)

/** Canonical bytes of the article with one header's value replaced; the signature stays as it was. */
function withHeader(article: SignedArticle, name: string, value: string): Uint8Array {
  return utf8.encode(
    text(article.bytes)
      .split('\n')
      .map((line, i, all) => (i < all.indexOf('') && line.startsWith(`${name}: `) ? `${name}: ${value}` : line))
      .join('\n'),
  )
}

function expectForged(bytes: Uint8Array): void {
  // Still canonical, so only the signature check can catch it.
  const decoded = decodeArticle(bytes)
  expect(hasValidSignature(decoded)).toBe(false)
  try {
    openArticle(bytes)
    expect.unreachable('openArticle accepted a forged article')
  } catch (err) {
    expect(err).toBeInstanceOf(InvalidArticleError)
    expect((err as InvalidArticleError).problem).toBe('bad-signature')
  }
}

describe('signature forgery', () => {
  const original = makeArticle({ subject: 'Meet at noon', body: 'See you at noon.\n-- Alice' })

  it('accepts the untouched article', () => {
    expect(openArticle(original.bytes).id).toBe(original.id)
  })

  it('rejects a body tampered with after signing', () => {
    const { body } = original
    const bytes = utf8.encode(text(original.bytes).slice(0, -body.length) + body.replace('noon', 'midnight'))
    expectForged(bytes)
    // One appended character is enough.
    expectForged(Uint8Array.from([...original.bytes, 0x21]))
  })

  it('rejects a tampered subject', () => {
    expectForged(withHeader(original, 'Subject', 'Meet at midnight'))
  })

  it('rejects the Author-Key swapped to another key with the original signature', () => {
    expectForged(withHeader(original, 'Author-Key', mallory.publicKey))
  })

  it('rejects an article re-signed by another key while claiming the first key', () => {
    const claimed = { ...original, body: 'Send the money to Mallory.' }
    const signature = sign(null, signingInput(claimed), mallory.privateKey).toString('base64url')
    const forged = encodeArticle(claimed, signature)
    expect(forged.authorKey).toBe(alice.publicKey)
    expectForged(forged.bytes)
  })

  it("rejects another article's signature", () => {
    const other = makeArticle({ subject: 'Other', body: 'Something else.' })
    expectForged(withHeader(original, 'Signature', other.signature))
  })

  it('rejects tampering with any signed header or the body, as a property', () => {
    fc.assert(
      fc.property(
        articleFields,
        authorKey,
        articleFields,
        fc.constantFrom('subject', 'from', 'date', 'body', 'newsgroups', 'references'),
        (a, key, b, field) => {
          const signed = signArticle(a, key)
          const changed = { ...signed, [field]: b[field] }
          fc.pre(JSON.stringify(changed[field]) !== JSON.stringify(signed[field]))
          let forged: SignedArticle
          try {
            forged = encodeArticle(changed, signed.signature)
          } catch {
            // The other fields make the article too long: nothing to forge.
            return
          }
          expectForged(forged.bytes)
        },
      ),
      { numRuns: 200 },
    )
  })
})

describe('valid signatures', () => {
  it('verifies every seed article signed with the seed authors’ keys', async () => {
    const seeds = await readSeeds(join(import.meta.dirname, '../../seeds'))
    expect(seeds.articles.length).toBeGreaterThan(0)
    for (const article of seeds.articles) {
      expect(hasValidSignature(article)).toBe(true)
      expect(openArticle(article.bytes).id).toBe(article.id)
    }
    // Reading the seeds again signs them again: Ed25519 is deterministic, so every node gets the same ids.
    const again = await readSeeds(join(import.meta.dirname, '../../seeds'))
    expect(again.articles.map((a) => a.id)).toEqual(seeds.articles.map((a) => a.id))
  })

  it('gives the same key, bytes and Message-ID for the same seed and fields', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 32, maxLength: 32 }), articleFields, (seed, fields) => {
        const first = signArticle(fields, authorKeyFromSeed(seed))
        const second = signArticle(fields, authorKeyFromSeed(Uint8Array.from(seed)))
        expect(second.authorKey).toBe(first.authorKey)
        expect(second.id).toBe(first.id)
        expect(openArticle(first.bytes).authorKey).toBe(authorKeyFromSeed(seed).publicKey)
      }),
      { numRuns: 100 },
    )
  })
})

describe('the signing input cut from the bytes', () => {
  it('is exactly the signing input encoded from the fields, with and without References', () => {
    fc.assert(
      fc.property(authorKey, articleFields, (key, fields) => {
        const article = signArticle(fields, key)
        expect(Buffer.from(signingInputOf(article)).equals(Buffer.from(signingInput(article)))).toBe(true)
        const decoded = decodeArticle(article.bytes)
        expect(Buffer.from(signingInputOf(decoded)).equals(Buffer.from(signingInput(decoded)))).toBe(true)
      }),
      { numRuns: 200 },
    )
  })

  it('is cut from a decoded article whose bytes came as a view of a larger buffer', () => {
    const article = makeArticle({ body: 'In a packed batch.' })
    const pool = Buffer.concat([Buffer.from('\n\nSignature: before'), article.bytes, Buffer.from('\n\nafter')])
    const decoded = decodeArticle(pool.subarray(19, 19 + article.bytes.length))
    expect(decoded.bytes.byteOffset).toBe(0)
    expect(decoded.bytes.byteLength).toBe(article.bytes.byteLength)
    expect(hasValidSignature(decoded)).toBe(true)
  })
})

describe('Message-ID', () => {
  const article = makeArticle({ body: 'Content addressed.' })

  it('is the SHA-256 of the canonical bytes', () => {
    expect(article.id).toBe(`<${createHash('sha256').update(article.bytes).digest('hex')}@usenet-p2p>`)
  })

  it('changes when any byte changes', () => {
    fc.assert(
      fc.property(fc.nat(article.bytes.length - 1), fc.integer({ min: 1, max: 255 }), (at, xor) => {
        const changed = Uint8Array.from(article.bytes)
        changed[at]! ^= xor
        expect(messageIdOf(changed)).not.toBe(article.id)
      }),
      { numRuns: 300 },
    )
  })

  it('differs for articles that differ only in one field', () => {
    const date = Date.UTC(2026, 5, 1)
    const base = makeArticle({ body: 'same', date })
    expect(makeArticle({ body: 'Same', date }).id).not.toBe(base.id)
    expect(makeArticle({ body: 'same', date: date + 1000 }).id).not.toBe(base.id)
    expect(makeArticle({ body: 'same', date, key: mallory }).id).not.toBe(base.id)
    expect(makeArticle({ body: 'same', date }).id).toBe(base.id)
  })
})

describe('replyReferences', () => {
  it('keeps the root first, the newest ancestors after it, and at most MAX_REFERENCES ids, at any depth', () => {
    const chain = [makeArticle({ subject: 'Deep thread' })]
    for (let depth = 1; depth <= 3 * MAX_REFERENCES; depth++) {
      // Composing the reply must work at every depth: the References line has to fit the header limit.
      const reply = makeArticle({ parent: chain.at(-1)! })
      expect(openArticle(reply.bytes).id).toBe(reply.id)
      const refs = reply.references
      const ancestors = chain.map((a) => a.id)
      expect(refs.length).toBe(Math.min(depth, MAX_REFERENCES))
      expect(refs[0]).toBe(chain[0]!.id)
      expect(threadRootOf(reply)).toBe(chain[0]!.id)
      expect(refs.at(-1)).toBe(chain.at(-1)!.id)
      expect(refs.slice(1)).toEqual(ancestors.slice(ancestors.length - (refs.length - 1)))
      chain.push(reply)
    }
  })

  it('returns the parent alone for a reply to a thread root', () => {
    const root = makeArticle()
    expect(replyReferences(root)).toEqual([root.id])
  })
})

describe('keyFingerprint', () => {
  it('is stable for a key across calls and key derivations', () => {
    const again = authorKeyFromSeed(new Uint8Array(32).fill(1))
    expect(keyFingerprint(alice.publicKey)).toBe(keyFingerprint(again.publicKey))
    expect(keyFingerprint(alice.publicKey)).toMatch(/^[0-9a-f]{8}$/)
  })

  it('does not change between versions (people recognise authors by it)', () => {
    // Recorded from this implementation; changing it would relabel every author on every node.
    expect(keyFingerprint(alice.publicKey)).toBe(ALICE_FINGERPRINT)
  })

  it('tells different keys apart', () => {
    const prints = new Set(Array.from({ length: 200 }, (_, i) => keyFingerprint(authorKeyFromSeed(new Uint8Array(32).fill(i)).publicKey)))
    expect(prints.size).toBe(200)
  })
})

const ALICE_FINGERPRINT = 'a38dcb41'
