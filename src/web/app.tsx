import { Hono } from 'hono'
import { ErrorPage, ErrorText } from '../../views/error.tsx'
import type { WebDeps } from './deps.ts'
import { isHtmx, type WebEnv } from './env.ts'
import { describeError } from './http-error.ts'
import { OwnerAuth } from './owner.ts'
import { render } from './render.tsx'
import { apiRoutes } from './routes/api.ts'
import { authorRoutes } from './routes/authors.tsx'
import { eventRoutes } from './routes/events.ts'
import { groupRoutes } from './routes/groups.tsx'
import { nodeRoutes } from './routes/node.tsx'
import { ownerRoutes } from './routes/owner.tsx'
import { staticRoutes } from './routes/static.ts'
import { threadRoutes } from './routes/threads.tsx'
import { allowedHostsOnly, requestBodyLimit, sameOriginWrites, securityHeaders } from './security.ts'

/** The node's web UI and JSON API. Everything it touches comes in `deps`, so a test builds one in a line. */
export function createWebApp(deps: WebDeps) {
  const auth = new OwnerAuth(deps.owner.token)
  const requireOwner = auth.requireSession()
  const app = new Hono<WebEnv>()

  app.use(securityHeaders())
  app.use(allowedHostsOnly(deps.allowedHosts))
  app.use(requestBodyLimit())
  app.use(sameOriginWrites())
  app.use(auth.detect())

  app.route('/', staticRoutes())
  app.route('/', groupRoutes(deps, requireOwner))
  app.route('/', threadRoutes(deps, requireOwner))
  app.route('/', authorRoutes(deps))
  app.route('/', ownerRoutes(deps, auth, requireOwner))
  app.route('/', nodeRoutes(deps, requireOwner))
  app.route('/', eventRoutes(deps))
  app.route('/api', apiRoutes(deps, auth.requireToken()))

  app.notFound((c) => {
    if (c.req.path.startsWith('/api/')) return c.json({ error: 'no such API route' }, 404)
    return render(c, <ErrorPage status={404} message="There is nothing at this address." />, { status: 404 })
  })

  app.onError((err, c) => {
    const known = describeError(err)
    if (!known) deps.log.error(`${c.req.method} ${c.req.path} failed: ${err.stack ?? err.message}`)
    const status = known?.status ?? 500
    const message = known?.message ?? 'something went wrong on this node; the log has the details'
    if (c.req.path.startsWith('/api/')) return c.json({ error: message, ...(known?.problem ? { problem: known.problem } : {}) }, status)
    if (c.get('owner') === undefined) c.set('owner', false)
    if (isHtmx(c) && c.req.method !== 'GET') return render(c, <ErrorText message={message} />, { status, fragment: true })
    return render(c, <ErrorPage status={status} message={message} />, { status })
  })

  return app
}
