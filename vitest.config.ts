import { defineConfig } from 'vitest/config';

// Suites are split by cost and run in this order: `fast` (SQLite, files, child-process CLI; no inference), `engine`
// (real node-llama-cpp on the fixture models, a killed server), `e2e` (Debian Chromium against `distillery serve`).
// Files run one at a time: the machine has 2 cores and inference tests measure nothing when they fight for them.
const shared = { testTimeout: 60_000, hookTimeout: 180_000, globalSetup: ['test/fixtures/global-setup.ts'] };
const project = (name: string, order: number, include: string[], globalSetup: string[] = []) => ({
  extends: true as const,
  test: { ...shared, globalSetup: [...shared.globalSetup, ...globalSetup], name, include, sequence: { groupOrder: order } },
});

export default defineConfig({
  test: {
    reporters: ['default', './test/reporters/summary-line.ts'],
    pool: 'forks',
    fileParallelism: false,
    projects: [
      project('fast', 0, [
        'test/store/**/*.test.ts',
        'test/jobs/**/*.test.ts',
        'test/contract/**/*.test.ts',
        'test/gguf/**/*.test.ts',
        'test/datasets/**/*.test.ts',
        'test/fuzz/**/*.test.ts',
        'test/models/**/*.test.ts',
        'test/sample/**/*.test.ts',
        'test/server/http-host.test.ts',
        'test/cli/**/*.test.ts',
        'test/distill/http-teacher.test.ts',
        'test/distill/tool-prompt.test.ts',
        'test/distill/http-distill.test.ts',
        'test/distill/fleet.test.ts',
        'test/distill/judge.test.ts',
        'test/distill/quality.test.ts',
        'test/adapters/*.test.ts',
        'test/electron/**/*.test.ts',
        'test/domain/**/*.test.ts',
        'test/evaluate/*.test.ts',
        'test/training/*.test.ts',
      ]),
      // llama.cpp's llama-server and llama-perplexity are built (or found in the cache) once, before the project's files
      project(
        'engine',
        1,
        [
          'test/fixtures/**/*.test.ts',
          'test/llm/**/*.test.ts',
          'test/playground/**/*.test.ts',
          'test/server/kill.test.ts',
          'test/distill/local.test.ts',
          'test/distill/cli.test.ts',
          'test/distill/llama-server.test.ts',
          'test/distill/kill.test.ts',
          'test/adapters/engine/**/*.test.ts',
          'test/native/**/*.test.ts',
          'test/quantize/**/*.test.ts',
          'test/system/**/*.test.ts',
          'test/evaluate/engine/**/*.test.ts',
          'test/training/engine/**/*.test.ts',
        ],
        ['test/fixtures/llama-tools-setup.ts'],
      ),
      project('e2e', 2, ['test/e2e/**/*.test.ts']),
    ],
  },
});
