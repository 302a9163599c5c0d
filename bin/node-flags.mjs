// How every node process runs (bin/usenet-node.mjs; bench/mirror.ts runs its nodes the same way).
import { fileURLToPath } from 'node:url'

// The V8 heap settings.
// Mirroring 50k posts, measured in process (medians): V8's defaults let the main heap reach 200 MiB with
// 90 MiB in use. A young generation of 8 MiB per semi-space brought peak RSS from 440-490 MiB to about
// 430. Growing the heap by a fixed share after each full collection, not V8's adaptive 1.1-4×, keeps what a
// mirror leaves behind (short-lived batches, most of them garbage by the next collection) from growing the
// heap. 20% brought peak RSS to about 340 MiB but cost a full collection too often: through the CLI bench
// (`npm run bench:mirror -- --sizes 50000 --runs 2`) a 50k mirror took 7.1-7.4 s at 20%, 6.2-6.4 s at 50%
// (peak RSS 357-365 MiB), 6.2-6.3 s at 80% (365-380 MiB), and the serving neighbour's CPU fell from 2.2-2.4
// to 1.3-1.6 s.
export const NODE_FLAGS = ['--max-semi-space-size=8', '--heap-growing-percent=50']

// V8's compiled code of the node's modules, kept beside the code (src/main.ts gives its verify threads the
// same directory): a node started from this checkout before comes up in about 0.74 s instead of 0.84 s, and
// a 10k mirror from the bench took 1.11-1.14 s instead of 1.20-1.27 s. NODE_COMPILE_CACHE, when set, wins.
export const COMPILE_CACHE_DIR = process.env.NODE_COMPILE_CACHE ?? fileURLToPath(new URL('../node_modules/.cache/usenet-node/compile', import.meta.url))
