import { Hono } from 'hono'
import { keyFingerprint, messageIdHex, type MessageId } from '../../article/index.ts'
import { getAuthor, listAuthorArticles, type ArticleCursor } from '../../store/index.ts'
import { AuthorPage } from '../../../views/author.tsx'
import type { WebDeps } from '../deps.ts'
import type { WebEnv } from '../env.ts'
import { HttpError } from '../http-error.ts'
import { formatPagePosition, parsePagePosition } from '../page-position.ts'
import { render } from '../render.tsx'

const AUTHOR_KEY = /^[A-Za-z0-9_-]{43}$/

/** `/u/:key`: everything an author key has posted that this node holds, newest first. */
export function authorRoutes(deps: WebDeps) {
  const app = new Hono<WebEnv>()
  app.get('/u/:key', async function authorPage(c) {
    const key = c.req.param('key')
    if (!AUTHOR_KEY.test(key)) throw new HttpError(400, 'that is not an author key (43 base64url characters)')
    const author = await getAuthor(deps.db, key)
    if (!author) throw new HttpError(404, 'this node holds no posts by that author key')
    const position = parsePagePosition(c.req.query('after'))
    const after: ArticleCursor | undefined = position && { date: position.ms, id: position.id }
    const page = await listAuthorArticles(deps.db, key, { limit: 50, after })
    const nextHref = page.next ? `/u/${key}?after=${formatPagePosition(page.next.date, page.next.id)}` : undefined
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
