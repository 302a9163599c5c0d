import { defineConfig } from 'vitest/config'

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts', 'test/**/*.test.tsx'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // Browser and multi-process tests start servers; two files at a time suits a 2-core machine.
    maxWorkers: 2,
  },
})
