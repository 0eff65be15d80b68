/**
 * `node --import tsx test/tools/build-llama-quantize.ts`: builds llama.cpp's llama-quantize and llama-imatrix (CPU)
 * from the source node-llama-cpp bundles, once per machine (cached like llama-perplexity). The app's importance-matrix
 * files are checked against what these tools write and read. Does nothing when both are built.
 */
import { buildLlamaTools, llamaTool } from '../bench/llama-tools.js';

const TOOLS = ['llama-quantize', 'llama-imatrix'] as const;

export function ensureLlamaQuantizeTools(): { quantize: string; imatrix: string } {
  if (TOOLS.some((t) => !llamaTool(t))) {
    console.error('building llama-quantize and llama-imatrix from the bundled llama.cpp source (once per machine)…');
    buildLlamaTools([...TOOLS]);
  }
  const quantize = llamaTool('llama-quantize');
  const imatrix = llamaTool('llama-imatrix');
  if (!quantize || !imatrix) throw new Error('llama-quantize or llama-imatrix was not built');
  return { quantize, imatrix };
}

if (process.argv[1]?.endsWith('build-llama-quantize.ts')) console.log(Object.values(ensureLlamaQuantizeTools()).join('\n'));
