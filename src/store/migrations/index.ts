import type { Migration, MigrationProvider } from 'kysely'
import * as initial from './2026-11-23-0600-initial.ts'
import * as peers from './2026-11-23-0700-peers.ts'
import * as groupDescriptors from './2026-11-23-0800-group-descriptors.ts'
import * as dayDigests from './2026-11-23-0900-day-digests.ts'
import * as bucketDigests from './2026-11-24-0900-bucket-digests.ts'
import * as clusteredKeys from './2026-11-25-0900-clustered-keys.ts'

/** Migrations in order, named by timestamp. Bundled in code so a node never depends on the working directory. */
export const migrations: Record<string, Migration> = {
  '2026-11-23-0600-initial': initial,
  '2026-11-23-0700-peers': peers,
  '2026-11-23-0800-group-descriptors': groupDescriptors,
  '2026-11-23-0900-day-digests': dayDigests,
  '2026-11-24-0900-bucket-digests': bucketDigests,
  '2026-11-25-0900-clustered-keys': clusteredKeys,
}

export const migrationProvider: MigrationProvider = {
  getMigrations: async () => migrations,
}
