import type { Child } from 'hono/jsx'
import { usePage } from './context.ts'

/** The full page around any view. The same inner components render htmx fragments on their own. */
export function Layout({ title, children, crumbs = [] }: { title: string; children: Child; crumbs?: { href: string; label: string }[] }) {
  const { nonce, owner } = usePage()
  return (
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <meta name="htmx-config" content='{"extensions":"hx-csp,sse","includeIndicatorCSS":false,"noSwap":[204,304,"5xx"]}' />
        <title>{title} · usenet-p2p</title>
        <link rel="stylesheet" href="/static/app.css" />
        {/* Not deferred: htmx run from a deferred script starts on a timer that may fire before the later
            deferred extensions have run, and the page then has no CSP nonce gate and no live updates. Run during
            parsing, htmx waits for DOMContentLoaded, by which time both extensions are registered. */}
        <script nonce={nonce} src="/static/htmx.min.js" />
        <script nonce={nonce} src="/static/hx-csp.min.js" />
        <script nonce={nonce} src="/static/hx-sse.min.js" />
      </head>
      <body>
        <header class="top">
          <nav aria-label="Breadcrumbs">
            <a href="/" class="brand">
              usenet-p2p
            </a>
            {crumbs.map((c) => (
              <>
                {' › '}
                <a href={c.href}>{c.label}</a>
              </>
            ))}
          </nav>
          <nav aria-label="Account" class="account">
            {owner ? (
              <>
                <a href="/node">Node</a>
                <a href="/settings">Settings</a>
                <form method="post" action="/logout" class="inline">
                  <button type="submit" class="link">
                    Log out
                  </button>
                </form>
              </>
            ) : (
              <>
                <a href="/node">Node</a>
                <a href="/login">Owner login</a>
              </>
            )}
          </nav>
        </header>
        <main>{children}</main>
      </body>
    </html>
  )
}
