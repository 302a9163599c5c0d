/**
 * Server time to render a group page and a 200-post thread with 10k and 100k posts stored, and the RSS of a
 * node holding 100k posts. Stores are built through the full ingest path; each measurement runs in a fresh
 * process (bench/render-worker.ts) so its RSS is a serving node's, not the builder's.
 *
 *   npm run bench:render [-- --sizes 10000,100000]
 */
import { execFileSync } from 'node:child_process'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { messageIdHex, parseGroupName } from '../src/article/index.ts'
import { createLogger } from '../src/logger.ts'
import { addGroup, openStore } from '../src/store/index.ts'
import { canonicalChange, createIngest, ShardDocuments } from '../src/sync/index.ts'
import { makeCorpus, rssMiB, tempDir } from './lib.ts'

const { values } = parseArgs({ options: { sizes: { type: 'string', default: '10000,100000' } } })
const GROUP = 'bench.render'

for (const size of values.sizes.split(',').map(Number)) {
  const tmp = await tempDir(`bench-render-${size}-`)
  const path = join(tmp.dir, 'node.sqlite')
  const store = await openStore(path)
  await addGroup(store.db, { name: parseGroupName(GROUP), description: 'bench', createdAt: 0 })
  const ingest = createIngest({ db: store.db, shards: new ShardDocuments(), log: createLogger('bench') })
  // One thread of 200 posts first, then threads of 1 to 20 posts, over 200 days.
  const t0 = performance.now()
  const big = makeCorpus({ group: GROUP, posts: 200, threadSize: () => 200, days: 2 })
  const rest = makeCorpus({ group: GROUP, posts: size - 200, threadSize: (i) => 1 + (i % 20), days: 200 })
  let ingested = 0
  for (const part of [big, rest]) {
    for (let i = 0; i < part.length; i += 500) {
      const results = await ingest.ingestChanges(part.slice(i, i + 500).map(canonicalChange))
      ingested += results.filter((r) => r.status === 'accepted').length
    }
  }
  const buildSeconds = (performance.now() - t0) / 1000
  await store.close()
  console.log(`${size} posts stored (${ingested} accepted) in ${buildSeconds.toFixed(1)} s; builder RSS ${rssMiB().toFixed(0)} MiB`)
  const out = execFileSync(
    process.execPath,
    ['--import', import.meta.resolve('tsx'), join(import.meta.dirname, 'render-worker.ts'), path, GROUP, messageIdHex(big[0]!.id)],
    {
      encoding: 'utf8',
    },
  )
  console.log(out.trim())
  await tmp.remove()
}
