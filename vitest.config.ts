import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 120_000,
    hookTimeout: 120_000,
    // ORT sessions use both cores; running files one at a time keeps timings and memory sane on CI's 2 cores
    fileParallelism: false,
  },
});
