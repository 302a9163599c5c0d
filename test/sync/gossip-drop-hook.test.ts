import { describe, expect, it } from 'vitest'
import { parseGroupName } from '../../src/article/index.ts'
import { createLogger } from '../../src/logger.ts'
import { canonicalChange, createGossip, groupTopic, MAX_CHANGE_BYTES, type GossipTransport, type Ingest, type IngestResult } from '../../src/sync/index.ts'
import { makeArticle } from '../helpers/articles.ts'

type Validator = (data: Uint8Array, from: string) => Promise<'accept' | 'ignore' | 'reject'>

/** Gossip over a transport that only keeps the validators, and an ingest that accepts whatever it is handed. */
function gossipWith(init: Parameters<typeof createGossip>[1]) {
  const validators = new Map<string, Validator>()
  const transport: GossipTransport = {
    joinTopic: (topic, validate) => void validators.set(topic, validate),
    leaveTopic: (topic) => void validators.delete(topic),
    publish: async () => 0,
  }
  const ingested: Uint8Array[] = []
  const ingest: Ingest = {
    async ingestChanges(changes) {
      ingested.push(...changes)
      return changes.map((): IngestResult => ({ status: 'rejected', problem: 'test', reason: 'every post is refused here' }))
    },
    onAccepted: () => () => undefined,
    expectPosts: () => undefined,
  }
  const gossip = createGossip({ transport, ingest, log: createLogger('gossip-test') }, init)
  const group = parseGroupName('test.one')
  gossip.carry(group)
  return { gossip, ingested, validate: validators.get(groupTopic(group))! }
}

describe('the test hook that drops gossip deliveries', () => {
  it('treats a dropped message as lost on the wire: Ignore, never Reject, and nothing reaches ingest', async () => {
    const { gossip, ingested, validate } = gossipWith({ testOnlyDropDelivery: () => true })
    // Even messages that would be rejected (refused by ingest, or over the size limit) are only ignored.
    expect(await validate(canonicalChange(makeArticle()), 'relay')).toBe('ignore')
    expect(await validate(new Uint8Array(MAX_CHANGE_BYTES + 1), 'relay')).toBe('ignore')
    expect(ingested).toHaveLength(0)
    expect(gossip.stats()).toEqual({ accepted: 0, duplicates: 0, ignored: 0, rejected: 0 })
    gossip.stop()
  })

  it('lets the messages it keeps, and every message when it is absent, through to the usual checks', async () => {
    const change = canonicalChange(makeArticle())
    const kept = gossipWith({ testOnlyDropDelivery: () => false })
    expect(await kept.validate(change, 'relay')).toBe('reject')
    expect(kept.ingested).toEqual([change])
    kept.gossip.stop()
    const plain = gossipWith({})
    expect(await plain.validate(change, 'relay')).toBe('reject')
    expect(plain.ingested).toEqual([change])
    plain.gossip.stop()
  })
})
