import type { Context } from 'hono'

/** Per-request values the middleware sets for the routes. */
export interface WebEnv {
  Variables: {
    /** Set by secureHeaders: this response's CSP nonce. */
    secureHeadersNonce?: string
    /** Whether the request carries the owner's session. */
    owner: boolean
  }
}

export type WebContext = Context<WebEnv>

/** htmx sends this header on its own requests; they get fragments instead of whole pages. */
export function isHtmx(c: WebContext): boolean {
  return c.req.header('hx-request') === 'true'
}
