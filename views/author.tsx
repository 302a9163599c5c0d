import { displayDate, isoDate, plural } from './format.ts'
import { Layout } from './layout.tsx'
import type { AuthorPost } from './models.ts'

export function AuthorPage({
  name,
  authorKey,
  fingerprint,
  postCount,
  posts,
  nextHref,
}: {
  name: string
  authorKey: string
  fingerprint: string
  postCount: number
  posts: readonly AuthorPost[]
  nextHref: string | undefined
}) {
  return (
    <Layout title={`${name} ·${fingerprint}`}>
      <h1>
        {name} <span class="fp">·{fingerprint}</span>
      </h1>
      <p>
        Author key <code>{authorKey}</code>. The name is the author's own claim; the key is who they are. {plural(postCount, 'post')} on this node.
      </p>
      <ul class="author-posts">
        {posts.map((p) => (
          <li>
            <a href={`/a/${p.hex}`}>{p.subject}</a> · <time datetime={isoDate(p.date)}>{displayDate(p.date)}</time>
          </li>
        ))}
      </ul>
      {nextHref && <a href={nextHref}>Older posts →</a>}
    </Layout>
  )
}
