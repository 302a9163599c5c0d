import { isIP } from 'node:net'
import { resolve } from 'node:path'
import { parseArgs } from 'node:util'
import { multiaddr } from '@multiformats/multiaddr'
import { isGroupName } from './article/index.ts'

/** Everything a node needs to start, from the command line and the environment. */
export interface Config {
  readonly command: 'start' | 'mirror'
  /** With `mirror`: the group to mirror. */
  readonly group: string | undefined
  readonly port: number
  readonly bind: string
  readonly dataDir: string
  /** Directory of demo content for a fresh node, or undefined for none. */
  readonly seedsDir: string | undefined
  /** Host header values the web UI answers to besides the bind address (DNS-rebinding defence). */
  readonly allowedHosts: readonly string[]
  /** Multiaddrs the peer listens on for other nodes. */
  readonly listen: readonly string[]
  /** Peers to connect to and keep connected to, as multiaddrs ending in /p2p/<peer id>. */
  readonly peers: readonly string[]
  /** Find peers on the local network by mDNS. */
  readonly mdns: boolean
  /** Most bytes per second of history served to neighbours, all together; undefined for no cap. */
  readonly serveRate: number | undefined
  readonly help: boolean
}

/** A bad option or value; the message is one line an operator can act on. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError'
}

export const USAGE = `Usage: usenet-node [start] [options]
       usenet-node mirror <group> --peer <multiaddr> [options]

start (the default) runs a node: a SQLite store in the data directory, seeded demo groups on first start,
the web UI, and a peer that floods posts with its neighbours and keeps their groups in sync.
mirror runs the same node until it holds the whole history of <group>, fetched from every --peer at once
(each serves a share), showing progress, then exits; the next start keeps the group current.

Options:
  --port <n>             web UI port (default 8080, env USENET_PORT)
  --bind <address>       address the web UI listens on (default 127.0.0.1, env USENET_BIND)
  --data-dir <path>      where the database and the owner's key live (default ./data, env USENET_DATA_DIR)
  --seeds <path>         demo content imported on first start (default: the seeds/ of this package)
  --no-seeds             start without demo content
  --allowed-host <host>  also answer to this Host header (repeatable), e.g. when behind a proxy
  --listen <multiaddr>   where other nodes reach this one (repeatable; default /ip4/127.0.0.1/tcp/7070,
                         env USENET_LISTEN); use /ip4/0.0.0.0/tcp/7070 to accept nodes of other machines
  --peer <multiaddr>     a node to connect to, e.g. /ip4/192.0.2.7/tcp/7070/p2p/12D3KooW… (repeatable;
                         env USENET_PEERS, comma-separated)
  --mdns                 also find nodes on the local network (off by default)
  --serve-rate <KiB/s>   cap the upload of history to other nodes, all together (default: no cap,
                         env USENET_SERVE_RATE); gossip of new posts is not capped
  -h, --help             show this help
`

const DEFAULT_SEEDS_DIR = resolve(import.meta.dirname, '..', 'seeds')

/** Reads options and environment; pure, fails fast with a ConfigError, returns a frozen object. */
export function loadConfig(argv: readonly string[], env: Readonly<Record<string, string | undefined>> = {}): Config {
  let parsed: ReturnType<typeof parse>
  try {
    parsed = parse(argv)
  } catch (err) {
    throw new ConfigError(`${(err as Error).message.split('\n')[0]} (see --help)`)
  }
  const { values, positionals } = parsed
  const [command = 'start', ...rest] = positionals
  if (command !== 'start' && command !== 'mirror') throw new ConfigError(`unknown command "${command}" (see --help)`)
  const [group, ...extra] = command === 'mirror' ? rest : [undefined, ...rest]
  if (extra.length > 0) throw new ConfigError(`unexpected argument "${extra[0]}" (see --help)`)
  if (command === 'mirror' && group === undefined && !values.help) throw new ConfigError('mirror needs a group: usenet-node mirror <group> --peer <multiaddr>')
  if (group !== undefined && !isGroupName(group)) throw new ConfigError(`"${group}" is not a group name (for example comp.lang.typescript)`)

  const port = parsePort(values.port ?? env.USENET_PORT ?? '8080')
  const bind = values.bind ?? env.USENET_BIND ?? '127.0.0.1'
  if (bind !== 'localhost' && isIP(bind) === 0) throw new ConfigError(`--bind "${bind}" is not an IP address (for example 127.0.0.1 or 0.0.0.0)`)
  const dataDir = values['data-dir'] ?? env.USENET_DATA_DIR ?? 'data'
  if (dataDir.trim() === '') throw new ConfigError('--data-dir is empty')
  if (values['no-seeds'] && values.seeds) throw new ConfigError('--seeds and --no-seeds contradict each other')
  const allowedHosts = (values['allowed-host'] ?? []).map((host) => {
    if (!/^[A-Za-z0-9.-]+(:\d+)?$|^\[[0-9a-fA-F:]+\](:\d+)?$/.test(host)) throw new ConfigError(`--allowed-host "${host}" is not a host name`)
    return host.toLowerCase()
  })
  const listen = (values.listen ?? splitList(env.USENET_LISTEN) ?? ['/ip4/127.0.0.1/tcp/7070']).map((addr) => checkMultiaddr(addr, '--listen', false))
  const peers = [...(values.peer ?? []), ...(splitList(env.USENET_PEERS) ?? [])].map((addr) => checkMultiaddr(addr, '--peer', true))
  if (command === 'mirror' && peers.length === 0 && !values.help) throw new ConfigError('mirror needs --peer <multiaddr> of a node that carries the group')
  const serveRate = parseServeRate(values['serve-rate'] ?? env.USENET_SERVE_RATE)
  return Object.freeze({
    command,
    group,
    port,
    bind,
    dataDir: resolve(dataDir),
    seedsDir: values['no-seeds'] ? undefined : resolve(values.seeds ?? DEFAULT_SEEDS_DIR),
    allowedHosts: Object.freeze(allowedHosts),
    listen: Object.freeze(listen),
    peers: Object.freeze(peers),
    mdns: values.mdns ?? false,
    serveRate,
    help: values.help ?? false,
  })
}

function parse(argv: readonly string[]) {
  return parseArgs({
    args: [...argv],
    allowPositionals: true,
    strict: true,
    options: {
      port: { type: 'string' },
      bind: { type: 'string' },
      'data-dir': { type: 'string' },
      seeds: { type: 'string' },
      'no-seeds': { type: 'boolean' },
      'allowed-host': { type: 'string', multiple: true },
      listen: { type: 'string', multiple: true },
      peer: { type: 'string', multiple: true },
      mdns: { type: 'boolean' },
      'serve-rate': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  })
}

/** KiB per second, given as a whole number, into bytes per second. */
function parseServeRate(value: string | undefined): number | undefined {
  if (value === undefined || value.trim() === '') return undefined
  if (!/^\d+$/.test(value.trim()) || Number(value) < 1 || Number(value) > 10_000_000) {
    throw new ConfigError(`--serve-rate "${value}" is not a number of KiB per second from 1 to 10000000 (for example 1024 for 1 MiB/s)`)
  }
  return Number(value) * 1024
}

function splitList(value: string | undefined): string[] | undefined {
  if (value === undefined || value.trim() === '') return undefined
  return value.split(',').map((v) => v.trim())
}

/** A TCP multiaddr; a peer's must also name its peer id, so we know whom we reach. */
function checkMultiaddr(value: string, option: string, needsPeerId: boolean): string {
  let protocols: string[]
  try {
    protocols = multiaddr(value).protoNames()
  } catch {
    throw new ConfigError(`${option} "${value}" is not a multiaddr (for example /ip4/127.0.0.1/tcp/7070${needsPeerId ? '/p2p/12D3KooW…' : ''})`)
  }
  if (!protocols.includes('tcp') || !['ip4', 'ip6', 'dns', 'dns4', 'dns6'].includes(protocols[0] ?? '')) {
    throw new ConfigError(`${option} "${value}" is not a TCP address (for example /ip4/127.0.0.1/tcp/7070)`)
  }
  if (needsPeerId && protocols.at(-1) !== 'p2p')
    throw new ConfigError(`${option} "${value}" does not end in /p2p/<peer id>; copy the whole address from the peer's node page`)
  return value
}

function parsePort(value: string): number {
  if (!/^\d{1,5}$/.test(value) || Number(value) > 65535) throw new ConfigError(`--port "${value}" is not a port number (0-65535)`)
  return Number(value)
}
