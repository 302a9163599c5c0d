import { displayDate, isoDate, plural } from './format.ts'
import { Layout } from './layout.tsx'
import type { GroupRow } from './models.ts'

export function GroupListPage({ groups }: { groups: readonly GroupRow[] }) {
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
    </Layout>
  )
}
