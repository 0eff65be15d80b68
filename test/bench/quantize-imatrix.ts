/**
 * The imatrix case of `npm run bench -- quantize`: the app's importance matrix (the engine host's `imatrix` operation,
 * the model already loaded) against `llama-imatrix` on the same model, text, context (-c 512, -b 2048) and threads,
 * side by side in one run. Time is the computation alone: for llama-imatrix from its log timestamp "computing over …"
 * to the process's end (the file written), for the app the host's decode loop. Target: the app ≥ 0.8× llama-imatrix.
 * With --source-build the same host also runs on llama.cpp's own build (the libraries llama-imatrix links): the
 * prebuilt node-llama-cpp variant is slower at the decode itself (docs/performance.md).
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { LlmEngine } from '../../src-main/core/llm/engine.js';
import { EngineClient } from '../../src-main/core/native/client.js';
import { readImatrix } from '../../src-main/core/quantize/imatrix-file.js';
import { perplexityText } from '../tools/build-llama-perplexity.js';
import { ensureLlamaQuantizeTools } from '../tools/build-llama-quantize.js';
import { sourceBuildLibraries, stamp } from './engine-score.js';

const print = (line: Record<string, unknown>) => console.log(JSON.stringify(line));
const round = (x: number, d = 2) => Math.round(x * 10 ** d) / 10 ** d;

export interface ImatrixBenchOptions {
  model: string;
  dir: string;
  threads: number;
  ctx: number;
  chunks: number;
  sourceBuild: boolean;
}

export async function imatrixBench(o: ImatrixBenchOptions): Promise<void> {
  const { imatrix: binary } = ensureLlamaQuantizeTools();
  const textFile = path.join(o.dir, 'imatrix-text.txt');
  // ~11 tokens per sentence on the llama-spm vocabulary: a little more than the chunks asked for
  fs.writeFileSync(textFile, perplexityText(31, Math.ceil((o.chunks * o.ctx) / 9)));
  const text = fs.readFileSync(textFile, 'utf8');
  const toolFile = path.join(o.dir, 'tool.imatrix.gguf');
  const started = performance.now();
  const r = spawnSync(
    binary,
    ['-m', o.model, '-f', textFile, '-c', String(o.ctx), '-b', '2048', '-t', String(o.threads), '--chunks', String(o.chunks), '--no-ppl', '-o', toolFile],
    { encoding: 'utf8', env: { ...process.env, LD_LIBRARY_PATH: path.dirname(binary) }, maxBuffer: 64 * 1024 * 1024 },
  );
  const wall = (performance.now() - started) / 1000;
  if (r.status !== 0) throw new Error(`llama-imatrix failed (exit ${r.status}): ${r.stderr.slice(-1500)}`);
  const toolSeconds = wall - stamp(r.stderr, 'compute_imatrix: computing over');
  const theirs = readImatrix(toolFile);

  const run = async (client: EngineClient) => {
    const args = { model: { path: o.model }, text, contextSize: o.ctx, batchSize: 2048, threads: o.threads };
    await client.request('imatrix', { ...args, maxChunks: 1 }); // warm: the host loads the model once and keeps it
    return client.request('imatrix', { ...args, maxChunks: o.chunks });
  };
  const engine = new LlmEngine({ gpu: false });
  const source = o.sourceBuild ? new EngineClient(async () => sourceBuildLibraries()) : null;
  try {
    const app = await run(engine.native());
    const onSource = source ? await run(source) : null;
    let worst = 0;
    for (const e of app.entries) {
      const t = theirs.entries.get(e.name);
      if (!t) continue;
      for (let i = 0; i < e.sums.length; i++) worst = Math.max(worst, Math.abs(e.sums[i]! - t.sums[i]!) / Math.max(1e-30, Math.abs(t.sums[i]!)));
    }
    const tokens = app.processedTokens;
    const toolTps = (theirs.chunkCount * o.ctx) / toolSeconds;
    print({
      bench: 'quantize',
      case: 'imatrix',
      model: path.basename(o.model),
      model_mb: round(fs.statSync(o.model).size / 1e6, 1),
      ctx: o.ctx,
      chunks: app.chunks,
      threads: o.threads,
      app_tps: round(tokens / app.seconds, 1),
      llama_cpp_tps: round(toolTps, 1),
      ratio_vs_llama_cpp: round(tokens / app.seconds / toolTps, 3),
      ...(onSource
        ? {
            app_tps_source_build: round(onSource.processedTokens / onSource.seconds, 1),
            ratio_source_build: round(onSource.processedTokens / onSource.seconds / toolTps, 3),
          }
        : {}),
      same_entries: app.entries.length === theirs.entries.size && app.chunks === theirs.chunkCount,
      max_relative_difference: Number(worst.toExponential(2)),
    });
  } finally {
    await source?.dispose();
    await engine.dispose();
  }
}
