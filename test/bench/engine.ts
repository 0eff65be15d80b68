/**
 * `npm run bench -- engine [--case generate|score|threads|…] [options]`: the native engine against llama.cpp's own
 * tools, one JSON line per figure. Each case lives in its own file (engine-<case>.ts); without --case every case runs.
 */
import { cpuCores, defaultThreadsFor } from '../../src-main/core/llm/threads.js';
import { defaultGenerateModels, generateBench } from './engine-generate.js';
import { SCORE_CASES } from './engine-score.js';

type Case = (args: string[]) => Promise<void>;

const value = (args: string[], name: string): string | undefined => (args.includes(name) ? args[args.indexOf(name) + 1] : undefined);
const number = (args: string[], name: string, fallback: number) => Number(value(args, name) ?? fallback);
/** The native path's default on this machine's CPU (persistent threadpool, no GPU), unless --threads says. */
const nativeThreads = (args: string[]) =>
  number(args, '--threads', defaultThreadsFor({ cpuCores: cpuCores(), mathCores: cpuCores(), gpu: false, openMp: false, persistentThreads: true }));

export const ENGINE_CASES: Record<string, Case> = {
  /** generate [--model FILE] [--parallel 1,4,8,16] [--prompt N] [--tokens N] [--threads N] [--reps N] [--source-build] */
  generate: async (args) =>
    generateBench({
      models: value(args, '--model') ? [value(args, '--model')!] : await defaultGenerateModels(),
      parallel: (value(args, '--parallel') ?? '1,4,8,16').split(',').map(Number),
      promptTokens: number(args, '--prompt', 32),
      tokens: number(args, '--tokens', 64),
      threads: nativeThreads(args),
      reps: number(args, '--reps', 1),
      sourceBuild: args.includes('--source-build'),
    }),
  ...SCORE_CASES,
};

export async function engineBench(args: string[]): Promise<void> {
  const only = value(args, '--case');
  if (only !== undefined && !ENGINE_CASES[only]) throw new Error(`no engine case "${only}" (cases: ${Object.keys(ENGINE_CASES).join(', ')})`);
  for (const [name, run] of Object.entries(ENGINE_CASES)) if (only === undefined || only === name) await run(args);
}
