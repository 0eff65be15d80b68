import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { LlmEngine } from '../../src-main/core/llm/engine.js';
import type { LibraryFiles } from '../../src-main/core/native/ffi.js';
import { QuantizeSession, quantizeFile } from '../../src-main/core/quantize/quantize-file.js';
import type { QuantizeJob } from '../../src-main/core/quantize/quantize-child.js';
import { EngineClient } from '../../src-main/core/native/client.js';
import { perplexity } from '../../src-main/core/adapters/perplexity.js';
import { kldReport } from '../../src-main/core/native/kld-report.js';
import { ensureLlamaPerplexity, perplexityText } from '../tools/build-llama-perplexity.js';
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
 * best of N. Target: the app within 1.1× of llama-quantize. The files of both are compared byte for byte too. Then a
 * ladder (both types in one run's child, as quantize.ladder does) against the two llama-quantize calls.
 *
 * The quality gate: the Q4_K_M file scored against the source in lockstep (a fresh engine host, both models loaded,
 * per-position arrays and the full report) against `llama-perplexity --kl-divergence-base` on the source plus
 * `--kl-divergence` on the Q4_K_M file (both calls timed, loads included), `--gate-chunks` chunks of 512 tokens.
 * Target ≥ 0.9× the tool's tokens/s.
 *
 * The imatrix case (quantize-imatrix.ts): the app's importance matrix against llama-imatrix (`--imatrix-chunks N`,
 * `--source-build`). `--case quantize|imatrix` runs one of them.
 */
export async function quantizeBench(args: string[]): Promise<void> {
  const value = (name: string, fallback: number) => (args.includes(name) ? Number(args[args.indexOf(name) + 1]) : fallback);
  const model = args.includes('--model') ? path.resolve(args[args.indexOf('--model') + 1]!) : await fixtureModel('large');
  const reps = value('--reps', 2);
  const threads = value('--threads', cpuCores());
  const gateChunks = value('--gate-chunks', 6);
  const { quantize: llamaQuantize } = ensureLlamaQuantizeTools();
  const engine = new LlmEngine({ gpu: false });
  const libraries = await engine.nativeLibraries();
  const only = args.includes('--case') ? args[args.indexOf('--case') + 1] : null;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'distillery-bench-quantize-'));
  // the child users run (out/cli, `npm run build`), not the TypeScript source under tsx (~0.4 s more to start)
  const bundled = path.resolve('out/cli/quantize-child.js');
  const entry = fs.existsSync(bundled) ? { file: bundled, execArgv: [] } : undefined;
  const child = entry ? 'bundle' : 'sources (run npm run build first to measure the bundled child)';
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
        await quantizeFile(
          {
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
          },
          { ...(entry ? { entry } : {}) },
        );
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
        child,
      });
    }
    if (only === 'imatrix') return;
    const job = (name: string): QuantizeJob => ({
      libraries,
      input: model,
      output: path.join(dir, `ladder-${name}.gguf`),
      ftype: quantType(name)!.ftype,
      threads,
      outputTensorType: null,
      tokenEmbeddingType: null,
      pure: false,
      allowRequantize: false,
      imatrixFile: null,
    });
    let t0 = performance.now();
    const session = new QuantizeSession(undefined, entry);
    try {
      for (const name of ['Q8_0', 'Q4_K_M']) await session.run(job(name));
    } finally {
      session.close();
    }
    const ladder = (performance.now() - t0) / 1000;
    t0 = performance.now();
    for (const name of ['Q8_0', 'Q4_K_M']) spawnSync(llamaQuantize, [model, path.join(dir, `tool-${name}.gguf`), name, String(threads)]);
    const tools = (performance.now() - t0) / 1000;
    print({
      bench: 'quantize',
      type: 'ladder Q8_0+Q4_K_M (one child)',
      threads,
      app_s: round(ladder),
      llama_cpp_s: round(tools),
      ratio_vs_llama_cpp: round(ladder / tools),
    });
    await gateBench(() => engine.nativeLibraries(), model, path.join(dir, 'app-Q4_K_M.gguf'), dir, threads, gateChunks);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
    await engine.dispose();
  }
}

async function gateBench(
  libraries: () => Promise<LibraryFiles>,
  source: string,
  quantized: string,
  dir: string,
  threads: number,
  chunks: number,
): Promise<void> {
  const ctx = 512;
  const textFile = path.join(dir, 'gate.txt');
  // about 1.3 tokens a word, 9 words a sentence: enough sentences for the chunks
  fs.writeFileSync(textFile, perplexityText(21, Math.ceil(((chunks + 1) * ctx) / 9)));
  const text = fs.readFileSync(textFile, 'utf8').replace(/\n$/, '');
  const client = new EngineClient(libraries);
  let app: number;
  let figures;
  try {
    const t0 = performance.now();
    const r = await perplexity(client, quantized, text, { contextSize: ctx, maxChunks: chunks, threads, base: { modelFile: source }, perPosition: true });
    figures = kldReport(r, { sourceLabel: 'gate.txt', contextSize: ctx });
    app = (performance.now() - t0) / 1000;
  } finally {
    await client.dispose();
  }
  const bin = ensureLlamaPerplexity();
  const logits = path.join(dir, 'base.kld');
  const common = ['-c', String(ctx), '-t', String(threads), '--chunks', String(chunks)];
  const t1 = performance.now();
  const a = spawnSync(bin, ['-m', source, '-f', textFile, ...common, '--kl-divergence-base', logits], { encoding: 'utf8' });
  const b = spawnSync(bin, ['-m', quantized, ...common, '--kl-divergence-base', logits, '--kl-divergence'], { encoding: 'utf8' });
  const tool = (performance.now() - t1) / 1000;
  if (a.status !== 0 || b.status !== 0) throw new Error(`llama-perplexity failed: ${(a.stderr + b.stderr).slice(-800)}`);
  const kld = Number(/Mean\s+KLD:\s*([-\d.]+)/.exec(b.stdout + b.stderr)?.[1]);
  const tokens = figures.chunks * ctx;
  print({
    bench: 'quantize-gate',
    type: 'Q4_K_M',
    chunks: figures.chunks,
    ctx,
    threads,
    app_s: round(app),
    llama_cpp_s: round(tool),
    app_tokens_per_s: round(tokens / app, 0),
    llama_cpp_tokens_per_s: round(tokens / tool, 0),
    ratio_vs_llama_cpp: round(tool / app),
    kld_app: figures.kld,
    kld_llama_cpp: kld,
    base_logits_mb: round(fs.statSync(logits).size / 1e6, 1),
  });
}
