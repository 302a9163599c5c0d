import { Layout } from './layout.tsx'

export function SettingsPage({ displayName, authorKey, fingerprint, saved }: { displayName: string; authorKey: string; fingerprint: string; saved: boolean }) {
  return (
    <Layout title="Settings">
      <h1>Settings</h1>
      <p>
        You post as <strong>{displayName}</strong> <span class="fp">·{fingerprint}</span>, signed with the key <code>{authorKey}</code> kept in this node's data
        directory.
      </p>
      {saved && <p class="notice">Saved.</p>}
      <form method="post" action="/settings">
        <label>
          Display name
          <input name="displayName" value={displayName} required maxlength={64} />
        </label>
        <button type="submit">Save</button>
      </form>
    </Layout>
  )
}

export function LoginPage({ failed }: { failed: boolean }) {
  return (
    <Layout title="Owner login">
      <h1>Owner login</h1>
      <p>
        Posting and settings belong to this node's owner. The node printed a login link when it started; the token is also in the data directory (owner.token).
      </p>
      {failed && <p class="error">That token is not this node's.</p>}
      <form method="post" action="/login">
        <label>
          Token
          <input name="token" type="password" required autocomplete="off" />
        </label>
        <button type="submit">Log in</button>
      </form>
    </Layout>
  )
}
