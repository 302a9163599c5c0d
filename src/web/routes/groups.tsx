import { Hono, type MiddlewareHandler } from 'hono'
import { isGroupName } from '../../article/index.ts'
import { getGroup, listGroups, listThreads, type ThreadCursor } from '../../store/index.ts'
import { GroupListPage } from '../../../views/group-list.tsx'
import { GroupSyncStatus } from '../../../views/sync-status.tsx'
import { ThreadListPage, ThreadRows } from '../../../views/thread-list.tsx'
import type { WebDeps } from '../deps.ts'
import { isHtmx, type WebContext, type WebEnv } from '../env.ts'
import { readForm } from '../forms.ts'
import { formatPagePosition, parsePagePosition } from '../page-position.ts'
import { HttpError } from '../http-error.ts'
import { render } from '../render.tsx'
import { groupRow, syncRow, threadRow } from '../view-models.ts'

/** `?after=<ms>.<hex>`: where the previous page of threads ended. */
export function parseThreadCursor(value: string | undefined): ThreadCursor | undefined {
  const position = parsePagePosition(value)
  return position && { lastPostAt: position.ms, rootId: position.id }
}

export function formatThreadCursor(cursor: ThreadCursor): string {
  return formatPagePosition(cursor.lastPostAt, cursor.rootId)
}

export async function requireGroup(deps: WebDeps, name: string) {
  const group = isGroupName(name) ? await getGroup(deps.db, name) : undefined
  if (!group?.subscribed) throw new HttpError(404, `this node does not carry a group named "${name.slice(0, 80)}"`)
  return group
}

/** `/` (the group list) and `/g/:group` (a group's threads, newest activity first). */
export function groupRoutes(deps: WebDeps, requireOwner: MiddlewareHandler<WebEnv>) {
  const pageSize = deps.pageSize ?? 30
  const app = new Hono<WebEnv>()
  const syncRowsOf = (group: string) => (deps.sync?.status() ?? []).filter((p) => p.group === group).map((p) => syncRow(p))
  const manager = () => {
    if (!deps.groups) throw new HttpError(404, 'this node cannot manage groups')
    return deps.groups
  }

  app.get('/', async function groupList(c) {
    const groups = await listGroups(deps.db)
    return render(
      c,
      <GroupListPage
        groups={groups.filter((g) => g.subscribed).map(groupRow)}
        others={groups.filter((g) => !g.subscribed).map(groupRow)}
        canManage={deps.groups !== undefined}
      />,
    )
  })

  app.get('/g/:group/sync', async function syncStatus(c: WebContext) {
    const group = await requireGroup(deps, c.req.param('group') ?? '')
    return render(c, <GroupSyncStatus group={group.name} rows={syncRowsOf(group.name)} />, { fragment: true })
  })

  app.post('/groups', requireOwner, async function createGroup(c) {
    const groups = manager()
    const form = await readForm(c, ['name', 'description'])
    const descriptor = await groups.create((form.name ?? '').trim(), form.description ?? '')
    return c.redirect(`/g/${descriptor.name}`, 303)
  })

  app.post('/g/:group/subscribe', requireOwner, async function subscribe(c) {
    await manager().subscribe(c.req.param('group'))
    return c.redirect(`/g/${c.req.param('group')}`, 303)
  })

  app.post('/g/:group/unsubscribe', requireOwner, async function unsubscribe(c) {
    await manager().unsubscribe(c.req.param('group'))
    return c.redirect('/', 303)
  })

  app.get('/g/:group', async function threadList(c: WebContext) {
    const group = await requireGroup(deps, c.req.param('group') ?? '')
    const after = parseThreadCursor(c.req.query('after'))
    const page = await listThreads(deps.db, group.name, { limit: pageSize, after })
    const threads = page.items.map(threadRow)
    const nextHref = page.next ? `/g/${group.name}?after=${formatThreadCursor(page.next)}` : undefined
    // htmx asks for rows alone: the next page ("load more") or a live refresh of the first.
    if (isHtmx(c)) return render(c, <ThreadRows group={group.name} threads={threads} nextHref={nextHref} />, { fragment: true })
    return render(
      c,
      <ThreadListPage group={groupRow(group)} threads={threads} nextHref={nextHref} isLaterPage={after !== undefined}>
        <GroupSyncStatus group={group.name} rows={syncRowsOf(group.name)} />
      </ThreadListPage>,
    )
  })

  return app
}
