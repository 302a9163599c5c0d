export { canonicalChange, MAX_CHANGE_BYTES, readIfCanonical, type CanonicalChange } from './canonical-change.ts'
export { readCanonicalChange } from './read-change.ts'
export { InvalidChangeError, PostingError, SeedError } from './errors.ts'
export {
  createIngest,
  type AcceptedBatch,
  type AcceptedListener,
  type Ingest,
  type IngestComponents,
  type IngestOptions,
  type IngestOrigin,
  type IngestResult,
  MAX_CHANGES_PER_COMMIT,
  POOL_MIN_BATCH,
} from './ingest.ts'
export { createPoster, type NewPost, type OwnerIdentity, type Poster, type PosterComponents } from './posting.ts'
export { importSeeds, readSeeds, type SeedContent } from './seeds.ts'
export { ShardDocuments, type ShardDoc, type ShardDocumentsInit, type ShardEntry } from './shard-documents.ts'
export { DEFAULT_SHARD_CAP, shardId, utcDay } from './shard-key.ts'
export type { FrameStream, StreamTransport } from './transport.ts'
export { createGossip, groupTopic, type Gossip, type GossipInit, type GossipStats, type GossipTransport } from './gossip.ts'
export { createGroupDirectory, GROUPS_PROTOCOL, GROUPS_TOPIC, type GroupDirectory, type GroupNetwork } from './group-directory.ts'
export { type AntiEntropy, type PullOptions, createAntiEntropy, maxAnswersInFlight, SYNC_PROTOCOL, type SyncProgress } from './anti-entropy.ts'
export { MirrorError, mirrorGroup, type MirrorComponents } from './mirror.ts'
export { type CheckedChange, checkChange, createVerifyPool, defaultVerifyThreads, type VerifyPool } from './verify-pool.ts'
