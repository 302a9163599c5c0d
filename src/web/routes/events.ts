import { Hono } from 'hono'
import { streamSSE } from 'hono/streaming'
import { isGroupName, messageIdHex, threadRootOf } from '../../article/index.ts'
import type { WebDeps } from '../deps.ts'
import type { WebEnv } from '../env.ts'
import { hexParam } from '../forms.ts'
import { HttpError } from '../http-error.ts'

/** Open event streams at once; each holds a socket and a listener. */
const MAX_STREAMS = 200
const KEEP_ALIVE_MS = 15_000

/**
 * `GET /events?group=<g>[&root=<hex>]`: a Server-Sent Events stream that says `posted` whenever a post of
 * that group (and thread) is committed, from this node or from a peer. Pages then fetch the fresh part
 * through htmx's ordinary requests, so every swap carries a CSP nonce of its own response.
 */
export function eventRoutes(deps: WebDeps) {
  const app = new Hono<WebEnv>()
  let open = 0

  app.get('/events', async function events(c) {
    const group = c.req.query('group') ?? ''
    if (!isGroupName(group)) throw new HttpError(400, 'name a group: /events?group=<name>')
    const rootParam = c.req.query('root')
    const root = rootParam === undefined ? undefined : hexParam(rootParam, 'thread id')
    if (!deps.events) throw new HttpError(404, 'this node has no live updates')
    if (open >= MAX_STREAMS) return c.text('too many live pages are open; reload later', 503)
    const source = deps.events
    open++
    return streamSSE(c, async (stream) => {
      let wake: (() => void) | undefined
      const queued: string[] = []
      const stopListening = source.onAccepted((articles) => {
        for (const article of articles) {
          if (!article.newsgroups.includes(group as (typeof article.newsgroups)[number])) continue
          if (root !== undefined && messageIdHex(threadRootOf(article)) !== root) continue
          queued.push(messageIdHex(article.id))
        }
        wake?.()
      })
      stream.onAbort(() => wake?.())
      try {
        while (!stream.aborted && !stream.closed) {
          if (queued.length > 0) {
            // Several posts at once need one refresh; the data names the newest.
            await stream.writeSSE({ event: 'posted', data: queued.at(-1)! })
            queued.length = 0
            continue
          }
          await new Promise<void>((resolve) => {
            wake = resolve
            setTimeout(resolve, KEEP_ALIVE_MS)
          })
          wake = undefined
          if (queued.length === 0 && !stream.aborted) await stream.write(': keep-alive\n\n')
        }
      } finally {
        stopListening()
        open--
      }
    })
  })
  return app
}
