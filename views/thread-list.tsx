import type { Child } from 'hono/jsx'
import { AuthorName } from './author-name.tsx'
import { usePage } from './context.ts'
import { displayDate, isoDate, plural } from './format.ts'
import { Layout } from './layout.tsx'
import { LiveUpdates } from './live.tsx'
import type { GroupRow, ThreadRow } from './models.ts'

/** Rows of threads and, when there are more, the "load more" row that fetches the next page in place. */
export function ThreadRows({ group, threads, nextHref }: { group: string; threads: readonly ThreadRow[]; nextHref: string | undefined }) {
  const { nonce } = usePage()
  return (
    <>
      {threads.map((t) => (
        <li class="thread">
          <a class="subject" href={`/g/${group}/t/${t.rootHex}`}>
            {t.subject}
          </a>
          <div class="meta">
            <AuthorName from={t.from} authorKey={t.authorKey} fingerprint={t.fingerprint} /> · {plural(t.replies, 'reply', 'replies')} · last{' '}
            <time datetime={isoDate(t.lastPostAt)}>{displayDate(t.lastPostAt)}</time>
          </div>
        </li>
      ))}
      {nextHref && (
        <li class="more">
          <a href={nextHref} hx-get={nextHref} hx-target="closest li" hx-swap="outerHTML" hx-nonce={nonce}>
            Load more threads
          </a>
        </li>
      )}
    </>
  )
}

export function ThreadListPage({
  group,
  threads,
  nextHref,
  isLaterPage,
  children,
}: {
  group: GroupRow
  threads: readonly ThreadRow[]
  nextHref: string | undefined
  isLaterPage: boolean
  /** Shown above the threads: how syncing the group with neighbours stands. */
  children?: Child
}) {
  const { owner, nonce } = usePage()
  return (
    <Layout title={group.name} crumbs={[{ href: `/g/${group.name}`, label: group.name }]}>
      <h1>{group.name}</h1>
      <p class="description">{group.description}</p>
      {children}
      {owner ? <NewThreadForm group={group.name} /> : <p class="hint">Log in as this node's owner to post.</p>}
      {owner && (
        <form method="post" action={`/g/${group.name}/unsubscribe`} class="unsubscribe">
          <button type="submit" class="link">
            Unsubscribe from {group.name}
          </button>
        </form>
      )}
      {isLaterPage && (
        <p>
          <a href={`/g/${group.name}`}>← Newest threads</a>
        </p>
      )}
      {threads.length === 0 && <p class="empty">No threads yet.</p>}
      {isLaterPage ? (
        <ul class="threads" id="threads">
          <ThreadRows group={group.name} threads={threads} nextHref={nextHref} />
        </ul>
      ) : (
        <>
          {/* The first page stays current: a post anywhere in the group refreshes it in place. */}
          <LiveUpdates url={`/events?group=${group.name}`} />
          <ul class="threads" id="threads" hx-get={`/g/${group.name}`} hx-trigger="posted from:#live" hx-swap="innerHTML" hx-nonce={nonce}>
            <ThreadRows group={group.name} threads={threads} nextHref={nextHref} />
          </ul>
        </>
      )}
    </Layout>
  )
}

function NewThreadForm({ group }: { group: string }) {
  return (
    <details class="compose">
      <summary>Start a new thread</summary>
      <form method="post" action={`/g/${group}/threads`}>
        <label>
          Subject
          <input name="subject" required maxlength={200} />
        </label>
        <label>
          Message
          <textarea name="body" required rows={8} />
        </label>
        <button type="submit">Post thread</button>
      </form>
    </details>
  )
}
