import { Hono } from 'hono'
import { keyFingerprint, messageIdHex, type MessageId } from '../../article/index.ts'
import { getAuthor, listAuthorArticles, type ArticleCursor } from '../../store/index.ts'
import { AuthorPage } from '../../../views/author.tsx'
import type { WebDeps } from '../deps.ts'
import type { WebEnv } from '../env.ts'
import { HttpError } from '../http-error.ts'
import { render } from '../render.tsx'

const AUTHOR_KEY = /^[A-Za-z0-9_-]{43}$/
const CURSOR = /^(\d{1,15})\.([0-9a-f]{64})$/

/** `/u/:key`: everything an author key has posted that this node holds, newest first. */
export function authorRoutes(deps: WebDeps) {
  const app = new Hono<WebEnv>()
  app.get('/u/:key', async function authorPage(c) {
    const key = c.req.param('key')
    if (!AUTHOR_KEY.test(key)) throw new HttpError(400, 'that is not an author key (43 base64url characters)')
    const author = await getAuthor(deps.db, key)
    if (!author) throw new HttpError(404, 'this node holds no posts by that author key')
    const afterParam = c.req.query('after')
    let after: ArticleCursor | undefined
    if (afterParam !== undefined) {
      const m = CURSOR.exec(afterParam)
      if (!m) throw new HttpError(400, 'the "after" parameter is not a page position of this list')
      after = { date: Number(m[1]), id: `<${m[2]}@usenet-p2p>` }
    }
    const page = await listAuthorArticles(deps.db, key, { limit: 50, after })
    const nextHref = page.next ? `/u/${key}?after=${page.next.date}.${page.next.id.slice(1, 65)}` : undefined
    return render(
      c,
      <AuthorPage
        name={author.from_name}
        authorKey={key}
        fingerprint={keyFingerprint(key)}
        postCount={author.post_count}
        posts={page.items.map((p) => ({ hex: messageIdHex(p.id as MessageId), subject: p.subject, date: p.date }))}
        nextHref={nextHref}
      />,
    )
  })
  return app
}
