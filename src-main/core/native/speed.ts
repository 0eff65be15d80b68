/**
 * A model's speed and memory (SpeedFigures), measured in a FRESH engine host started for it alone (speed-op.ts): the
 * host's peak resident memory is then that model's (plus the host's own few tens of MB), never a model loaded before.
 */
import { AppError } from '../../../src-shared/errors.js';
import type { SpeedFigures } from '../../../src-shared/domain/quantize.js';
import { EngineClient } from './client.js';
import type { LibraryFiles } from './ffi.js';

/** Small and fixed, so a ladder of many types stays quick (llama-bench's pp/tg, shorter). */
export const SPEED_PROMPT_TOKENS = 128;
export const SPEED_GEN_TOKENS = 32;

export interface SpeedOptions {
  threads: number;
  promptTokens?: number;
  genTokens?: number;
  signal?: AbortSignal;
}

export async function measureSpeed(libraries: () => Promise<LibraryFiles>, modelFile: string, opts: SpeedOptions): Promise<SpeedFigures> {
  const client = new EngineClient(libraries, { killAfterMs: 1000 });
  try {
    const r = await client.request(
      'speed',
      {
        model: { path: modelFile },
        promptTokens: opts.promptTokens ?? SPEED_PROMPT_TOKENS,
        genTokens: opts.genTokens ?? SPEED_GEN_TOKENS,
        threads: opts.threads,
      },
      { signal: opts.signal },
    );
    return { ...r, peakDeviceBytes: null };
  } catch (e) {
    if (e instanceof AppError) throw e;
    throw new AppError('engine_error', `measuring the speed of ${modelFile} failed: ${e instanceof Error ? e.message : String(e)}`);
  } finally {
    await client.dispose();
  }
}
