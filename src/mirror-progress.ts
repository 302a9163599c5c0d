import type { SyncProgress } from './sync/index.ts'

/**
 * How `usenet-node mirror` shows progress: a bar redrawn in place on a terminal, plain lines (at most one
 * a second) when the output is a file or a pipe.
 */
export function progressPrinter(out: NodeJS.WriteStream): { update(p: SyncProgress): void; finish(p: SyncProgress): void } {
  let lastLine = 0
  const describe = (p: SyncProgress) => {
    const seconds = Math.max(0.001, (Date.now() - p.startedAt) / 1000)
    const rate = p.postsStored / seconds
    const left = p.postsWanted - p.postsStored
    const eta = rate > 0 && left > 0 ? ` · ${Math.ceil(left / rate)} s left` : ''
    return `${p.postsStored}/${p.postsWanted} posts · ${p.daysChecked}/${p.daysToCheck} days compared · ${Math.round(rate)} posts/s${eta}`
  }
  return {
    update(p) {
      if (out.isTTY) {
        const width = 24
        const filled = p.postsWanted === 0 ? 0 : Math.round((width * p.postsStored) / p.postsWanted)
        out.write(`\r[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${describe(p)}\u001b[K`)
      } else if (Date.now() - lastLine >= 1000) {
        lastLine = Date.now()
        out.write(`${describe(p)}\n`)
      }
    },
    finish(p) {
      out.write(`${out.isTTY ? '\r\u001b[K' : ''}mirrored ${p.group}: ${p.postsStored} new posts (${describe(p)})\n`)
    },
  }
}
