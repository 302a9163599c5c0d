/** Opens a store, renders pages through the web app as a serving node would, prints medians and RSS. */
import { authorKeyFromSeed } from '../src/article/index.ts'
import { createLogger } from '../src/logger.ts'
import { openStore } from '../src/store/index.ts'
import { createIngest, createPoster, ShardDocuments } from '../src/sync/index.ts'
import { createWebApp } from '../src/web/app.tsx'
import { median, rssMiB } from './lib.ts'

const [path, group, rootHex] = process.argv.slice(2) as [string, string, string]
const store = await openStore(path)
const log = createLogger('bench')
const ingest = createIngest({ db: store.db, shards: new ShardDocuments(), log })
const owner = { key: authorKeyFromSeed(new Uint8Array(32).fill(9)), displayName: async () => 'Bench' }
const app = createWebApp({
  db: store.db,
  poster: createPoster({ db: store.db, ingest, owner }),
  owner: { token: 'x'.repeat(32), authorKey: owner.key.publicKey, displayName: owner.displayName, setDisplayName: async () => {} },
  allowedHosts: new Set(['localhost']),
  log,
})

async function timeRequests(url: string, runs: number): Promise<{ median: number; bytes: number }> {
  const times: number[] = []
  let bytes = 0
  for (let i = 0; i < runs + 20; i++) {
    const t0 = performance.now()
    const res = await app.request(url, { headers: { host: 'localhost' } })
    const body = await res.text()
    const ms = performance.now() - t0
    if (res.status !== 200) throw new Error(`${url}: ${res.status}`)
    if (i >= 20) times.push(ms) // the first 20 warm up the JIT and SQLite's page cache
    bytes = body.length
  }
  return { median: median(times), bytes }
}

const groupPage = await timeRequests(`/g/${group}`, 200)
const groupList = await timeRequests('/', 200)
const thread = await timeRequests(`/g/${group}/t/${rootHex}`, 50)
const articles = await store.db
  .selectFrom('articles')
  .select((eb) => eb.fn.countAll<number>().as('n'))
  .executeTakeFirstOrThrow()
console.log(
  `  ${articles.n} posts: group page median ${groupPage.median.toFixed(2)} ms (${groupPage.bytes} B); group list ${groupList.median.toFixed(2)} ms; ` +
    `200-post thread ${thread.median.toFixed(2)} ms (${thread.bytes} B); serving RSS ${rssMiB().toFixed(0)} MiB`,
)
await store.close()
