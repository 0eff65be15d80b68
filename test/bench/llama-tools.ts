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
