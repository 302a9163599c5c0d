// The entry of a verify pool's worker thread. A worker does not inherit the loader that lets the main
// thread import TypeScript when that loader is vitest's (or any in-process one), so register tsx's here;
// under the CLI (`--import tsx`, inherited through execArgv) this adds the same hooks once more, harmlessly.
import { register } from 'tsx/esm/api'

register()
await import('./verify-worker.ts')
