import { Hono, type MiddlewareHandler } from 'hono'
import { messageIdFromHex, messageIdHex, threadRootOf } from '../../article/index.ts'
import { articleGroups, getArticle, getThread, threadArticles } from '../../store/index.ts'
import { ReplyPosted, ThreadBranches, ThreadPage } from '../../../views/thread.tsx'
import type { WebDeps } from '../deps.ts'
import { isHtmx, type WebContext, type WebEnv } from '../env.ts'
import { hexParam, readForm } from '../forms.ts'
import { HttpError } from '../http-error.ts'
import { render } from '../render.tsx'
import { articleItem, threadTree } from '../view-models.ts'
import { requireGroup } from './groups.tsx'

/** A thread longer than this shows its first articles only. */
const MAX_THREAD_ARTICLES = 2000

/** Threads as trees, replies, new threads, and `/a/:hex` permalinks. */
export function threadRoutes(deps: WebDeps, requireOwner: MiddlewareHandler<WebEnv>) {
  const app = new Hono<WebEnv>()

  app.get('/g/:group/t/:root', async function threadPage(c: WebContext) {
    const group = await requireGroup(deps, c.req.param('group') ?? '')
    const rootId = messageIdFromHex(hexParam(c.req.param('root'), 'thread id'))
    const thread = await getThread(deps.db, group.name, rootId)
    if (!thread) throw new HttpError(404, `there is no such thread in ${group.name}`)
    const articles = await threadArticles(deps.db, group.name, rootId, { limit: MAX_THREAD_ARTICLES })
    const props = { group: group.name, rootHex: messageIdHex(rootId), subject: thread.subject, roots: threadTree(articles) }
    // A live refresh (htmx) gets the branches alone, morphed into the open page.
    if (isHtmx(c)) return render(c, <ThreadBranches {...props} />, { fragment: true })
    return render(c, <ThreadPage {...props} />)
  })

  app.post('/g/:group/threads', requireOwner, async function newThread(c: WebContext) {
    const group = await requireGroup(deps, c.req.param('group') ?? '')
    const form = await readForm(c, ['subject', 'body'])
    const article = await deps.poster.post({ group: group.name, subject: form.subject, body: form.body ?? '' })
    return c.redirect(`/g/${group.name}/t/${messageIdHex(article.id)}`, 303)
  })

  app.post('/g/:group/t/:root/replies', requireOwner, async function reply(c: WebContext) {
    const group = await requireGroup(deps, c.req.param('group') ?? '')
    hexParam(c.req.param('root'), 'thread id')
    const form = await readForm(c, ['parent', 'body'])
    const parentHex = hexParam(form.parent, 'article id')
    const article = await deps.poster.post({ group: group.name, body: form.body ?? '', parentId: messageIdFromHex(parentHex) })
    const rootHex = messageIdHex(threadRootOf(article))
    if (!isHtmx(c)) return c.redirect(`/g/${group.name}/t/${rootHex}#a-${messageIdHex(article.id)}`, 303)
    const thread = await getThread(deps.db, group.name, threadRootOf(article))
    const stored = await getArticle(deps.db, article.id)
    if (!stored || !thread) throw new Error('a reply just stored is missing')
    return render(
      c,
      <ReplyPosted
        group={group.name}
        rootHex={rootHex}
        parentHex={parentHex}
        reply={{ article: articleItem(stored), replies: [] }}
        rootSubject={thread.subject}
      />,
      { fragment: true },
    )
  })

  app.get('/a/:hex', async function permalink(c) {
    const id = messageIdFromHex(hexParam(c.req.param('hex')))
    const stored = await getArticle(deps.db, id)
    if (!stored) throw new HttpError(404, 'this node has no article with that id')
    const [group] = await articleGroups(deps.db, id)
    if (!group) throw new HttpError(404, 'this article is in no group this node carries')
    return c.redirect(`/g/${group}/t/${stored.root_id.slice(1, 65)}#a-${messageIdHex(id)}`, 302)
  })

  return app
}
