/** The V8 heap settings every node process runs with: see node-flags.mjs. */
export declare const NODE_FLAGS: readonly string[]
/** Where node processes keep V8's compiled code of their modules (NODE_COMPILE_CACHE): see node-flags.mjs. */
export declare const COMPILE_CACHE_DIR: string
