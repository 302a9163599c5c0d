import { usePage } from './context.ts'
import { displayDate, isoDate } from './format.ts'

/** One neighbour's sync of one group, as the views show it. */
export interface SyncRow {
  readonly group: string
  readonly peer: string
  readonly state: 'comparing' | 'fetching' | 'done' | 'failed'
  readonly daysToCheck: number
  readonly daysChecked: number
  readonly postsWanted: number
  readonly postsStored: number
  /** Posts per second so far. */
  readonly rate: number
  /** Seconds left at that rate, when it can be told. */
  readonly secondsLeft: number | undefined
  readonly finishedAt: number | undefined
  readonly error: string | undefined
}

const shortPeer = (peer: string) => `…${peer.slice(-8)}`

/**
 * The group page's sync box: a progress bar while this node fills the group from its neighbours. While any
 * sync runs it asks again every second; once all are done it shows the outcome and stops asking.
 */
export function GroupSyncStatus({ group, rows }: { group: string; rows: readonly SyncRow[] }) {
  const { nonce } = usePage()
  const running = rows.filter((r) => r.state === 'comparing' || r.state === 'fetching')
  const polling = running.length > 0 ? { 'hx-get': `/g/${group}/sync`, 'hx-trigger': 'every 1s', 'hx-swap': 'outerHTML', 'hx-nonce': nonce } : {}
  return (
    <section id="sync-status" class="sync" aria-live="polite" {...polling}>
      {running.map((r) => {
        const percent = r.postsWanted === 0 ? 0 : Math.floor((100 * r.postsStored) / r.postsWanted)
        return (
          <div class="sync-row">
            <p>
              Syncing from {shortPeer(r.peer)}: {r.postsStored} of {r.postsWanted} posts · {r.daysChecked} of {r.daysToCheck} days compared ·{' '}
              {Math.round(r.rate)} posts/s{r.secondsLeft !== undefined ? ` · about ${Math.ceil(r.secondsLeft)} s left` : ''}
            </p>
            <progress max={Math.max(1, r.postsWanted)} value={r.postsStored}>
              {percent}%
            </progress>
          </div>
        )
      })}
      {running.length === 0 &&
        rows
          .filter((r) => r.state === 'failed')
          .map((r) => (
            <p class="error">
              Syncing from {shortPeer(r.peer)} failed: {r.error}
            </p>
          ))}
    </section>
  )
}

/** The node page's table: per group and neighbour, in sync, behind, syncing or failed, and when last compared. */
export function SyncTable({ rows }: { rows: readonly SyncRow[] }) {
  if (rows.length === 0) return <p>No comparison with a neighbour yet.</p>
  return (
    <table class="groups">
      <thead>
        <tr>
          <th scope="col">Group</th>
          <th scope="col">Neighbour</th>
          <th scope="col">State</th>
          <th scope="col">Last compared</th>
        </tr>
      </thead>
      <tbody>
        {rows.map((r) => (
          <tr>
            <td>{r.group}</td>
            <td>
              <code>{shortPeer(r.peer)}</code>
            </td>
            <td>
              {r.state === 'done'
                ? r.postsWanted === 0
                  ? 'in sync'
                  : `in sync (fetched ${r.postsStored})`
                : r.state === 'failed'
                  ? `failed: ${r.error ?? ''}`
                  : `syncing: behind by ${r.postsWanted - r.postsStored}`}
            </td>
            <td>{r.finishedAt === undefined ? '—' : <time datetime={isoDate(r.finishedAt)}>{displayDate(r.finishedAt)}</time>}</td>
          </tr>
        ))}
      </tbody>
    </table>
  )
}
