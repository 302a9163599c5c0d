import { createHmac, timingSafeEqual } from 'node:crypto'
import type { Context, MiddlewareHandler } from 'hono'
import { deleteCookie, getCookie, setCookie } from 'hono/cookie'
import type { WebEnv } from './env.ts'
import { HttpError } from './http-error.ts'

const COOKIE = 'usenet_owner'

/**
 * The owner proves themselves with the token the node printed at start (as Jupyter does). The browser then
 * keeps a session cookie derived from the token (HttpOnly, SameSite=Strict); scripts send the token itself.
 */
export class OwnerAuth {
  private readonly session: string
  private readonly token: string

  constructor(token: string) {
    this.token = token
    this.session = createHmac('sha256', token).update('usenet-p2p owner session v1').digest('base64url')
  }

  isToken(candidate: string | undefined): boolean {
    return candidate !== undefined && safeEqual(candidate, this.token)
  }

  hasSession(c: Context): boolean {
    const cookie = getCookie(c, COOKIE)
    return cookie !== undefined && safeEqual(cookie, this.session)
  }

  startSession(c: Context): void {
    setCookie(c, COOKIE, this.session, { httpOnly: true, sameSite: 'Strict', path: '/', maxAge: 60 * 60 * 24 * 365 })
  }

  endSession(c: Context): void {
    deleteCookie(c, COOKIE, { path: '/' })
  }

  /** Marks each request as the owner's or not, for views to show or hide posting. */
  detect(): MiddlewareHandler<WebEnv> {
    return async (c, next) => {
      c.set('owner', this.hasSession(c))
      await next()
    }
  }

  /** For the web UI's owner-only routes. */
  requireSession(): MiddlewareHandler<WebEnv> {
    return async function requireOwner(c, next) {
      if (!c.get('owner')) throw new HttpError(403, 'only this node’s owner can do that: log in with the link the node printed when it started')
      await next()
    }
  }

  /** For API writes: `Authorization: Bearer <token>`. */
  requireToken(): MiddlewareHandler<WebEnv> {
    return async (c, next) => {
      const header = c.req.header('authorization')
      const token = header?.startsWith('Bearer ') ? header.slice(7) : undefined
      if (!this.isToken(token)) throw new HttpError(401, 'send the owner token as "Authorization: Bearer <token>" (it is in the data directory, owner.token)')
      await next()
    }
  }
}

function safeEqual(a: string, b: string): boolean {
  const x = Buffer.from(a)
  const y = Buffer.from(b)
  return x.length === y.length && timingSafeEqual(x, y)
}
