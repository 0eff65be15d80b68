/**
 * `node --import tsx test/tools/build-llama-server.ts`: builds llama.cpp's llama-server (CPU) from the source
 * node-llama-cpp bundles, once per machine: cached under ~/.cache/distillery/llama.cpp/<tag>-src/build. The
 * OpenAI-compatible teacher is tested against it. Does nothing when it is already built.
 */
import { buildLlamaTools, llamaTool } from '../bench/llama-tools.js';

export function ensureLlamaServer(): string {
  const existing = llamaTool('llama-server');
  if (existing) return existing;
  console.error('building llama-server from the bundled llama.cpp source (once per machine; minutes on 2 cores)…');
  buildLlamaTools(['llama-server']);
  const built = llamaTool('llama-server');
  if (!built) throw new Error('llama-server was not built');
  return built;
}

if (process.argv[1]?.endsWith('build-llama-server.ts')) console.log(ensureLlamaServer());
