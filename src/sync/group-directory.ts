import { openGroupDescriptor, parseGroupName, signGroupDescriptor, type AuthorKey, type GroupDescriptor, type GroupName } from '../article/index.ts'
import type { Logger } from '../logger.ts'
import { addGroup, carriedGroupDescriptors, getGroup, setGroupDescriptor, setSubscribed, type Db } from '../store/index.ts'
import type { AntiEntropy } from './anti-entropy.ts'
import { PostingError } from './errors.ts'
import type { Gossip, GossipTransport } from './gossip.ts'
import type { StreamTransport } from './transport.ts'

/** New groups are announced on this topic; a neighbour learns of them and may subscribe. */
export const GROUPS_TOPIC = '/usenet/1/groups'
/** On connecting, each side asks the other for the announcements of the groups it carries. */
export const GROUPS_PROTOCOL = '/usenet/groups/1'
const MAX_ANNOUNCEMENTS = 1000

export interface GroupNetwork {
  transport: GossipTransport & StreamTransport
  gossip: Gossip
  antiEntropy: AntiEntropy
  connectedPeers(): string[]
}

export interface GroupDirectory {
  /** Joins the announcement topic and answers neighbours' requests. */
  start(): Promise<void>
  /** Creates a group carried here, signed by the owner, and announces it. */
  create(name: string, description: string): Promise<GroupDescriptor>
  /** Starts carrying a known group: stores and relays its posts, and pulls its history from neighbours. */
  subscribe(name: string, options?: { pull?: boolean }): Promise<void>
  /** Stops carrying a group: its posts are no longer taken or relayed (those stored stay). */
  unsubscribe(name: string): Promise<void>
  /** Asks a neighbour which groups it carries; returns how many were new here. */
  learnFrom(peerId: string): Promise<number>
}

export function createGroupDirectory({
  db,
  owner,
  log,
  network,
  now = Date.now,
}: {
  db: Db
  owner: AuthorKey
  log: Logger
  network?: GroupNetwork
  now?: () => number
}): GroupDirectory {
  /** Records an announcement from outside; true if the group is new here. */
  async function learn(bytes: Uint8Array): Promise<boolean> {
    const descriptor = openGroupDescriptor(bytes)
    const added = await addGroup(db, {
      name: descriptor.name,
      description: descriptor.description,
      createdAt: now(),
      subscribed: false,
      descriptor: descriptor.bytes,
    })
    if (!added) await setGroupDescriptor(db, descriptor.name, descriptor.bytes)
    else log.info(`learned of the group ${descriptor.name}`)
    return added
  }

  async function known(name: string): Promise<GroupName> {
    const group = await getGroup(db, parseGroupName(name))
    if (!group) throw new PostingError('unknown-group', `this node does not know a group named ${name}`)
    return group.name as GroupName
  }

  return {
    async start() {
      if (!network) return
      network.transport.joinTopic(GROUPS_TOPIC, async (data, from) => {
        try {
          return (await learn(data)) ? 'accept' : 'ignore'
        } catch (err) {
          log.debug(`rejected a group announcement from ${from}: ${(err as Error).message}`)
          return 'reject'
        }
      })
      await network.transport.handle(GROUPS_PROTOCOL, async (stream) => {
        for (const descriptor of await carriedGroupDescriptors(db, MAX_ANNOUNCEMENTS)) await stream.write(descriptor)
        await stream.write(new Uint8Array(0))
      })
    },

    async create(name, description) {
      const descriptor = signGroupDescriptor({ name: parseGroupName(name), description, date: now() }, owner)
      const added = await addGroup(db, { name: descriptor.name, description: descriptor.description, createdAt: now(), descriptor: descriptor.bytes })
      if (!added) throw new PostingError('rejected', `a group named ${descriptor.name} already exists on this node`)
      if (network) {
        network.gossip.carry(descriptor.name)
        await network.transport
          .publish(GROUPS_TOPIC, descriptor.bytes)
          .catch((err) => log.warn(`announcing ${descriptor.name} failed: ${(err as Error).message}`))
      }
      return descriptor
    },

    async subscribe(name, { pull = true } = {}) {
      const group = await known(name)
      await setSubscribed(db, group, true)
      if (!network) return
      network.gossip.carry(group)
      if (!pull) return
      // From every neighbour at once: the history is shared out between those that hold it.
      const neighbours = network.connectedPeers()
      if (neighbours.length > 0) void network.antiEntropy.pullFrom(neighbours, group)
    },

    async unsubscribe(name) {
      const group = await known(name)
      await setSubscribed(db, group, false)
      network?.gossip.drop(group)
    },

    async learnFrom(peerId) {
      if (!network) return 0
      const stream = await network.transport.open(peerId, GROUPS_PROTOCOL, { signal: AbortSignal.timeout(10_000) })
      let added = 0
      try {
        for (let i = 0; i <= MAX_ANNOUNCEMENTS; i++) {
          const frame = await stream.read()
          if (frame.length === 0) break
          try {
            if (await learn(frame)) added++
          } catch (err) {
            log.debug(`${peerId} sent a bad group announcement: ${(err as Error).message}`)
            break
          }
        }
      } finally {
        await stream.close().catch(() => undefined)
      }
      return added
    },
  }
}
