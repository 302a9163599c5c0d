import { raw } from 'hono/html'
import type { Child } from 'hono/jsx'
import { RequestContext } from '../../views/context.ts'
import type { WebContext } from './env.ts'

/** Renders a view with this request's nonce and owner flag; whole pages get a doctype, fragments do not. */
export function render(c: WebContext, view: Child, { status = 200, fragment = false }: { status?: number; fragment?: boolean } = {}) {
  const body = <RequestContext.Provider value={{ nonce: c.get('secureHeadersNonce') ?? '', owner: c.get('owner') ?? false }}>{view}</RequestContext.Provider>
  return c.html(
    fragment ? (
      body
    ) : (
      <>
        {raw('<!DOCTYPE html>')}
        {body}
      </>
    ),
    status as 200,
  )
}
