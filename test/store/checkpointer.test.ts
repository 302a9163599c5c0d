import { rename, stat } from 'node:fs/promises'
import { join } from 'node:path'
import SqliteDatabase from 'better-sqlite3'
import { afterEach, describe, expect, it } from 'vitest'
import { startCheckpointer } from '../../src/store/checkpointer.ts'
import { canonicalChange } from '../../src/sync/canonical-change.ts'
import { makeArticle } from '../helpers/articles.ts'
import { tempNode, type TempNode } from '../helpers/temp-store.ts'

const autocheckpoint = (node: TempNode) => node.store.sqlite.pragma('wal_autocheckpoint', { simple: true })

describe('background checkpoints', () => {
  let node: TempNode | undefined
  afterEach(async () => {
    await node?.close()
    node = undefined
  })

  it('leaves commits to append to the log and copies the log into the database on its own thread', async () => {
    node = await tempNode()
    expect(autocheckpoint(node)).toBe(0)
    const changes = Array.from({ length: 300 }, (_, i) => canonicalChange(makeArticle({ body: `post ${i}` })))
    for (const change of changes) await node.ingest.ingestChanges([change], { origin: 'gossip' })
    const file = join(node.dir, 'node.sqlite')
    const before = (await stat(file)).size
    expect(await node.store.checkpointer.checkpointNow()).toBe(0)
    // The posts' pages are now in the database file itself, not only in the log.
    expect((await stat(file)).size).toBeGreaterThan(before)
    expect(node.store.sqlite.pragma('integrity_check', { simple: true })).toBe('ok')
  })

  it('makes a writer wait for a checkpoint once the log is past its limit, so the log starts again instead of growing', async () => {
    // 64 pages is 256 KiB; the posts below write about 75 MB of log in all, with no pause between batches.
    node = await tempNode({ checkpoints: { intervalMs: 20, maxLogPages: 64 } })
    const wal = join(node.dir, 'node.sqlite-wal')
    let largest = 0
    for (let batch = 0; batch < 120; batch++) {
      const changes = Array.from({ length: 50 }, (_, i) => canonicalChange(makeArticle({ body: `${'x'.repeat(900)} ${batch}/${i}` })))
      for (const r of await node.ingest.ingestChanges(changes, { origin: 'sync' })) expect(r.status).toBe('accepted')
      largest = Math.max(largest, (await stat(wal)).size)
    }
    // The limit plus one batch's commit (1.9 MB, the same under three CPU hogs: the writer reads the log's length
    // itself). Without the wait the same writes left a log of 15–21 MB.
    expect(largest).toBeLessThan(4 * 1024 * 1024)
    expect(node.store.sqlite.pragma('integrity_check', { simple: true })).toBe('ok')
  })

  it('goes back to checkpointing on commit when its thread cannot run, and says so', async () => {
    node = await tempNode()
    // The thread opens the database by its path: move the file away under the open connection.
    const sqlite = new SqliteDatabase(join(node.dir, 'other.sqlite'))
    sqlite.pragma('journal_mode = WAL')
    await rename(join(node.dir, 'other.sqlite'), join(node.dir, 'moved.sqlite'))
    const warnings: string[] = []
    const checkpointer = startCheckpointer(sqlite, { onError: (m) => warnings.push(m) })
    await expect.poll(() => warnings.length).toBe(1)
    expect(warnings[0]).toMatch(/background checkpoints stopped .*checkpointed on commit again/)
    expect(sqlite.pragma('wal_autocheckpoint', { simple: true })).toBe(1000)
    expect(await checkpointer.checkpointNow()).toBe(-1)
    await checkpointer.stop()
    sqlite.close()
  })
})
