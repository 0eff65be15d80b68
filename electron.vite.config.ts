import { resolve } from 'node:path';
import { defineConfig } from 'electron-vite';
import react from '@vitejs/plugin-react';

import type { RollupLog } from 'rollup';

// zod's sources carry /* @__PURE__ */ comments in places Rollup cannot use; Rollup drops them and says so, harmlessly.
const onwarn = (warning: RollupLog, warn: (w: RollupLog) => void) => {
  if (warning.code !== 'INVALID_ANNOTATION') warn(warning);
};

// Our folders are src-main / src-renderer, not electron-vite's default src/main, src/preload, src/renderer.
export default defineConfig({
  main: {
    build: {
      rollupOptions: {
        input: {
          index: resolve(__dirname, 'src-main/electron/main.ts'),
          // A dataset import's reading and indexing threads (datasets/jobs/import.ts loads it from beside the main bundle).
          'import-worker': resolve(__dirname, 'src-main/core/datasets/jobs/import-worker.ts'),
          // A file preview's thread, stopped when it takes too long (preview.ts loads it from beside the main bundle).
          'preview-worker': resolve(__dirname, 'src-main/core/datasets/preview-worker.ts'),
          // The native engine's child process (native/client.ts forks it from beside the main bundle).
          'engine-host': resolve(__dirname, 'src-main/core/native/engine-host.ts'),
        },
        onwarn,
      },
    },
  },
  preload: {
    build: {
      rollupOptions: {
        input: { index: resolve(__dirname, 'src-main/electron/preload.ts') },
        onwarn,
        // A sandboxed preload cannot be an ES module: bundle it into one CommonJS file.
        output: { format: 'cjs', entryFileNames: '[name].cjs' },
      },
    },
  },
  renderer: {
    root: resolve(__dirname, 'src-renderer'),
    plugins: [react()],
    build: {
      rollupOptions: { input: { index: resolve(__dirname, 'src-renderer/index.html') }, onwarn },
      chunkSizeWarningLimit: 2000,
    },
  },
});
