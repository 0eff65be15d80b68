/**
 * `node --import tsx test/tools/build-llama-batched-bench.ts`: builds llama.cpp's llama-batched-bench (CPU) from the
 * source node-llama-cpp bundles, once per machine (cached under ~/.cache/distillery/llama.cpp/<tag>-src/build). The
 * engine bench (`npm run bench -- engine`) compares the app's batched generation with it. Does nothing when built.
 */
import { buildLlamaTools, llamaTool } from '../bench/llama-tools.js';

export function ensureLlamaBatchedBench(): string {
  const existing = llamaTool('llama-batched-bench');
  if (existing) return existing;
  console.error('building llama-batched-bench from the bundled llama.cpp source (once per machine; minutes on 2 cores)…');
  buildLlamaTools(['llama-batched-bench']);
  const built = llamaTool('llama-batched-bench');
  if (!built) throw new Error('llama-batched-bench was not built');
  return built;
}

if (process.argv[1]?.endsWith('build-llama-batched-bench.ts')) console.log(ensureLlamaBatchedBench());
