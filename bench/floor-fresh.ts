/**
 * The floor of bench/mirror.ts in a process of its own, run as a mirroring node runs: started for the
 * measurement, with the node's V8 flags and compile cache, its verify threads started on the clock. A mirror
 * is timed the same way (from "Node running", in a fresh process, threads started when posts are found
 * missing), so this floor pays what the mirror pays for a cold start, and the in-process floor does not.
 *
 *   floor-fresh.ts <neighbour's node.sqlite> <group>   → prints {"postsPerSecond": …}
 */
import SqliteDatabase from 'better-sqlite3'
import { floorSameRows, readShardLayout, startFloorWorkers } from './floor.ts'

const [storePath, group] = process.argv.slice(2)
if (!storePath || !group) {
  console.error('usage: floor-fresh.ts <node.sqlite> <group>')
  process.exit(2)
}
// What the network would bring, read before the clock starts: each article's bytes and its change, by date.
const db = new SqliteDatabase(storePath, { readonly: true })
const rows = db.prepare('select a.bytes, c.change from articles a join shard_changes c on c.article_id = a.id order by a.date, a.id').raw().all() as [
  Uint8Array,
  Uint8Array,
][]
db.close()
const layout = readShardLayout(storePath)
const postsPerSecond = await floorSameRows(
  startFloorWorkers,
  rows.map(([bytes]) => bytes),
  rows.map(([, change]) => change),
  layout,
  group,
)
console.log(JSON.stringify({ postsPerSecond }))
