import { usePage } from './context.ts'
import { Layout } from './layout.tsx'
import { type SyncRow, SyncTable } from './sync-status.tsx'

export interface NodeInfo {
  readonly peerId: string
  readonly multiaddrs: readonly string[]
  readonly connectedPeers: readonly string[]
}

/** Who this node is on the network, how to reach it, and whom it is connected to. */
export function NodePage({
  info,
  sync = [],
  message,
}: {
  info: NodeInfo | undefined
  sync?: readonly SyncRow[]
  message?: { ok: boolean; text: string } | undefined
}) {
  const { owner } = usePage()
  return (
    <Layout title="Node">
      <h1>This node</h1>
      {!info ? (
        <p>This node runs without a network.</p>
      ) : (
        <>
          <p>
            Peer id <code>{info.peerId}</code>
          </p>
          <h2>Addresses</h2>
          <p class="hint">Give one of these to another node's owner (their "Add a peer" form, or --peer on the command line).</p>
          <ul class="addresses">
            {info.multiaddrs.map((a) => (
              <li>
                <code>{a}</code>
              </li>
            ))}
          </ul>
          <h2>Connected peers ({info.connectedPeers.length})</h2>
          {info.connectedPeers.length === 0 ? (
            <p>None yet.</p>
          ) : (
            <ul class="peers">
              {info.connectedPeers.map((p) => (
                <li>
                  <code>{p}</code>
                </li>
              ))}
            </ul>
          )}
          {message && (
            <p class={message.ok ? 'notice' : 'error'} role="status">
              {message.text}
            </p>
          )}
          {owner && (
            <form method="post" action="/node/peers">
              <label>
                Add a peer (multiaddr ending in /p2p/…)
                <input name="address" required placeholder="/ip4/192.0.2.7/tcp/7070/p2p/12D3KooW…" />
              </label>
              <button type="submit">Connect</button>
            </form>
          )}
        </>
      )}
      {(info || sync.length > 0) && (
        <>
          <h2>Sync with neighbours</h2>
          <SyncTable rows={sync} />
        </>
      )}
    </Layout>
  )
}
