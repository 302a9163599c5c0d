/** The V8 heap settings every node process runs with: see node-flags.mjs. */
export declare const NODE_FLAGS: readonly string[]
