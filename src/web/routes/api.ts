import { Hono, type MiddlewareHandler } from 'hono'
import { decodeArticle, isMessageId, messageIdFromHex, messageIdHex, type SignedArticle } from '../../article/index.ts'
import { getArticle, getThread, listGroups, listThreads, threadArticles } from '../../store/index.ts'
import type { WebDeps } from '../deps.ts'
import type { WebEnv } from '../env.ts'
import { hexParam } from '../forms.ts'
import { HttpError } from '../http-error.ts'
import { formatThreadCursor, parseThreadCursor, requireGroup } from './groups.tsx'

function articleJson(a: SignedArticle) {
  return {
    id: a.id,
    hex: messageIdHex(a.id),
    newsgroups: a.newsgroups,
    subject: a.subject,
    from: a.from,
    authorKey: a.authorKey,
    date: new Date(a.date).toISOString(),
    references: a.references,
    body: a.body,
  }
}

/** The JSON API (README, "JSON API"). Reads are open like the pages; posting needs the owner token. */
export function apiRoutes(deps: WebDeps, requireToken: MiddlewareHandler<WebEnv>) {
  const app = new Hono<WebEnv>()

  app.get('/groups', async function apiGroups(c) {
    const groups = (await listGroups(deps.db)).filter((g) => g.subscribed)
    return c.json({
      groups: groups.map((g) => ({
        name: g.name,
        description: g.description,
        postCount: g.post_count,
        lastPostAt: g.last_post_at && new Date(g.last_post_at).toISOString(),
      })),
    })
  })

  app.get('/groups/:group/threads', async function apiThreads(c) {
    const group = await requireGroup(deps, c.req.param('group'))
    const limitParam = c.req.query('limit') ?? '30'
    if (!/^\d{1,3}$/.test(limitParam) || Number(limitParam) < 1 || Number(limitParam) > 200) throw new HttpError(400, 'limit must be a number from 1 to 200')
    const page = await listThreads(deps.db, group.name, { limit: Number(limitParam), after: parseThreadCursor(c.req.query('after')) })
    return c.json({
      threads: page.items.map((t) => ({
        root: t.root_id,
        rootHex: messageIdHex(t.root_id as SignedArticle['id']),
        subject: t.subject,
        from: t.from_name,
        authorKey: t.author_key,
        posts: t.post_count,
        startedAt: new Date(t.started_at).toISOString(),
        lastPostAt: new Date(t.last_post_at).toISOString(),
      })),
      next: page.next ? formatThreadCursor(page.next) : null,
    })
  })

  app.get('/groups/:group/threads/:root', async function apiThread(c) {
    const group = await requireGroup(deps, c.req.param('group'))
    const rootId = messageIdFromHex(hexParam(c.req.param('root'), 'thread id'))
    const thread = await getThread(deps.db, group.name, rootId)
    if (!thread) throw new HttpError(404, `there is no such thread in ${group.name}`)
    const articles = await threadArticles(deps.db, group.name, rootId, { limit: 5000 })
    return c.json({ subject: thread.subject, articles: articles.map((a) => articleJson(decodeArticle(a.bytes))) })
  })

  app.get('/articles/:hex', async function apiArticle(c) {
    const stored = await getArticle(deps.db, messageIdFromHex(hexParam(c.req.param('hex'))))
    if (!stored) throw new HttpError(404, 'this node has no article with that id')
    const article = decodeArticle(stored.bytes)
    return c.json({ ...articleJson(article), signature: article.signature, raw: Buffer.from(article.bytes).toString('base64') })
  })

  app.post('/groups/:group/articles', requireToken, async function apiPost(c) {
    if (!(c.req.header('content-type') ?? '').startsWith('application/json')) throw new HttpError(415, 'send the post as application/json')
    let input: unknown
    try {
      input = await c.req.json()
    } catch {
      throw new HttpError(400, 'the request body is not valid JSON')
    }
    if (typeof input !== 'object' || input === null || Array.isArray(input)) throw new HttpError(400, 'send a JSON object { "subject", "body", "parent" }')
    const { subject, body, parent } = input as Record<string, unknown>
    if (typeof body !== 'string') throw new HttpError(400, '"body" must be a string')
    if (subject !== undefined && typeof subject !== 'string') throw new HttpError(400, '"subject" must be a string')
    if (parent !== undefined && typeof parent !== 'string') throw new HttpError(400, '"parent" must be a Message-ID or its 64 hex digits')
    const parentId = parent === undefined ? undefined : isMessageId(parent) ? parent : messageIdFromHex(hexParam(parent, 'article id'))
    const article = await deps.poster.post({ group: c.req.param('group'), subject, body, parentId })
    return c.json({ article: articleJson(article), url: `/a/${messageIdHex(article.id)}` }, 201)
  })

  return app
}
