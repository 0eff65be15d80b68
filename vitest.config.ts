import { defineConfig } from 'vitest/config';

// Suites are split by cost: `fast` (no model inference, no browser) runs first, then `engine`
// (real node-llama-cpp on the fixture models), then `e2e` (Chromium against `distillery serve`).
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 180_000,
    pool: 'forks',
    fileParallelism: false,
    globalSetup: ['test/fixtures/global-setup.ts'],
    sequence: { groupOrder: 0 },
  },
});
