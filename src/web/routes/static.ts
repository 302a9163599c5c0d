import { readFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { Hono } from 'hono'
import type { WebEnv } from '../env.ts'

const htmxDir = join(dirname(fileURLToPath(import.meta.resolve('htmx.org/package.json'))), 'dist')
const viewsDir = join(import.meta.dirname, '..', '..', '..', 'views')

/** Files served from our own origin (never a CDN), read once at start. */
const FILES: Record<string, { path: string; type: string }> = {
  'htmx.min.js': { path: join(htmxDir, 'htmx.min.js'), type: 'text/javascript; charset=utf-8' },
  'hx-csp.min.js': { path: join(htmxDir, 'ext', 'hx-csp.min.js'), type: 'text/javascript; charset=utf-8' },
  'hx-sse.min.js': { path: join(htmxDir, 'ext', 'hx-sse.min.js'), type: 'text/javascript; charset=utf-8' },
  'app.css': { path: join(viewsDir, 'app.css'), type: 'text/css; charset=utf-8' },
}

export function staticRoutes() {
  const app = new Hono<WebEnv>()
  const loaded = new Map(Object.entries(FILES).map(([name, { path, type }]) => [name, { body: readFileSync(path), type }]))
  app.get('/static/:name', function staticFile(c) {
    const file = loaded.get(c.req.param('name'))
    if (!file) return c.notFound()
    return c.body(file.body, 200, { 'content-type': file.type, 'cache-control': 'public, max-age=3600' })
  })
  // Browsers ask for it on every site; a 204 keeps the log free of 404s.
  app.get('/favicon.ico', (c) => c.body(null, 204))
  return app
}
