/**
 * `npm run bench -- engine [--case score|threads|…] [options]`: the native engine against llama.cpp's own tools, one
 * JSON line per figure. Each case lives in its own file (engine-<case>.ts); without --case every case runs.
 */
import { SCORE_CASES } from './engine-score.js';

type Case = (args: string[]) => Promise<void>;

const value = (args: string[], name: string): string | undefined => (args.includes(name) ? args[args.indexOf(name) + 1] : undefined);

export const ENGINE_CASES: Record<string, Case> = {
  ...SCORE_CASES,
};

export async function engineBench(args: string[]): Promise<void> {
  const only = value(args, '--case');
  if (only !== undefined && !ENGINE_CASES[only]) throw new Error(`no engine case "${only}" (cases: ${Object.keys(ENGINE_CASES).join(', ')})`);
  for (const [name, run] of Object.entries(ENGINE_CASES)) if (only === undefined || only === name) await run(args);
}
