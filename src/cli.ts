import { ConfigError, loadConfig, USAGE } from './config.ts'
import { createLogger } from './logger.ts'
import { startNode } from './main.ts'
import { progressPrinter } from './mirror-progress.ts'
import { StoreError } from './store/index.ts'
import { InvalidArticleError } from './article/index.ts'
import { MirrorError, SeedError } from './sync/index.ts'

/** Errors a person can fix: shown as one line, exit code 2 (bad usage) or 1 (cannot start). */
function fail(message: string, code: number): never {
  process.stderr.write(`usenet-node: ${message}\n`)
  process.exit(code)
}

async function main(argv: readonly string[]): Promise<void> {
  let config: ReturnType<typeof loadConfig>
  try {
    config = loadConfig(argv, process.env)
  } catch (err) {
    if (err instanceof ConfigError) fail(err.message, 2)
    throw err
  }
  if (config.help) {
    process.stdout.write(USAGE)
    return
  }
  const log = createLogger('node')
  let node: Awaited<ReturnType<typeof startNode>>
  try {
    node = await startNode(config, log)
  } catch (err) {
    if (err instanceof StoreError || err instanceof SeedError) fail(err.message, 1)
    const code = (err as NodeJS.ErrnoException).code
    if (code === 'EADDRINUSE') fail(`port ${config.port} on ${config.bind} is in use; pick another with --port`, 1)
    if (code === 'EACCES' || code === 'EADDRNOTAVAIL') fail(`cannot listen on ${config.bind}:${config.port} (${code})`, 1)
    throw err
  }
  process.stdout.write(`Node running: ${node.url}\nData directory: ${config.dataDir}\nOwner login (keep it private): ${node.loginUrl}\n`)
  if (config.command === 'mirror' && config.group !== undefined) {
    // From every --peer at once.
    const peerIds = config.peers.map((address) => address.split('/p2p/').at(-1)!)
    const printer = progressPrinter(process.stdout)
    try {
      printer.finish(await node.mirror(config.group, peerIds, (p) => printer.update(p)))
    } catch (err) {
      await node.stop()
      if (err instanceof MirrorError || err instanceof InvalidArticleError) fail(err.message, 1)
      throw err
    }
    await node.stop()
    // Stopped libp2p leaves timers of about a second behind (its address manager's debounce, gossipsub's
    // heartbeat): the mirror is done and stored, so the user need not wait for them.
    process.exit(0)
  }
  let stopping = false
  const stop = async (signal: string) => {
    if (stopping) return
    stopping = true
    log.info(`${signal}: stopping`)
    await node.stop()
    process.exit(0)
  }
  process.on('SIGINT', () => void stop('SIGINT'))
  process.on('SIGTERM', () => void stop('SIGTERM'))
}

main(process.argv.slice(2)).catch((err) => {
  process.stderr.write(`usenet-node: unexpected failure: ${(err as Error).stack ?? err}\n`)
  process.exit(70)
})
