/**
 * The `speed` operation: a model's load time, prompt and generation speed and the host's peak memory, measured as
 * llama-bench measures pp/tg — load the model, decode a prompt of `promptTokens` in one batch, then generate
 * `genTokens` greedily one token at a time. Meant for a FRESH engine host per model (speed.ts), so the process's peak
 * resident memory (getrusage's maxrss) is that model's and nothing else's.
 */
import { AppError } from '../../../src-shared/errors.js';
import type { HostContext } from './engine-host.js';
import { Batch } from './llama.js';
import type { ModelRef } from './protocol.js';

export interface SpeedArgs {
  model: ModelRef;
  promptTokens: number;
  genTokens: number;
  threads: number;
}

export interface SpeedResult {
  loadSeconds: number;
  promptTokensPerSecond: number;
  genTokensPerSecond: number;
  peakRssBytes: number;
  threads: number;
}

/** Any text: the prompt is its tokens, repeated up to the length asked for. */
const PROMPT =
  'The quality of a quantized model is measured against its source on the same text: the divergence of the two ' +
  'distributions at every position, the share of positions whose most likely token is the same, and the ratio of ' +
  'their perplexities. Speed and memory are measured on their own, each model in a process of its own.';

function whole(v: unknown, field: string, min: number, max: number): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max)
    throw new AppError('invalid_input', `${field} must be a whole number from ${min} to ${max}, not ${String(v)}`, field);
  return v;
}

export async function speedOp(raw: unknown, ctx: HostContext): Promise<SpeedResult> {
  const a = raw as SpeedArgs;
  const nPrompt = whole(a.promptTokens, 'promptTokens', 1, 8192);
  const nGen = whole(a.genTokens, 'genTokens', 1, 8192);
  const threads = whole(a.threads, 'threads', 1, 512);
  let t0 = performance.now();
  const model = ctx.model(a.model);
  const loadSeconds = (performance.now() - t0) / 1000;
  const text = model.tokenize(PROMPT, { addSpecial: false, parseSpecial: false });
  if (text.length === 0) throw new AppError('engine_error', `${model.name} tokenizes no text`);
  const c = ctx.llama.createContext(model, { nCtx: nPrompt + nGen, nBatch: nPrompt, threads });
  const batch = new Batch(ctx.llama.lib, nPrompt);
  try {
    batch.clear();
    for (let i = 0; i < nPrompt; i++) batch.add(i === 0 && model.addBos ? model.bos : text[i % text.length]!, i, 0, i === nPrompt - 1);
    await ctx.checkpoint();
    t0 = performance.now();
    c.decode(batch);
    const promptSeconds = (performance.now() - t0) / 1000;
    let genSeconds = 0;
    let row = c.logitsRow(nPrompt - 1);
    for (let i = 0; i < nGen; i++) {
      let best = 0;
      for (let t = 1; t < row.length; t++) if (row[t]! > row[best]!) best = t;
      await ctx.checkpoint();
      batch.clear();
      batch.add(best, nPrompt + i, 0, true);
      t0 = performance.now();
      c.decode(batch);
      genSeconds += (performance.now() - t0) / 1000;
      row = c.logitsRow(0);
    }
    return {
      loadSeconds,
      promptTokensPerSecond: nPrompt / promptSeconds,
      genTokensPerSecond: nGen / genSeconds,
      peakRssBytes: process.resourceUsage().maxRSS * 1024,
      threads,
    };
  } finally {
    batch.free();
    c.free();
  }
}
