import type { MiddlewareHandler } from 'hono'
import { bodyLimit } from 'hono/body-limit'
import { NONCE, secureHeaders } from 'hono/secure-headers'
import type { WebEnv } from './env.ts'
import { HttpError } from './http-error.ts'

/** Forms carry at most one article (64 KiB), which URL encoding can triple. */
export const MAX_REQUEST_BODY_BYTES = 256 * 1024

/**
 * Answers only to the host names the node is reached by, so a hostile page cannot point its own domain at
 * 127.0.0.1 and read the UI (DNS rebinding).
 */
export function allowedHostsOnly(allowed: ReadonlySet<string>): MiddlewareHandler<WebEnv> {
  return async function allowedHostsOnly(c, next) {
    const host = (c.req.header('host') ?? new URL(c.req.url).host).toLowerCase()
    if (!allowed.has(host)) throw new HttpError(403, `this node does not answer to the host name "${host.slice(0, 100)}"`)
    await next()
  }
}

/**
 * Refuses every state-changing request that a browser did not send from one of our own pages. Hono's csrf()
 * only checks form content types; this checks every method but GET and HEAD. Scripts use the API with the
 * owner's token in an Authorization header, which no other site can make a browser send.
 */
export function sameOriginWrites(): MiddlewareHandler<WebEnv> {
  return async function sameOriginWrites(c, next) {
    if (c.req.method === 'GET' || c.req.method === 'HEAD') return next()
    // API writes accept only the bearer token, never the cookie, so a forged cross-site request has nothing to ride on.
    if (c.req.path.startsWith('/api/')) return next()
    const site = c.req.header('sec-fetch-site')
    const origin = c.req.header('origin')
    const own = `${new URL(c.req.url).protocol}//${c.req.header('host') ?? new URL(c.req.url).host}`
    const sameOrigin = site !== undefined ? site === 'same-origin' : origin === own
    if (!sameOrigin) throw new HttpError(403, 'this request did not come from one of this node’s own pages; reload the page and try again')
    await next()
  }
}

/** CSP with a fresh nonce per response, and the usual hardening headers. */
export function securityHeaders(): MiddlewareHandler<WebEnv> {
  return secureHeaders({
    contentSecurityPolicy: {
      defaultSrc: ["'none'"],
      scriptSrc: [NONCE],
      styleSrc: ["'self'"],
      imgSrc: ["'self'"],
      connectSrc: ["'self'"],
      formAction: ["'self'"],
      frameAncestors: ["'none'"],
      baseUri: ["'none'"],
    },
    referrerPolicy: 'no-referrer',
    crossOriginResourcePolicy: 'same-origin',
    crossOriginOpenerPolicy: 'same-origin',
    xFrameOptions: 'DENY',
    // HSTS means nothing over plain HTTP on loopback, and would pin a name the operator may later serve without TLS.
    strictTransportSecurity: false,
  })
}

export function requestBodyLimit(): MiddlewareHandler<WebEnv> {
  return bodyLimit({
    maxSize: MAX_REQUEST_BODY_BYTES,
    onError: () => {
      throw new HttpError(413, `the request is larger than ${MAX_REQUEST_BODY_BYTES / 1024} KiB`)
    },
  })
}
