import * as Automerge from '@automerge/automerge'
import fc from 'fast-check'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { composeArticle, messageIdHex, parseGroupName, type SignedArticle } from '../../src/article/index.ts'
import { changesOf, listShards } from '../../src/store/index.ts'
import { canonicalChange } from '../../src/sync/canonical-change.ts'
import { shardId, utcDay } from '../../src/sync/shard-key.ts'
import { alice, makeArticle, mallory } from '../helpers/articles.ts'
import { tempNode, type TempNode } from '../helpers/temp-store.ts'
import { loadShards } from './file-node.ts'

const CAP = 20
const DAY = Date.UTC(2026, 10, 20)
const HOUR = 3600_000

/** Deterministic posts: the same ids on every run, so the shard tree they make is known. */
function posts(count: number, { day = DAY, group = 'test.one', tag = 'post' }: { day?: number; group?: string; tag?: string } = {}): SignedArticle[] {
  return Array.from({ length: count }, (_, i) =>
    makeArticle({ group, body: `${tag} ${i} of ${count}`, subject: `${tag} ${i}`, date: day + ((i * 7919) % (24 * 3600)) * 1000 }),
  )
}

/**
 * The rule of docs/ARCHITECTURE.md, "Shards", computed independently: a set of more than `cap` ids splits
 * into 16 children by the next hex digit (empty children included), recursively.
 */
function expectedLeaves(hexIds: readonly string[], prefix = ''): Map<string, string[]> {
  if (hexIds.length <= CAP) return new Map([[prefix, [...hexIds]]])
  const out = new Map<string, string[]>()
  for (const digit of '0123456789abcdef') {
    const child = prefix + digit
    for (const [leaf, ids] of expectedLeaves(
      hexIds.filter((h) => h.startsWith(child)),
      child,
    ))
      out.set(leaf, ids)
  }
  return out
}

const changeHash = (article: SignedArticle) => Automerge.decodeChange(canonicalChange(article)).hash

async function ingestAll(node: TempNode, articles: readonly SignedArticle[], batch = articles.length): Promise<void> {
  for (let i = 0; i < articles.length; i += batch) {
    const results = await node.ingest.ingestChanges(articles.slice(i, i + batch).map(canonicalChange))
    for (const r of results) expect(['accepted', 'duplicate']).toContain(r.status)
  }
}

describe('shard rollover', () => {
  const day = posts(300)
  let node: TempNode

  beforeAll(async () => {
    node = await tempNode({ shards: { cap: CAP } })
    // Several batches, so leaves fill and split across transactions as well as within one.
    await ingestAll(node, day.slice(0, 15))
    await ingestAll(node, day.slice(15, 140))
    for (let i = 140; i < day.length; i += 9) await ingestAll(node, day.slice(i, i + 9))
  })
  afterAll(() => node.close())

  it('splits a day with more posts than the cap into prefix shards named group/day/<hex prefix>', async () => {
    const shards = await listShards(node.store.db, 'test.one')
    const dayName = utcDay(DAY)
    expect(shards.length).toBeGreaterThanOrEqual(16)
    expect(shards.some((s) => s.prefix.length >= 2)).toBe(true)
    for (const shard of shards) {
      expect(shard.day).toBe(dayName)
      expect(shard.prefix).toMatch(/^[0-9a-f]+$/)
      expect(shard.id).toBe(`test.one/${dayName}/${shard.prefix}`)
      expect(shard.id).toBe(shardId('test.one', dayName, shard.prefix))
    }
    expect(shards.find((s) => s.id === `test.one/${dayName}`)).toBeUndefined()
  })

  it('holds the shard tree the rule predicts, with no shard over the cap', async () => {
    const expected = expectedLeaves(day.map((a) => messageIdHex(a.id)))
    const loaded = await loadShards(node.store.db, 'test.one')
    expect([...loaded.values()].map((s) => s.prefix).sort()).toEqual([...expected.keys()].sort())
    for (const shard of loaded.values()) {
      expect(shard.keys.length).toBeLessThanOrEqual(CAP)
      expect(shard.postCount).toBe(shard.keys.length)
    }
  })

  it('puts every post in exactly one leaf, whose prefix starts its Message-ID hex, and loads exactly those posts', async () => {
    const loaded = await loadShards(node.store.db, 'test.one')
    const seen = new Map<string, string>()
    for (const [id, shard] of loaded) {
      const mine = day.filter((a) => messageIdHex(a.id).startsWith(shard.prefix))
      expect(shard.keys).toEqual(mine.map((a) => a.id).sort())
      // Heads are the hashes of the posts' canonical changes: nothing else is in the document.
      expect(shard.heads).toEqual(mine.map(changeHash).sort())
      for (const key of shard.keys) {
        expect(seen.has(key), `${key} is in ${seen.get(key)} and ${id}`).toBe(false)
        seen.set(key, id)
      }
    }
    expect([...seen.keys()].sort()).toEqual(day.map((a) => a.id).sort())
  })

  it('stores each post’s exact article bytes in its shard document', async () => {
    const [first] = await listShards(node.store.db, 'test.one')
    const doc = await node.shards.document(node.store.db, first!.id)
    try {
      const inside = day.filter((a) => messageIdHex(a.id).startsWith(first!.prefix))
      expect(Object.keys(doc).sort()).toEqual(inside.map((a) => a.id).sort())
      for (const article of inside) expect(Buffer.from(doc[article.id]!).equals(Buffer.from(article.bytes))).toBe(true)
    } finally {
      Automerge.free(doc)
    }
  })
  it('serves the saved change of each asked post from its leaf, skipping unknown ids and other groups’ posts', async () => {
    const other = makeArticle({ group: 'test.two', body: 'elsewhere', date: DAY })
    await ingestAll(node, [other])
    const asked = [...day.slice(0, 120), other, makeArticle({ body: 'never stored', date: DAY })]
    const served = await changesOf(
      node.store.db,
      'test.one',
      asked.map((a) => a.id),
    )
    expect(served.map((c) => Buffer.from(c).toString('hex')).sort()).toEqual(
      day
        .slice(0, 120)
        .map((a) => Buffer.from(canonicalChange(a)).toString('hex'))
        .sort(),
    )
  })
})

describe('days', () => {
  it('puts posts of different UTC days in different shards, split at midnight UTC', async () => {
    const node = await tempNode({ shards: { cap: CAP } })
    try {
      const lastSecond = makeArticle({ body: 'late', date: DAY + 24 * HOUR - 1000 })
      const midnight = makeArticle({ body: 'early', date: DAY + 24 * HOUR })
      const earlier = makeArticle({ body: 'earlier', date: DAY - 3 * 24 * HOUR + 5 * HOUR })
      await ingestAll(node, [midnight, lastSecond, earlier])
      const loaded = await loadShards(node.store.db, 'test.one')
      expect(Object.fromEntries([...loaded].map(([id, s]) => [id, s.keys]))).toEqual({
        [`test.one/${utcDay(DAY + 24 * HOUR)}`]: [midnight.id],
        [`test.one/${utcDay(DAY)}`]: [lastSecond.id],
        [`test.one/${utcDay(DAY - 3 * 24 * HOUR)}`]: [earlier.id],
      })
      expect(utcDay(DAY)).toBe('2026-11-20')
    } finally {
      await node.close()
    }
  })

  it('splits one busy day without touching the shards of other days or groups', async () => {
    const node = await tempNode({ shards: { cap: CAP } })
    try {
      const quiet = posts(5, { day: DAY - 24 * HOUR, tag: 'quiet' })
      const other = posts(5, { group: 'test.two', tag: 'other' })
      await ingestAll(node, [...quiet, ...other])
      await ingestAll(node, posts(CAP + 1, { tag: 'busy' }))
      const shards = (await listShards(node.store.db, 'test.one')).map((s) => s.id)
      expect(shards).toContain(`test.one/${utcDay(DAY - 24 * HOUR)}`)
      expect(shards.filter((id) => id.startsWith(`test.one/${utcDay(DAY)}/`))).toHaveLength(16)
      expect((await listShards(node.store.db, 'test.two')).map((s) => s.id)).toEqual([`test.two/${utcDay(DAY)}`])
    } finally {
      await node.close()
    }
  })

  it('files a crossposted post in a shard of each carried group', async () => {
    const node = await tempNode({ shards: { cap: CAP } })
    try {
      const cross = composeArticle(
        { newsgroups: [parseGroupName('test.one'), parseGroupName('test.two')], subject: 'Both', from: 'Alice', body: 'In both.', date: DAY },
        alice,
      )
      await ingestAll(node, [cross])
      for (const group of ['test.one', 'test.two']) {
        const loaded = await loadShards(node.store.db, group)
        expect([...loaded.entries()].map(([id, s]) => [id, s.keys])).toEqual([[`${group}/${utcDay(DAY)}`, [cross.id]]])
        expect(await changesOf(node.store.db, group, [cross.id])).toEqual([canonicalChange(cross)])
      }
    } finally {
      await node.close()
    }
  })
})

describe('determinism', () => {
  // Two days, two groups, crossposts, and enough posts on one day to split twice.
  const corpus = [
    ...posts(150, { tag: 'd1' }),
    ...posts(30, { day: DAY + 24 * HOUR, tag: 'd2' }),
    ...posts(12, { group: 'test.two', tag: 'g2' }),
    ...Array.from({ length: 10 }, (_, i) =>
      composeArticle(
        { newsgroups: [parseGroupName('test.two'), parseGroupName('test.one')], subject: `x ${i}`, from: 'M', body: `cross ${i}`, date: DAY + i * HOUR },
        mallory,
      ),
    ),
  ]

  async function shape(node: TempNode): Promise<Record<string, string[]>> {
    const out: Record<string, string[]> = {}
    for (const group of ['test.one', 'test.two']) for (const [id, s] of await loadShards(node.store.db, group)) out[id] = s.heads
    return out
  }

  let reference: Record<string, string[]>
  beforeAll(async () => {
    const node = await tempNode({ shards: { cap: CAP } })
    await ingestAll(node, corpus)
    reference = await shape(node)
    await node.close()
  })

  it('builds the same shard ids and Automerge heads whatever the order, batch sizes and repeats', async () => {
    expect(Object.keys(reference).length).toBeGreaterThan(16)
    await fc.assert(
      fc.asyncProperty(
        fc.shuffledSubarray(corpus, { minLength: corpus.length, maxLength: corpus.length }),
        fc.array(fc.integer({ min: 1, max: 60 }), { minLength: 1, maxLength: 10 }),
        fc.subarray(corpus, { maxLength: 20 }),
        async (order, sizes, repeats) => {
          const node = await tempNode({ shards: { cap: CAP } })
          try {
            const feed = [...order, ...repeats]
            for (let i = 0, b = 0; i < feed.length; b++) {
              const size = sizes[b % sizes.length]!
              await ingestAll(node, feed.slice(i, i + size))
              i += size
            }
            expect(await shape(node)).toEqual(reference)
          } finally {
            await node.close()
          }
        },
      ),
      { numRuns: 8 },
    )
  })
})
