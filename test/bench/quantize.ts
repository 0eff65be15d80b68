import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { LlmEngine } from '../../src-main/core/llm/engine.js';
import { quantizeFile } from '../../src-main/core/quantize/quantize-file.js';
import { quantType } from '../../src-shared/domain/quantize.js';
import { cpuCores } from '../../src-main/core/llm/threads.js';
import { fixtureModel } from '../fixtures/models.js';
import { ensureLlamaQuantizeTools } from '../tools/build-llama-quantize.js';
import { imatrixBench } from './quantize-imatrix.js';

const print = (line: Record<string, unknown>) => console.log(JSON.stringify(line));
const round = (x: number, d = 2) => Math.round(x * 10 ** d) / 10 ** d;

/**
 * `npm run bench -- quantize [--model FILE.gguf] [--reps N] [--threads N]`: the time to quantize a ≥ 300 MB F16 model
 * (the benchmarks' `large` fixture, 1024 wide, 8 layers) to Q8_0 and Q4_K_M, the app's way (a child process through
 * node-llama-cpp's libllama, start-up included) against llama-quantize on the same file and threads, alternating,
 * best of N. Target: the app within 1.1× of llama-quantize. The files of both are compared byte for byte too.
 * Then the imatrix case (quantize-imatrix.ts): the app's importance matrix against llama-imatrix
 * (`--imatrix-chunks N`, `--source-build`). `--case quantize|imatrix` runs one of them.
 */
export async function quantizeBench(args: string[]): Promise<void> {
  const value = (name: string, fallback: number) => (args.includes(name) ? Number(args[args.indexOf(name) + 1]) : fallback);
  const model = args.includes('--model') ? path.resolve(args[args.indexOf('--model') + 1]!) : await fixtureModel('large');
  const reps = value('--reps', 2);
  const threads = value('--threads', cpuCores());
  const { quantize: llamaQuantize } = ensureLlamaQuantizeTools();
  const engine = new LlmEngine({ gpu: false });
  const libraries = await engine.nativeLibraries();
  const only = args.includes('--case') ? args[args.indexOf('--case') + 1] : null;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'distillery-bench-quantize-'));
  try {
    if (only !== 'quantize') {
      await imatrixBench({ model, dir, threads, ctx: 512, chunks: value('--imatrix-chunks', 4), sourceBuild: args.includes('--source-build') });
    }
    for (const name of only === 'imatrix' ? [] : ['Q8_0', 'Q4_K_M']) {
      const ours = path.join(dir, `app-${name}.gguf`);
      const theirs = path.join(dir, `tool-${name}.gguf`);
      let app = Infinity;
      let tool = Infinity;
      for (let rep = 0; rep < reps; rep++) {
        let t0 = performance.now();
        await quantizeFile({
          libraries,
          input: model,
          output: ours,
          ftype: quantType(name)!.ftype,
          threads,
          outputTensorType: null,
          tokenEmbeddingType: null,
          pure: false,
          allowRequantize: false,
          imatrixFile: null,
        });
        app = Math.min(app, (performance.now() - t0) / 1000);
        t0 = performance.now();
        const r = spawnSync(llamaQuantize, [model, theirs, name, String(threads)], { encoding: 'utf8' });
        if (r.status !== 0) throw new Error(`llama-quantize failed: ${r.stderr.slice(-500)}`);
        tool = Math.min(tool, (performance.now() - t0) / 1000);
      }
      print({
        bench: 'quantize',
        type: name,
        model_mb: round(fs.statSync(model).size / 1e6, 1),
        threads,
        app_s: round(app),
        llama_cpp_s: round(tool),
        ratio_vs_llama_cpp: round(app / tool),
        same_bytes: fs.readFileSync(ours).equals(fs.readFileSync(theirs)),
      });
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
    await engine.dispose();
  }
}
