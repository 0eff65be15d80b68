/**
 * `npm run bench -- evaluate [--case divergence|…] [options]`: the Evaluate room's figures, one JSON line each. Each
 * case lives in its own file (evaluate-<case>.ts); without --case every case runs.
 */
import { DIVERGENCE_CASES } from './evaluate-divergence.js';
import { evaluateMetricsBench } from './evaluate-metrics.js';

const CASES: Record<string, (args: string[]) => Promise<void>> = { metrics: evaluateMetricsBench, ...DIVERGENCE_CASES };

export async function evaluateBench(args: string[]): Promise<void> {
  const only = args.includes('--case') ? args[args.indexOf('--case') + 1] : undefined;
  if (only !== undefined && !CASES[only]) throw new Error(`no evaluate case "${only}" (cases: ${Object.keys(CASES).join(', ')})`);
  for (const [name, run] of Object.entries(CASES)) if (only === undefined || only === name) await run(args);
}
