#!/usr/bin/env node
// Runs src/cli.ts under Node 24 or later. When the node that started this is older (these machines ship
// Node 20), it re-executes with the Node 24 binary of the `node` package this project depends on.
import { spawn } from 'node:child_process'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { COMPILE_CACHE_DIR, NODE_FLAGS } from './node-flags.mjs'

const here = dirname(fileURLToPath(import.meta.url))
const cli = join(here, '..', 'src', 'cli.ts')
const major = Number(process.versions.node.split('.')[0])
const node = major >= 24 ? process.execPath : join(dirname(fileURLToPath(import.meta.resolve('node/package.json'))), 'bin', 'node')
const child = spawn(node, [...NODE_FLAGS, '--import', import.meta.resolve('tsx'), cli, ...process.argv.slice(2)], {
  stdio: 'inherit',
  env: { ...process.env, NODE_COMPILE_CACHE: COMPILE_CACHE_DIR },
})
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => child.kill(signal))
child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)))
