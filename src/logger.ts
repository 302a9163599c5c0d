/**
 * A tiny namespaced logger (as js-libp2p's `logger.forComponent`). Lines go to stderr so stdout stays for
 * what the CLI prints to the person. Level from USENET_LOG: error, warn, info (default) or debug.
 */
export interface Logger {
  debug(message: string): void
  info(message: string): void
  warn(message: string): void
  error(message: string): void
}

const LEVELS = { debug: 10, info: 20, warn: 30, error: 40, silent: 100 } as const
type Level = keyof typeof LEVELS

function threshold(): number {
  const wanted = (process.env.USENET_LOG ?? 'info') as Level
  return LEVELS[wanted] ?? LEVELS.info
}

export function createLogger(namespace: string): Logger {
  const min = threshold()
  const write = (level: Level) => (message: string) => {
    if (LEVELS[level] < min) return
    process.stderr.write(`${new Date().toISOString()} ${level} ${namespace}: ${message}\n`)
  }
  return { debug: write('debug'), info: write('info'), warn: write('warn'), error: write('error') }
}
