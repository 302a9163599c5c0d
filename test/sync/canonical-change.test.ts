import { randomBytes } from 'node:crypto'
import * as Automerge from '@automerge/automerge'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import {
  authorKeyFromSeed,
  decodeArticle,
  hasValidSignature,
  InvalidArticleError,
  messageIdHex,
  parseGroupName,
  signArticle,
  type SignedArticle,
} from '../../src/article/index.ts'
import { canonicalChange, MAX_CHANGE_BYTES } from '../../src/sync/canonical-change.ts'
import { readCanonicalChange } from '../../src/sync/read-change.ts'
import { MAX_ARTICLE_BYTES } from '../../src/article/index.ts'
import { InvalidChangeError } from '../../src/sync/errors.ts'
import { articleFields, authorKey } from '../article/arbitraries.ts'
import { makeArticle } from '../helpers/articles.ts'

type Shard = Record<string, unknown>

const article = makeArticle({ subject: 'Carried', body: 'The one article this change may carry.' })
const actor = messageIdHex(article.id).slice(0, 32)

/** A change built by hand with Automerge: one change on a fresh document of the given actor. */
function handMade(edit: (doc: Shard) => void, { time = 0, message, by = actor }: { time?: number; message?: string; by?: string } = {}): Uint8Array {
  const doc = Automerge.change(Automerge.init<Shard>({ actor: by }), { time, ...(message === undefined ? {} : { message }) }, edit)
  const change = Automerge.getLastLocalChange(doc)!
  Automerge.free(doc)
  return change
}

/** The last of several changes made on one document (seq > 1, with dependencies). */
function lastOf(...edits: ((doc: Shard) => void)[]): Uint8Array {
  let doc = Automerge.init<Shard>({ actor })
  for (const edit of edits) doc = Automerge.change(doc, { time: 0 }, edit)
  const change = Automerge.getLastLocalChange(doc)!
  Automerge.free(doc)
  return change
}

function expectInvalidChange(change: Uint8Array): void {
  expect(() => readCanonicalChange(change)).toThrow(InvalidChangeError)
}

describe('the canonical change', () => {
  it('accepts the canonical change of a valid article and returns that article', () => {
    const read = readCanonicalChange(canonicalChange(article))
    expect(read.article.id).toBe(article.id)
    expect(Buffer.from(read.article.bytes).equals(Buffer.from(article.bytes))).toBe(true)
  })

  it('is the same bytes when built by hand as DESIGN.md describes', () => {
    const change = handMade((d) => {
      d[article.id] = article.bytes
    })
    expect(Buffer.from(change).equals(Buffer.from(canonicalChange(article)))).toBe(true)
    expect(readCanonicalChange(change).article.id).toBe(article.id)
  })

  it('is the same bytes as Automerge.change makes, for articles of every size and content', () => {
    fc.assert(
      fc.property(articleFields, authorKey, (fields, key) => {
        const random = signArticle(fields, key)
        const doc = Automerge.change(Automerge.init<Shard>({ actor: messageIdHex(random.id).slice(0, 32) }), { time: 0 }, (d) => {
          d[random.id] = random.bytes
        })
        const change = Automerge.getLastLocalChange(doc)!
        Automerge.free(doc)
        expect(Buffer.from(canonicalChange(random)).equals(Buffer.from(change))).toBe(true)
      }),
      { numRuns: 200 },
    )
  })

  it('is the same bytes as Automerge.change makes at every boundary of the length encodings, up to the largest article', () => {
    const overhead = makeArticle({ body: 'y' }).bytes.length - 1
    // A body of `n` bytes (n ≥ 1): lines of 79 characters and a newline, then the rest.
    const body = (n: number) => `${'y'.repeat(79)}\n`.repeat(Math.floor((n - 1) / 80)) + 'y'.repeat(n - 80 * Math.floor((n - 1) / 80))
    // (An article is never under 128 bytes: its headers alone are longer.)
    const lengths = [1023, 1024, 1025, 16383, 16384, 16385, MAX_ARTICLE_BYTES - 1, MAX_ARTICLE_BYTES]
    const seen = new Set<number>()
    for (const length of lengths) {
      for (let n = length - overhead - 3; n <= length - overhead + 3; n++) {
        let sized: SignedArticle
        try {
          sized = makeArticle({ body: body(Math.max(1, n)) })
        } catch {
          continue // past the size limit
        }
        const doc = Automerge.change(Automerge.init<Shard>({ actor: messageIdHex(sized.id).slice(0, 32) }), { time: 0 }, (d) => {
          d[sized.id] = sized.bytes
        })
        const change = Automerge.getLastLocalChange(doc)!
        Automerge.free(doc)
        expect(Buffer.from(canonicalChange(sized)).toString('hex')).toBe(Buffer.from(change).toString('hex'))
        seen.add(sized.bytes.length)
      }
    }
    // Every boundary was met exactly (the largest article is the limit itself).
    for (const length of lengths) expect(seen.has(length)).toBe(true)
  })

  it('has the documented shape: actor from the Message-ID, seq 1, time 0, no message, no deps, one put', () => {
    const decoded = Automerge.decodeChange(canonicalChange(article))
    expect(decoded).toMatchObject({ actor, seq: 1, time: 0, message: null, deps: [] })
    expect(decoded.ops).toHaveLength(1)
    expect(decoded.ops[0]).toMatchObject({ action: 'set', obj: '_root', key: article.id })
  })
})

describe('changes other than the one allowed put', () => {
  it('rejects a change with a second op on another key', () => {
    expectInvalidChange(
      handMade((d) => {
        d[article.id] = article.bytes
        d['extra'] = 1
      }),
    )
  })

  it('rejects a change that puts a second article beside the first', () => {
    const other = makeArticle({ body: 'Riding along.' })
    expectInvalidChange(
      handMade((d) => {
        d[article.id] = article.bytes
        d[other.id] = other.bytes
      }),
    )
  })

  it('rejects a change that files the article under a key other than its Message-ID', () => {
    const other = makeArticle({ body: 'Another id.' })
    expectInvalidChange(
      handMade((d) => {
        d[other.id] = article.bytes
      }),
    )
    expectInvalidChange(
      handMade((d) => {
        d['latest'] = article.bytes
      }),
    )
  })

  it('rejects the right key with the article as a string instead of bytes', () => {
    const asText = new TextDecoder().decode(article.bytes)
    expectInvalidChange(
      handMade((d) => {
        d[article.id] = new Automerge.ImmutableString(asText)
      }),
    )
    // A plain string becomes a text object with one op per character.
    expectInvalidChange(
      handMade((d) => {
        d[article.id] = asText
      }),
    )
  })

  it('rejects a nested map, list or text object under the key', () => {
    expectInvalidChange(
      handMade((d) => {
        d[article.id] = { bytes: article.bytes }
      }),
    )
    expectInvalidChange(
      handMade((d) => {
        d[article.id] = {}
      }),
    )
    expectInvalidChange(
      handMade((d) => {
        d[article.id] = [article.bytes]
      }),
    )
    expectInvalidChange(
      handMade((d) => {
        d[article.id] = ''
      }),
    )
  })

  it('rejects a delete of the article', () => {
    expectInvalidChange(
      lastOf(
        (d) => {
          d[article.id] = article.bytes
        },
        (d) => {
          delete d[article.id]
        },
      ),
    )
  })

  it('rejects a counter and a counter increment', () => {
    expectInvalidChange(
      handMade((d) => {
        d[article.id] = new Automerge.Counter(1)
      }),
    )
    expectInvalidChange(
      lastOf(
        (d) => {
          d[article.id] = new Automerge.Counter(1)
        },
        (d) => {
          ;(d[article.id] as Automerge.Counter).increment(5)
        },
      ),
    )
  })

  it('rejects the right put with a non-zero time', () => {
    expectInvalidChange(
      handMade(
        (d) => {
          d[article.id] = article.bytes
        },
        { time: 1 },
      ),
    )
    expectInvalidChange(
      handMade(
        (d) => {
          d[article.id] = article.bytes
        },
        { time: article.date / 1000 },
      ),
    )
  })

  it('rejects the right put with a message', () => {
    expectInvalidChange(
      handMade(
        (d) => {
          d[article.id] = article.bytes
        },
        { message: 'hello' },
      ),
    )
  })

  it('rejects the right put made by another actor', () => {
    expectInvalidChange(
      handMade(
        (d) => {
          d[article.id] = article.bytes
        },
        { by: randomBytes(16).toString('hex') },
      ),
    )
    // The actor of another article: an attacker pre-empting that article's seq 1.
    const other = makeArticle({ body: 'Victim.' })
    expectInvalidChange(
      handMade(
        (d) => {
          d[article.id] = article.bytes
        },
        { by: messageIdHex(other.id).slice(0, 32) },
      ),
    )
  })

  it('rejects the right put as seq 2 after another change of the same actor', () => {
    expectInvalidChange(
      lastOf(
        (d) => {
          d['x'] = 1
        },
        (d) => {
          d[article.id] = article.bytes
        },
      ),
    )
  })

  it('rejects the right put with seq 1 but a dependency on another actor’s change', () => {
    const other = Automerge.change(Automerge.init<Shard>({ actor: 'cd'.repeat(16) }), { time: 0 }, (d) => {
      d['x'] = 1
    })
    let doc = Automerge.merge(Automerge.init<Shard>({ actor }), other)
    doc = Automerge.change(doc, { time: 0 }, (d) => {
      d[article.id] = article.bytes
    })
    const change = Automerge.getLastLocalChange(doc)!
    expect(Automerge.decodeChange(change)).toMatchObject({ seq: 1, actor })
    expect(Automerge.decodeChange(change).deps).toHaveLength(1)
    expectInvalidChange(change)
  })

  it('rejects garbage bytes', () => {
    expectInvalidChange(new Uint8Array(0))
    expectInvalidChange(new TextEncoder().encode('hello, I am not a change'))
    expectInvalidChange(article.bytes)
    expectInvalidChange(Uint8Array.from({ length: 600 }, (_, i) => (i * 7919) % 256))
  })

  it('rejects truncated change bytes and a change with bytes appended', () => {
    const change = canonicalChange(article)
    for (const length of [1, 8, 20, change.length / 2, change.length - 1]) expectInvalidChange(change.subarray(0, Math.floor(length)))
    expectInvalidChange(Uint8Array.from([...change, 0]))
  })

  it('rejects a change with a flipped byte', () => {
    const change = canonicalChange(article)
    for (let at = 0; at < change.length; at += 13) {
      const flipped = Uint8Array.from(change)
      flipped[at]! ^= 0x01
      expect(() => readCanonicalChange(flipped)).toThrow()
      try {
        readCanonicalChange(flipped)
      } catch (err) {
        // Either the change is not canonical, or the flip landed in the article, which is then refused.
        expect(err instanceof InvalidChangeError || err instanceof InvalidArticleError).toBe(true)
      }
    }
  })

  it('rejects an oversized change before decoding it', () => {
    expectInvalidChange(new Uint8Array(MAX_CHANGE_BYTES + 1))
    const big = handMade((d) => {
      d[article.id] = new Uint8Array(MAX_CHANGE_BYTES)
    })
    expect(big.length).toBeGreaterThan(MAX_CHANGE_BYTES)
    expectInvalidChange(big)
  })
})

describe('changes that carry a bad article', () => {
  it('rejects the canonical-shaped change of non-canonical article bytes with InvalidArticleError', () => {
    const bytes = Uint8Array.from([...article.bytes.subarray(0, 10), 0x20, ...article.bytes.subarray(10)])
    const change = handMade((d) => {
      d[article.id] = bytes
    })
    expect(() => readCanonicalChange(change)).toThrow(InvalidArticleError)
  })

  it('rejects a change carrying bytes that are not an article with InvalidArticleError', () => {
    const change = handMade((d) => {
      d[article.id] = new Uint8Array([1, 2, 3])
    })
    expect(() => readCanonicalChange(change)).toThrow(InvalidArticleError)
  })

  it('reads a forged but canonical article without verifying it (ingest verifies the signature last)', () => {
    const tampered = new TextEncoder().encode(new TextDecoder().decode(article.bytes).replace('The one article', 'A forged article'))
    const forged = decodeArticle(tampered)
    const read = readCanonicalChange(canonicalChange(forged))
    expect(read.article.authorKey).toBe(article.authorKey)
    expect(read.article.id).not.toBe(article.id)
    expect(hasValidSignature(read.article)).toBe(false)
  })
})

describe('golden fixture', () => {
  // DESIGN.md, "Pin the encoder": the canonical change bytes are what the pinned Automerge produces. If this
  // fails after an Automerge upgrade, nodes on the two versions would reject each other's posts: treat the
  // upgrade as a protocol version change, do not update these bytes.
  function goldenArticle(): SignedArticle {
    return signArticle(
      {
        newsgroups: [parseGroupName('p2p.general'), parseGroupName('comp.lang.typescript')],
        subject: 'Golden fixture: ünïcödé ✓',
        from: 'Ada Lovelace',
        date: Date.UTC(2026, 10, 23, 5, 41, 17),
        references: [],
        body: "This article's canonical change is pinned.\nAn Automerge upgrade that changes it is a protocol change.",
      },
      authorKeyFromSeed(Uint8Array.from({ length: 32 }, (_, i) => i)),
    )
  }

  it('signs the fixed article to the recorded Message-ID', () => {
    expect(goldenArticle().id).toBe(GOLDEN_ID)
  })

  it('builds exactly the recorded change bytes', () => {
    expect(Buffer.from(canonicalChange(goldenArticle())).toString('hex')).toBe(GOLDEN_CHANGE_HEX)
  })

  it('accepts the recorded change bytes as canonical', () => {
    const read = readCanonicalChange(Buffer.from(GOLDEN_CHANGE_HEX, 'hex'))
    expect(read.article.id).toBe(GOLDEN_ID)
    expect(read.article.from).toBe('Ada Lovelace')
  })
})

const GOLDEN_ID = '<ccbc129863677808973a4a5214433e127c788e8048f4dcb418744852a3022f17@usenet-p2p>'
/** Recorded once from canonicalChange(goldenArticle()) with @automerge/automerge 3.5.0. */
const GOLDEN_CHANGE_HEX = [
  '856f4a8331ca30e9018b040010ccbc129863677808973a4a5214433e12010100000006154f340142025603578f0370027f4d3c63636263313239383633363737',
  '383038393733613461353231343433336531323763373838653830343866346463623431383734343835326133303232663137407573656e65742d7032703e01',
  '7f017ff7314e65777367726f7570733a207032702e67656e6572616c2c636f6d702e6c616e672e747970657363726970740a5375626a6563743a20476f6c6465',
  '6e20666978747572653a20c3bc6ec3af63c3b664c3a920e29c930a46726f6d3a20416461204c6f76656c6163650a446174653a204d6f6e2c203233204e6f7620',
  '323032362030353a34313a3137202b303030300a417574686f722d4b65793a2041364548765f504f454c3464634e3059353076416d57666b316a436270513166',
  '486479475a424a564d62670a5369676e61747572653a20585374365f74415050364969435f622d74744f70574f55524f7734654e62416c32476e513936656864',
  '69774d2d516b347165374946535975493759756246767a4b47502d2d536370787961754e51553330736f6742410a0a546869732061727469636c652773206361',
  '6e6f6e6963616c206368616e67652069732070696e6e65642e0a416e204175746f6d6572676520757067726164652074686174206368616e6765732069742069',
  '7320612070726f746f636f6c206368616e67652e7f00',
].join('')
