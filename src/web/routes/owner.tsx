import { Hono, type MiddlewareHandler } from 'hono'
import { keyFingerprint, parseDisplayName } from '../../article/index.ts'
import { LoginPage, SettingsPage } from '../../../views/settings.tsx'
import type { WebDeps } from '../deps.ts'
import type { WebEnv } from '../env.ts'
import { readForm } from '../forms.ts'
import type { OwnerAuth } from '../owner.ts'
import { render } from '../render.tsx'

/** Login with the owner token, logout, and the owner's settings. */
export function ownerRoutes(deps: WebDeps, auth: OwnerAuth, requireOwner: MiddlewareHandler<WebEnv>) {
  const app = new Hono<WebEnv>()

  // The link the node prints at start: GET with the token, then redirect so it leaves the address bar.
  app.get('/login', async function login(c) {
    const token = c.req.query('token')
    if (token === undefined) return render(c, <LoginPage failed={false} />)
    if (!auth.isToken(token)) return render(c, <LoginPage failed={true} />, { status: 403 })
    auth.startSession(c)
    return c.redirect('/', 303)
  })

  app.post('/login', async function loginForm(c) {
    const { token } = await readForm(c, ['token'])
    if (!auth.isToken(token?.trim())) return render(c, <LoginPage failed={true} />, { status: 403 })
    auth.startSession(c)
    return c.redirect('/', 303)
  })

  app.post('/logout', async function logout(c) {
    auth.endSession(c)
    return c.redirect('/', 303)
  })

  app.get('/settings', requireOwner, async function settings(c) {
    const name = await deps.owner.displayName()
    return render(
      c,
      <SettingsPage
        displayName={name}
        authorKey={deps.owner.authorKey}
        fingerprint={keyFingerprint(deps.owner.authorKey)}
        saved={c.req.query('saved') === '1'}
      />,
    )
  })

  app.post('/settings', requireOwner, async function saveSettings(c) {
    const form = await readForm(c, ['displayName'])
    await deps.owner.setDisplayName(parseDisplayName(form.displayName ?? ''))
    return c.redirect('/settings?saved=1', 303)
  })

  return app
}
