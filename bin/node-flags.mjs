// The V8 heap settings every node process runs with (bin/usenet-node.mjs; bench/mirror.ts uses them too).
// Mirroring 50k posts, measured in process (medians): V8's defaults let the main heap reach 200 MiB with
// 90 MiB in use. A young generation of 8 MiB per semi-space brought peak RSS from 440-490 MiB to about
// 430; growing the heap by 20% after each full collection, not V8's adaptive 1.1-4×, brought it to about
// 330 MiB for about 1 s more GC CPU and the same wall time: what a mirror leaves behind is short-lived
// batches, most of them garbage by the next collection.
export const NODE_FLAGS = ['--max-semi-space-size=8', '--heap-growing-percent=20']
