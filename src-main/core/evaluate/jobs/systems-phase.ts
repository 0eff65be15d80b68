import fs from 'node:fs';
import type { JobContext } from '../../jobs/types.js';
import { weightFigures } from '../../gguf/inspect.js';
import type { SpeedFigures } from '../../../../src-shared/domain/quantize.js';
import { measureSpeed } from '../../native/speed.js';
import type { EvaluateJobDeps } from './run.js';

/** The measured half of a systems row (SystemsRow): what `eval_systems` stores per local model variant. */
export interface MeasuredSystems extends SpeedFigures {
  parameters: number;
  fileBytes: number;
  bitsPerWeight: number;
  energyJoulesPerAnswer: number | null;
  energyNote: string | null;
  speedNote: string | null;
}

/** Parameters, bytes and bits per weight of a GGUF file. */
export function ggufFigures(file: string): { parameters: number; fileBytes: number; bitsPerWeight: number } {
  const w = weightFigures(file);
  return { parameters: w.parameters, fileBytes: fs.statSync(file).size, bitsPerWeight: w.bitsPerWeight };
}

/**
 * Each local model variant's systems figures (`s:<variant>` items): parameters, size and bits per weight from the
 * file; load time, prompt and generation tokens/s and peak memory measured in a fresh engine host for the model alone
 * (native/speed.ts, as Quantize's gate measures them; adapters are not applied there: the note says so); energy per
 * answer from the OS counter read around the variant's answers in this attempt.
 */
export async function systemsPhase(
  ctx: JobContext<'evaluate.run'>,
  d: EvaluateJobDeps,
  energy: Map<number, { joules: number | null; reason: string | null; answers: number }>,
): Promise<void> {
  const c = ctx.config;
  const done = ctx.doneItems();
  const threads = await d.engine.resolveNativeThreads(d.threads());
  for (const [v, variant] of c.variants.entries()) {
    if (variant.kind !== 'model' || done.has(`s:${v}`)) continue;
    ctx.throwIfCancelled();
    const m = variant.model;
    ctx.progress(v, c.variants.length, `${m.label}: measuring load time, speed and memory`);
    const speed = await measureSpeed(() => d.engine.nativeLibraries(), m.modelPath, { threads, signal: ctx.signal });
    const e = energy.get(v);
    const figures: MeasuredSystems = {
      ...ggufFigures(m.modelPath),
      ...speed,
      energyJoulesPerAnswer: e && e.joules !== null && e.answers > 0 ? e.joules / e.answers : null,
      energyNote: e
        ? (e.reason ?? (e.answers > 0 ? null : 'no answer was generated in this attempt'))
        : 'not measured: the answers were generated before the run was resumed',
      speedNote: m.adapters.length ? 'speed and memory of the base model; adapters add a little to both' : null,
    };
    ctx.commitItem(`s:${v}`, () => d.store.saveSystems(ctx.runId, v, figures));
  }
}
