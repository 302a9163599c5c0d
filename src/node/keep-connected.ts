import type { Logger } from '../logger.ts'
import type { Peer } from './peer.ts'

export interface KeepConnectedInit {
  /** First retry after a failed dial, in ms; doubles per failure up to `maxDelayMs`. */
  minDelayMs?: number
  maxDelayMs?: number
  /** How often the loop looks for addresses to dial, in ms. */
  tickMs?: number
}

/**
 * Keeps the node connected to the addresses it is told about (the command line's --peer and the peers it
 * reached before), dialling again with exponential back-off and a little jitter after a failure or a drop.
 * `onConnected` hears each successful dial, so the caller can remember the address.
 */
export function keepConnected(
  peer: Peer,
  addresses: () => Promise<readonly string[]>,
  { log, onConnected }: { log: Logger; onConnected: (address: string, peerId: string) => void },
  { minDelayMs = 1000, maxDelayMs = 60_000, tickMs = 1000 }: KeepConnectedInit = {},
): { stop(): void; now(): void } {
  const retry = new Map<string, { at: number; delay: number }>()
  let running = false
  let stopped = false

  async function tick(): Promise<void> {
    if (running || stopped) return
    running = true
    try {
      const connected = new Set(peer.connectedPeers())
      const now = Date.now()
      for (const address of await addresses()) {
        const peerId = address.split('/p2p/').at(-1) ?? ''
        if (peerId === peer.peerId || connected.has(peerId)) continue
        const state = retry.get(address)
        if (state && state.at > now) continue
        try {
          const remote = await peer.dial(address, { signal: AbortSignal.timeout(5000) })
          retry.delete(address)
          onConnected(address, remote)
        } catch (err) {
          const delay = Math.min(maxDelayMs, (state?.delay ?? minDelayMs / 2) * 2)
          retry.set(address, { at: Date.now() + delay * (0.8 + Math.random() * 0.4), delay })
          log.debug(`cannot reach ${address} (next try in ${Math.round(delay / 1000)} s): ${(err as Error).message}`)
        }
      }
    } finally {
      running = false
    }
  }

  const timer = setInterval(() => void tick(), tickMs)
  timer.unref()
  void tick()
  return {
    stop() {
      stopped = true
      clearInterval(timer)
    },
    now() {
      retry.clear()
      void tick()
    },
  }
}
