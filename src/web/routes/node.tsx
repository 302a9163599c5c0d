import { Hono, type MiddlewareHandler } from 'hono'
import { NodePage } from '../../../views/node.tsx'
import type { WebDeps } from '../deps.ts'
import type { WebEnv } from '../env.ts'
import { readForm } from '../forms.ts'
import { render } from '../render.tsx'
import { syncRow } from '../view-models.ts'

const PEER_ADDRESS = /^\/(ip4|ip6|dns|dns4|dns6)\/[^/\s]+\/tcp\/\d{1,5}\/p2p\/[1-9A-HJ-NP-Za-km-z]{40,60}$/

/** `/node`: the peer id and addresses to share, the connected peers, and (owner) connecting to a new one. */
export function nodeRoutes(deps: WebDeps, requireOwner: MiddlewareHandler<WebEnv>) {
  const app = new Hono<WebEnv>()
  const info = () => deps.network && { peerId: deps.network.peerId, multiaddrs: deps.network.multiaddrs(), connectedPeers: deps.network.connectedPeers() }

  const sync = () => (deps.sync?.status() ?? []).map((p) => syncRow(p))

  app.get('/node', function nodePage(c) {
    return render(c, <NodePage info={info()} sync={sync()} />)
  })

  app.post('/node/peers', requireOwner, async function addPeer(c) {
    const { address = '' } = await readForm(c, ['address'])
    const trimmed = address.trim()
    if (!deps.network) return render(c, <NodePage info={undefined} />, { status: 404 })
    if (!PEER_ADDRESS.test(trimmed)) {
      return render(
        c,
        <NodePage
          info={info()}
          message={{ ok: false, text: 'That is not a peer address: copy a whole /ip4/…/tcp/…/p2p/… line from the other node’s page.' }}
        />,
        { status: 400 },
      )
    }
    try {
      const peerId = await deps.network.addPeer(trimmed)
      return render(c, <NodePage info={info()} sync={sync()} message={{ ok: true, text: `Connected to ${peerId}.` }} />)
    } catch (err) {
      return render(c, <NodePage info={info()} sync={sync()} message={{ ok: false, text: `Could not connect: ${(err as Error).message}` }} />, { status: 502 })
    }
  })
  return app
}
