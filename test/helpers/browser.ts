import { chromium, type Browser } from 'playwright-core'

/**
 * Debian's Chromium, headless, with the background services off that this machine's closed network would
 * refuse (no browser download works here).
 */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
  })
}
