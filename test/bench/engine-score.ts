/**
 * The native engine's scoring cases of `npm run bench -- engine`:
 *
 * - `score`: perplexity of the app's engine host against `llama-perplexity` on the same file, text (≥ 16k tokens),
 *   context, batch and threads. Both figures are the scoring time alone: for llama-perplexity from its own log
 *   timestamps ("calculating perplexity over …" → "Final estimate"), for the app the host's time from the first chunk
 *   to the result (the model already loaded, as it stays loaded between requests). Target ratio ≥ 0.9.
 * - `threads`: the host's scoring throughput at 1 thread and at the default (the physical cores with the persistent
 *   threadpool attached), with llama.cpp's batches (-b 2048) and with small ones (-b = -c = 64: many short decodes,
 *   where a per-decode threadpool costs most). The default must not be slower than 1 thread.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { LlmEngine } from '../../src-main/core/llm/engine.js';
import { EngineClient } from '../../src-main/core/native/client.js';
import type { LibraryFiles } from '../../src-main/core/native/ffi.js';
import { fixtureModel } from '../fixtures/models.js';
import { perplexityText } from '../tools/build-llama-perplexity.js';
import { buildLlamaTools, llamaTool, llamaToolsBinDir } from './llama-tools.js';

const print = (line: Record<string, unknown>) => console.log(JSON.stringify(line));
const round = (x: number, d = 1) => Math.round(x * 10 ** d) / 10 ** d;

/** The log timestamp ("0.02.520.332 I …": minutes.seconds.milliseconds.microseconds) right before `marker`, in seconds. */
export function stamp(out: string, marker: string): number {
  // not per line: llama-perplexity's ETA line ends on stdout, so the next stamp continues it on stderr
  const m = new RegExp(`(\\d+)\\.(\\d+)\\.(\\d+)\\.(\\d+) I ${marker}`).exec(out);
  if (!m) throw new Error(`llama-perplexity printed no timestamped "${marker}":\n${out.slice(-1500)}`);
  return Number(m[1]) * 60 + Number(m[2]) + Number(m[3]) / 1e3 + Number(m[4]) / 1e6;
}

function llamaPerplexityRun(model: string, textFile: string, ctx: number, batch: number, threads: number): { ppl: number; seconds: number; chunks: number } {
  let bin = llamaTool('llama-perplexity');
  if (!bin) {
    buildLlamaTools(['llama-perplexity']);
    bin = llamaTool('llama-perplexity');
  }
  const r = spawnSync(bin!, ['-m', model, '-f', textFile, '-c', String(ctx), '-b', String(batch), '-t', String(threads), '-tb', String(threads)], {
    encoding: 'utf8',
    env: { ...process.env, LD_LIBRARY_PATH: path.dirname(bin!) },
    maxBuffer: 64 * 1024 * 1024,
  });
  const out = `${r.stdout}\n${r.stderr}`;
  const ppl = /Final estimate: PPL = ([\d.]+)/.exec(out);
  const chunks = /calculating perplexity over (\d+) chunks/.exec(out);
  if (!ppl || !chunks) throw new Error(`llama-perplexity failed (exit ${r.status}):\n${out.slice(-1500)}`);
  return {
    ppl: Number(ppl[1]),
    chunks: Number(chunks[1]),
    seconds: stamp(r.stderr, 'Final estimate') - stamp(r.stderr, 'perplexity: calculating perplexity over'),
  };
}

/** llama-perplexity's scoring time (first chunk → final estimate) from its stderr's log timestamps; null if absent. */
export function llamaPerplexitySeconds(stderr: string): number | null {
  try {
    return stamp(stderr, 'Final estimate') - stamp(stderr, 'perplexity: calculating perplexity over');
  } catch {
    return null;
  }
}

function writeText(dir: string, minTokens: number): string {
  const file = path.join(dir, 'text.txt');
  // ~11 tokens per sentence on the llama-spm vocabulary
  fs.writeFileSync(file, perplexityText(21, Math.ceil(minTokens / 9)));
  return file;
}

export interface ScoreBenchOptions {
  models: string[];
  ctx: number;
  batch: number;
  threads: number;
  minTokens: number;
  /** Also score with the app's engine host on llama.cpp's own build (the libraries llama-perplexity links). */
  sourceBuild: boolean;
}

/** llama.cpp's own CPU build (CPU backend linked in, OpenMP): the libraries llama-perplexity uses. */
export function sourceBuildLibraries(): LibraryFiles {
  const dir = llamaToolsBinDir();
  const lib = (name: string) => path.join(dir, name);
  return { llama: lib('libllama.so'), ggml: lib('libggml.so'), ggmlBase: lib('libggml-base.so'), backends: [], cpu: lib('libggml-cpu.so') };
}

export async function scoreBench(o: ScoreBenchOptions): Promise<void> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'distillery-bench-score-'));
  const textFile = writeText(dir, o.minTokens);
  const text = fs.readFileSync(textFile, 'utf8');
  const engine = new LlmEngine({ gpu: false });
  const source = o.sourceBuild ? new EngineClient(async () => sourceBuildLibraries()) : null;
  try {
    const client = engine.native();
    const score = async (c: EngineClient, model: string) => {
      // warm: the host loads the model once and keeps it (as between the app's runs)
      await c.request('score', { model: { path: model }, text, contextSize: o.ctx, batchSize: o.batch, threads: o.threads, maxChunks: 1 });
      return c.request('score', { model: { path: model }, text, contextSize: o.ctx, batchSize: o.batch, threads: o.threads });
    };
    for (const model of o.models) {
      const app = await score(client, model);
      const ref = llamaPerplexityRun(model, textFile, o.ctx, o.batch, o.threads);
      const onSource = source ? await score(source, model) : null;
      const appTps = (app.chunks * o.ctx) / app.seconds;
      const refTps = (ref.chunks * o.ctx) / ref.seconds;
      const sourceTps = onSource ? (onSource.chunks * o.ctx) / onSource.seconds : null;
      print({
        bench: 'engine',
        case: 'score',
        model: path.basename(model),
        tokens: app.tokens,
        chunks: app.chunks,
        ctx: o.ctx,
        batch: o.batch,
        threads: o.threads,
        app_tps: round(appTps),
        llama_cpp_tps: round(refTps),
        ratio_vs_llama_cpp: round(appTps / refTps, 3),
        app_ppl: round(app.ppl, 4),
        llama_cpp_ppl: ref.ppl,
        same_chunks: app.chunks === ref.chunks,
        ...(sourceTps ? { app_tps_source_build: round(sourceTps), ratio_source_build: round(sourceTps / refTps, 3) } : {}),
      });
    }
  } finally {
    await source?.dispose();
    await engine.dispose();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

export async function threadsBench(o: { model: string; minTokens: number; reps: number }): Promise<void> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'distillery-bench-threads-'));
  const text = fs.readFileSync(writeText(dir, o.minTokens), 'utf8');
  const engine = new LlmEngine({ gpu: false });
  try {
    const client = engine.native();
    const threads = await engine.resolveNativeThreads(null);
    for (const [ctx, batch] of [
      [512, 2048],
      [64, 64],
    ] as const) {
      const run = async (t: number) => {
        let best = 0;
        for (let i = 0; i < o.reps; i++) {
          const r = await client.request('score', { model: { path: o.model }, text, contextSize: ctx, batchSize: batch, threads: t });
          best = Math.max(best, (r.chunks * ctx) / r.seconds);
        }
        return best;
      };
      await run(1); // warm: model loaded, both pools made
      const tps1 = await run(1);
      const tpsDefault = await run(threads);
      const tps2 = threads === 2 ? tpsDefault : await run(2);
      print({
        bench: 'engine',
        case: 'threads',
        model: path.basename(o.model),
        ctx,
        batch,
        default_threads: threads,
        cpu_cores: os.availableParallelism(),
        tps_1: round(tps1),
        tps_2: round(tps2),
        tps_default: round(tpsDefault),
        default_not_slower: tpsDefault >= tps1,
      });
    }
  } finally {
    await engine.dispose();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

type Case = (args: string[]) => Promise<void>;
const value = (args: string[], name: string): string | undefined => (args.includes(name) ? args[args.indexOf(name) + 1] : undefined);
const number = (args: string[], name: string, fallback: number) => Number(value(args, name) ?? fallback);

/** The scoring cases, for test/bench/engine.ts's case table. */
export const SCORE_CASES: Record<string, Case> = {
  /** score [--model FILE] [--ctx N] [--batch N] [--threads N] [--tokens N] [--source-build] */
  score: async (args) => {
    const engine = new LlmEngine({ gpu: false });
    const threads = number(args, '--threads', await engine.resolveNativeThreads(null));
    await engine.dispose();
    await scoreBench({
      models: value(args, '--model') ? [value(args, '--model')!] : [await fixtureModel('teacher'), await fixtureModel('large')],
      ctx: number(args, '--ctx', 512),
      batch: number(args, '--batch', 2048),
      threads,
      minTokens: number(args, '--tokens', 16_384),
      sourceBuild: args.includes('--source-build'),
    });
  },
  /** threads [--model FILE] [--tokens N] [--reps N] */
  threads: async (args) =>
    threadsBench({
      model: value(args, '--model') ?? (await fixtureModel('teacher')),
      minTokens: number(args, '--tokens', 8192),
      reps: number(args, '--reps', 2),
    }),
};
