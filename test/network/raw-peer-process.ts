/*
 * A raw peer (see support.ts) in a process of its own, so a flood's cost to the sender is not counted
 * against the node under test. Started by `spawnRawPeer`; argv: the address to dial, then the groups.
 * Requests come over the IPC channel as { id, op, ... } and each gets one { id, result } or { id, error }.
 */
import { createHash, randomBytes } from 'node:crypto'
import { startRawPeer } from './support.ts'

type Request =
  | { id: number; op: 'publish'; group: string; data: string }
  | { id: number; op: 'flood'; group: string; count: number; batch: number; bytes: number }
  | { id: number; op: 'received'; group: string; sha256: string }
  | { id: number; op: 'stop' }

const [address, ...groups] = process.argv.slice(2)
const peer = await startRawPeer({ dial: [address!], groups })
const digest = (data: Uint8Array) => createHash('sha256').update(data).digest('hex')

async function answer(request: Request): Promise<unknown> {
  switch (request.op) {
    case 'publish':
      return peer.publish(request.group, Buffer.from(request.data, 'base64'))
    case 'flood': {
      const started = Date.now()
      for (let sent = 0; sent < request.count; sent += request.batch) {
        const n = Math.min(request.batch, request.count - sent)
        await Promise.all(Array.from({ length: n }, () => peer.publish(request.group, randomBytes(request.bytes))))
      }
      return { ms: Date.now() - started, rss: process.memoryUsage().rss }
    }
    case 'received':
      return peer.received(request.group).some((data) => digest(data) === request.sha256)
    case 'stop':
      await peer.stop()
      setImmediate(() => process.exit(0))
      return true
  }
}

process.on('message', (request: Request) => {
  answer(request).then(
    (result) => process.send!({ id: request.id, result }),
    (err: Error) => process.send!({ id: request.id, error: err.message }),
  )
})
process.on('disconnect', () => process.exit(0))
process.send!({ ready: peer.peer.peerId })
