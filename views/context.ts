import { createContext, useContext } from 'hono/jsx'
import type { PageContext } from './models.ts'

/** Per-request facts every component may need, without threading them through every prop. */
export const RequestContext = createContext<PageContext>({ nonce: '', owner: false })

export function usePage(): PageContext {
  return useContext(RequestContext)
}
