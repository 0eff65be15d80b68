/**
 * `npm run bench -- evaluate --case divergence [--student FILE --teacher FILE] [--ctx N] [--batch N] [--threads N]
 * [--tokens N] [--reps N] [--source-build]`: divergence scoring (the `scoreSequences` op: student and teacher in lockstep, KLD per
 * position) against `llama-perplexity --kl-divergence` on the same two models, text, context, batch and threads.
 *
 * llama-perplexity needs two passes: the teacher writes its distributions (`--kl-divergence-base FILE`), then the
 * student reads them (`--kl-divergence`); the app decodes both models in one pass. Times are scoring only (models
 * loaded): the app's from the host's own clock; llama-perplexity's base pass from its log stamps ("calculating
 * perplexity over" → "Final estimate"), its KLD pass from its "computing over" stamp to the process's exit (that pass
 * prints no stamped end). tokens/s = chunks × n_ctx / seconds on both sides; the target is app ≥ 0.9 × llama.cpp's two
 * passes together (`ratio`), and `ratio_vs_kld_pass` compares with the student's pass alone.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { cpuCores, defaultThreadsFor } from '../../src-main/core/llm/threads.js';
import { LlmEngine } from '../../src-main/core/llm/engine.js';
import { fixtureModel } from '../fixtures/models.js';
import { perplexityText } from '../tools/build-llama-perplexity.js';
import { EngineClient } from '../../src-main/core/native/client.js';
import { sourceBuildLibraries, stamp } from './engine-score.js';
import { buildLlamaTools, llamaTool } from './llama-tools.js';

const print = (line: Record<string, unknown>) => console.log(JSON.stringify(line));
const round = (x: number, d = 1) => Math.round(x * 10 ** d) / 10 ** d;
const value = (args: string[], name: string): string | undefined => (args.includes(name) ? args[args.indexOf(name) + 1] : undefined);
const number = (args: string[], name: string, fallback: number) => Number(value(args, name) ?? fallback);

function perplexityBinary(): string {
  let bin = llamaTool('llama-perplexity');
  if (!bin) {
    buildLlamaTools(['llama-perplexity']);
    bin = llamaTool('llama-perplexity');
  }
  return bin!;
}

interface Options {
  student: string;
  teacher: string;
  ctx: number;
  batch: number;
  threads: number;
  minTokens: number;
  reps: number;
  /** Also on llama.cpp's own build (the libraries llama-perplexity links), as `engine --case score --source-build`. */
  sourceBuild: boolean;
}

/** llama-perplexity's two passes; the best of `reps` for each. */
function llamaKld(o: Options, textFile: string, dir: string): { base: number; kld: number; kldValue: number; chunks: number } {
  const bin = perplexityBinary();
  const common = ['-c', String(o.ctx), '-b', String(o.batch), '-t', String(o.threads), '-tb', String(o.threads)];
  const env = { ...process.env, LD_LIBRARY_PATH: path.dirname(bin) };
  const baseFile = path.join(dir, 'teacher.kld');
  let base = Infinity;
  let kld = Infinity;
  let kldValue = NaN;
  let chunks = 0;
  for (let i = 0; i < o.reps; i++) {
    const b = spawnSync(bin, ['-m', o.teacher, '-f', textFile, ...common, '--kl-divergence-base', baseFile], { encoding: 'utf8', env, maxBuffer: 64 << 20 });
    if (b.status !== 0) throw new Error(`llama-perplexity (base pass) failed:\n${b.stderr.slice(-1500)}`);
    base = Math.min(base, stamp(b.stderr, 'Final estimate') - stamp(b.stderr, 'perplexity: calculating perplexity over'));
    chunks = Number(/calculating perplexity over (\d+) chunks/.exec(b.stderr)?.[1] ?? 0);
    const start = performance.now();
    const k = spawnSync(bin, ['-m', o.student, ...common, '--kl-divergence-base', baseFile, '--kl-divergence'], { encoding: 'utf8', env, maxBuffer: 64 << 20 });
    const wall = (performance.now() - start) / 1000;
    const out = `${k.stdout}\n${k.stderr}`;
    const m = /Mean\s+KLD:\s*([-\d.]+)/.exec(out);
    if (k.status !== 0 || !m) throw new Error(`llama-perplexity (KLD pass) failed:\n${out.slice(-1500)}`);
    kldValue = Number(m[1]);
    kld = Math.min(kld, wall - stamp(k.stderr, 'kl_divergence: computing over'));
  }
  return { base, kld, kldValue, chunks };
}

export async function divergenceBench(o: Options): Promise<void> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'distillery-bench-divergence-'));
  const textFile = path.join(dir, 'text.txt');
  fs.writeFileSync(textFile, perplexityText(21, Math.ceil(o.minTokens / 9))); // ~11 tokens per sentence
  const engine = new LlmEngine({ gpu: false });
  try {
    const client = engine.native();
    const text = fs.readFileSync(textFile, 'utf8');
    const tokens = (await client.request('tokenize', { model: { path: o.student }, text, addSpecial: true, parseSpecial: false })).tokens;
    const nChunk = Math.floor(tokens.length / o.ctx);
    // llama-perplexity's chunks: BOS first, positions n_ctx/2 … n_ctx − 2 scored (they predict from n_ctx/2 + 1)
    const sequences = Array.from({ length: nChunk }, (_, c) => {
      const chunk = Array.from(tokens.subarray(c * o.ctx, (c + 1) * o.ctx));
      chunk[0] = tokens[0]!;
      return { tokens: chunk, from: o.ctx / 2 + 1 };
    });
    const args = { model: { path: o.student }, base: { model: { path: o.teacher } }, threads: o.threads, batchSize: o.batch };
    const timed = async (c: EngineClient) => {
      await c.request('scoreSequences', { ...args, sequences: sequences.slice(0, 1) }); // warm: both models loaded
      let seconds = Infinity;
      let kld = NaN;
      for (let i = 0; i < o.reps; i++) {
        const r = await c.request('scoreSequences', { ...args, sequences });
        seconds = Math.min(seconds, r.seconds);
        kld = r.aggregate.kl!.kld;
      }
      return { seconds, kld };
    };
    const { seconds: best, kld } = await timed(client);
    // the perplexity-chunk op (score.ts) on the same pair and text: what packing sequences costs against it
    const scoreOp = await client.request('score', { ...args, text, contextSize: o.ctx });
    const source = o.sourceBuild ? new EngineClient(async () => sourceBuildLibraries()) : null;
    const onSource = source ? await timed(source).finally(() => source.dispose()) : null;
    const ref = llamaKld(o, textFile, dir);
    const work = nChunk * o.ctx;
    const appTps = work / best;
    const refTps = work / (ref.base + ref.kld);
    print({
      bench: 'evaluate',
      case: 'divergence',
      student: path.basename(o.student),
      teacher: path.basename(o.teacher),
      tokens: tokens.length,
      chunks: nChunk,
      same_chunks: nChunk === ref.chunks,
      ctx: o.ctx,
      batch: o.batch,
      threads: o.threads,
      app_tps: round(appTps),
      llama_cpp_tps: round(refTps),
      ratio: round(appTps / refTps, 3),
      llama_cpp_base_pass_s: round(ref.base, 3),
      llama_cpp_kld_pass_s: round(ref.kld, 3),
      app_s: round(best, 3),
      ratio_vs_kld_pass: round(appTps / (work / ref.kld), 3),
      score_op_tps: round(work / scoreOp.seconds),
      ...(onSource ? { app_tps_source_build: round(work / onSource.seconds), ratio_source_build: round(work / onSource.seconds / refTps, 3) } : {}),
      app_kld: round(kld, 6),
      llama_cpp_kld: ref.kldValue,
    });
  } finally {
    await engine.dispose();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** The divergence case, for test/bench/evaluate.ts's case table. */
export const DIVERGENCE_CASES: Record<string, (args: string[]) => Promise<void>> = {
  divergence: async (args) =>
    divergenceBench({
      student: value(args, '--student') ?? (await fixtureModel('student')),
      teacher: value(args, '--teacher') ?? (await fixtureModel('teacher')),
      ctx: number(args, '--ctx', 512),
      batch: number(args, '--batch', 2048),
      threads: number(
        args,
        '--threads',
        defaultThreadsFor({ cpuCores: cpuCores(), mathCores: cpuCores(), gpu: false, openMp: false, persistentThreads: true }),
      ),
      minTokens: number(args, '--tokens', 16_384),
      reps: number(args, '--reps', 1),
      sourceBuild: args.includes('--source-build'),
    }),
};
