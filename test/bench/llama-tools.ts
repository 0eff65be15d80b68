import fs from 'node:fs';
import path from 'node:path';
import { execFileSync, spawnSync } from 'node:child_process';
import { llamaCppSourceDir } from '../fixtures/models.js';

/** llama.cpp's tools built from the source node-llama-cpp bundles, cached outside the repository by tag. */
export function llamaToolsBinDir(): string {
  return path.join(llamaCppSourceDir(), 'build', 'bin');
}

export function llamaTool(name: string): string | null {
  const file = path.join(llamaToolsBinDir(), name);
  return fs.existsSync(file) ? file : null;
}

/** CPU-only build of the named targets (minutes on 2 cores); progress goes to stderr. */
export function buildLlamaTools(targets: string[]): void {
  const src = llamaCppSourceDir();
  const build = path.join(src, 'build');
  if (!fs.existsSync(path.join(build, 'CMakeCache.txt'))) {
    execFileSync(
      'cmake',
      ['-S', src, '-B', build, '-DLLAMA_CURL=OFF', '-DLLAMA_BUILD_TESTS=OFF', '-DGGML_CUDA=OFF', '-DGGML_VULKAN=OFF', '-DCMAKE_BUILD_TYPE=Release'],
      { stdio: ['ignore', 'inherit', 'inherit'] },
    );
  }
  execFileSync('cmake', ['--build', build, '-j', '2', '--target', ...targets], { stdio: ['ignore', process.stderr, 'inherit'] });
}

export interface BatchedBenchRow {
  pp: number;
  tg: number;
  ppTps: number;
  tgTps: number;
}

/** Runs `llama-batched-bench` at batch 1 and parses its table row (| PP | TG | B | N_KV | T_PP | S_PP | T_TG | S_TG | ...). */
export function batchedBench(binary: string, model: string, opts: { promptTokens: number; generateTokens: number; threads: number }): BatchedBenchRow {
  const ctx = opts.promptTokens + opts.generateTokens + 16;
  const r = spawnSync(
    binary,
    [
      '-m',
      model,
      '-c',
      String(ctx),
      '-npp',
      String(opts.promptTokens),
      '-ntg',
      String(opts.generateTokens),
      '-npl',
      '1',
      '-t',
      String(opts.threads),
      '-tb',
      String(opts.threads),
    ],
    { encoding: 'utf8', timeout: 300_000 },
  );
  const out = `${r.stdout}\n${r.stderr}`;
  const row = out
    .split('\n')
    .map((l) =>
      l
        .split('|')
        .map((c) => c.trim())
        .filter((c) => c !== ''),
    )
    .find((cells) => cells.length >= 8 && cells.every((c) => /^[\d.]+$/.test(c)));
  if (!row) throw new Error(`llama-batched-bench printed no result row (exit ${r.status}):\n${out.slice(-2000)}`);
  return { pp: Number(row[0]), tg: Number(row[1]), ppTps: Number(row[5]), tgTps: Number(row[7]) };
}

export interface BatchedBenchParallelRow extends BatchedBenchRow {
  /** Sequences decoded together (`-npl`). */
  parallel: number;
}

/**
 * Runs `llama-batched-bench -npl P1,P2,…` once (each sequence its own prompt of `promptTokens`, then `generateTokens`
 * decoded in lockstep) and parses one row per P. S_TG is (P × generateTokens) / the generation time, prefill excluded.
 */
export function batchedBenchParallel(
  binary: string,
  model: string,
  opts: { promptTokens: number; generateTokens: number; parallel: number[]; threads: number; contextSize: number },
): BatchedBenchParallelRow[] {
  const args = ['-m', model, '-c', String(opts.contextSize), '-b', '2048', '-ub', '512'];
  args.push('-npp', String(opts.promptTokens), '-ntg', String(opts.generateTokens), '-npl', opts.parallel.join(','));
  args.push('-t', String(opts.threads), '-tb', String(opts.threads));
  const r = spawnSync(binary, args, { encoding: 'utf8', timeout: 900_000 });
  const out = `${r.stdout}\n${r.stderr}`;
  const rows = out
    .split('\n')
    .map((l) =>
      l
        .split('|')
        .map((c) => c.trim())
        .filter((c) => c !== ''),
    )
    .filter((cells) => cells.length >= 8 && cells.every((c) => /^[\d.]+$/.test(c)));
  if (rows.length !== opts.parallel.length) throw new Error(`llama-batched-bench printed ${rows.length} result rows (exit ${r.status}):\n${out.slice(-2000)}`);
  return rows.map((row) => ({ pp: Number(row[0]), tg: Number(row[1]), parallel: Number(row[2]), ppTps: Number(row[5]), tgTps: Number(row[7]) }));
}
