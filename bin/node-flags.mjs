// The V8 heap settings every node process runs with (bin/usenet-node.mjs; bench/mirror.ts uses them too).
// Mirroring 50k posts, measured in process (medians): V8's defaults let the main heap reach 200 MiB with
// 90 MiB in use. A young generation of 8 MiB per semi-space brought peak RSS from 440-490 MiB to about
// 430. Growing the heap by a fixed share after each full collection, not V8's adaptive 1.1-4×, keeps what a
// mirror leaves behind (short-lived batches, most of them garbage by the next collection) from growing the
// heap. 20% brought peak RSS to about 340 MiB but cost a full collection too often: through the CLI bench
// (`npm run bench:mirror -- --sizes 50000 --runs 2`) a 50k mirror took 7.1-7.4 s at 20%, 6.2-6.4 s at 50%
// (peak RSS 357-365 MiB), 6.2-6.3 s at 80% (365-380 MiB), and the serving neighbour's CPU fell from 2.2-2.4
// to 1.3-1.6 s.
export const NODE_FLAGS = ['--max-semi-space-size=8', '--heap-growing-percent=50']
