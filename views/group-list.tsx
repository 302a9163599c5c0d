import { displayDate, isoDate, plural } from './format.ts'
import { usePage } from './context.ts'
import { Layout } from './layout.tsx'
import type { GroupRow } from './models.ts'

export function GroupListPage({ groups, others, canManage }: { groups: readonly GroupRow[]; others: readonly GroupRow[]; canManage: boolean }) {
  const { owner } = usePage()
  return (
    <Layout title="Groups">
      <h1>Groups</h1>
      {groups.length === 0 ? (
        <p>This node carries no groups yet.</p>
      ) : (
        <table class="groups">
          <thead>
            <tr>
              <th scope="col">Group</th>
              <th scope="col">Posts</th>
              <th scope="col">Last activity</th>
            </tr>
          </thead>
          <tbody>
            {groups.map((g) => (
              <tr>
                <td>
                  <a href={`/g/${g.name}`} class="group-name">
                    {g.name}
                  </a>
                  <div class="description">{g.description}</div>
                </td>
                <td class="num">{plural(g.postCount, 'post')}</td>
                <td>{g.lastPostAt === null ? '—' : <time datetime={isoDate(g.lastPostAt)}>{displayDate(g.lastPostAt)}</time>}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {others.length > 0 && (
        <>
          <h2>Other groups</h2>
          <p class="hint">Known from neighbours; this node does not carry them.</p>
          <ul class="other-groups">
            {others.map((g) => (
              <li>
                <span class="group-name">{g.name}</span> <span class="description">{g.description}</span>
                {owner && canManage && (
                  <form method="post" action={`/g/${g.name}/subscribe`} class="inline">
                    {' '}
                    <button type="submit">Subscribe</button>
                  </form>
                )}
              </li>
            ))}
          </ul>
        </>
      )}
      {owner && canManage && (
        <details class="compose">
          <summary>Create a group</summary>
          <form method="post" action="/groups">
            <label>
              Name (lower-case parts separated by dots, e.g. rec.music.folk)
              <input name="name" required maxlength={80} pattern="[a-z0-9+_\-]+(\.[a-z0-9+_\-]+)+" />
            </label>
            <label>
              Description
              <input name="description" required maxlength={200} />
            </label>
            <button type="submit">Create</button>
          </form>
        </details>
      )}
    </Layout>
  )
}
