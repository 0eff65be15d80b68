/**
 * The quality gate of a ladder run (quantize.ladder's `gate`): every quantized type scored against its source in
 * lockstep on the gate's text (native/score.ts, no logits file) into the figures of `llama-perplexity
 * --kl-divergence` (native/kld-report.ts), and each model's speed and memory measured in a fresh engine host
 * (native/speed.ts). Items: `gate:source` (the source's speed) first, then `gate:<type>` after each type's file.
 * A resumed run skips the items it committed; the signal cancels a scoring between batches and a speed measurement
 * at once.
 */
import path from 'node:path';
import type { JobContext } from '../../jobs/types.js';
import type { LlmEngine } from '../../llm/engine.js';
import type { DatasetsService } from '../../datasets/service.js';
import { perplexity } from '../../adapters/perplexity.js';
import { sourceText } from '../../adapters/jobs/variants.js';
import { kldReport } from '../../native/kld-report.js';
import { measureSpeed } from '../../native/speed.js';
import type { SourceConfig } from '../../../../src-shared/contract/adapters.js';
import type { GateFigures, SpeedFigures } from '../../../../src-shared/domain/quantize.js';
import { AppError } from '../../../../src-shared/errors.js';

export interface GateDeps {
  engine: LlmEngine;
  datasets: DatasetsService;
}

/** What the gate's text is called in its figures and the run's log. */
export function gateSourceLabel(s: SourceConfig): string {
  return s.kind === 'file' ? path.basename(s.path) : `${s.label}${s.split === 'all' ? '' : ` (${s.split})`}`;
}

/**
 * The gate's text. THE ONE PLACE the gate reads its source: examples are joined as plain text today (`render`
 * 'plain'); the shared source-text module (with 'chat' rendering) replaces this call at merge.
 */
function gateText(d: GateDeps, ctx: JobContext<'quantize.ladder'>, source: SourceConfig): string {
  return sourceText(d.datasets, source, ctx);
}

export interface LadderGate {
  /** Scores `file` (the type's output) against the source and measures its speed: item `gate:<type>`. */
  step(type: string, file: string, onChunk: (message: string) => void): Promise<void>;
}

/**
 * Reads and tokenizes the gate's text once, refusing one too short for a single pair of chunks before any type is
 * quantized, and measures the source's speed (item `gate:source`). Null when the run has no gate.
 */
export async function prepareGate(d: GateDeps, ctx: JobContext<'quantize.ladder'>, threads: number): Promise<LadderGate | null> {
  const c = ctx.config;
  const g = c.gate;
  if (!g) {
    ctx.log(
      'info',
      'No quality gate in this run: none was asked for, and the importance matrix was not computed from a dataset (whose test split would be the default).',
    );
    return null;
  }
  const label = gateSourceLabel(g.source);
  const text = gateText(d, ctx, g.source);
  const client = d.engine.native();
  const { tokens } = await client.request('tokenize', { model: { path: c.model.path }, text, addSpecial: true, parseSpecial: false }, { signal: ctx.signal });
  if (tokens.length < 2 * g.contextSize) {
    throw new AppError(
      'invalid_input',
      `the gate's text (${label}) is only ${tokens.length} tokens long; scoring with a ${g.contextSize}-token context needs at least ` +
        `${2 * g.contextSize} (two chunks, as llama-perplexity): give a longer text or a smaller gate context`,
      'gate.source',
    );
  }
  const chunks = Math.min(Math.floor(tokens.length / g.contextSize), g.maxChunks ?? Infinity);
  ctx.log('info', `Quality gate: ${label}, ${chunks} chunks of ${g.contextSize} tokens, each type against ${c.model.name} in lockstep.`);
  const done = ctx.doneItems();
  const libraries = () => d.engine.nativeLibraries();
  const speedOf = (file: string): Promise<SpeedFigures | null> =>
    g.speed ? measureSpeed(libraries, file, { threads, signal: ctx.signal }) : Promise.resolve(null);

  if (g.speed && !done.has('gate:source')) {
    ctx.progress(0, null, `${c.model.name}: measuring speed`);
    const speed = await speedOf(c.model.path);
    ctx.commitItem('gate:source', undefined, { of: 'source', gate: null, speed });
    if (speed) ctx.log('info', `${c.model.name}: ${speedLine(speed)}.`);
  }

  return {
    async step(type, file, onChunk) {
      if (done.has(`gate:${type}`)) return;
      ctx.throwIfCancelled();
      const r = await perplexity(client, file, '', {
        tokens,
        contextSize: g.contextSize,
        ...(g.maxChunks ? { maxChunks: g.maxChunks } : {}),
        threads,
        base: { modelFile: c.model.path },
        perPosition: true,
        signal: ctx.signal,
        onChunk: (i, n) => onChunk(`${type}: gate chunk ${i} of ${n}`),
      });
      const gate: GateFigures = kldReport(r, { sourceLabel: label, contextSize: g.contextSize });
      onChunk(`${type}: measuring speed`);
      const speed = await speedOf(file);
      ctx.commitItem(
        `gate:${type}`,
        () => {
          ctx.metric(`kld:${type}`, gate.kld);
          ctx.metric(`same_top:${type}`, gate.sameTop);
          ctx.metric(`ppl_ratio:${type}`, gate.pplRatio);
          if (speed) ctx.metric(`gen_tps:${type}`, speed.genTokensPerSecond);
        },
        { of: type, gate, speed },
      );
      ctx.log(
        'info',
        `${type} gate: mean KLD ${gate.kld.toFixed(6)} ± ${gate.kldStderr.toFixed(6)}, same top ${(100 * gate.sameTop).toFixed(2)} %, ` +
          `PPL ratio ${gate.pplRatio.toFixed(4)}${speed ? `; ${speedLine(speed)}` : ''}.`,
      );
    },
  };
}

function speedLine(s: SpeedFigures): string {
  return (
    `loads in ${s.loadSeconds.toFixed(2)} s, prompt ${s.promptTokensPerSecond.toFixed(0)} tokens/s, ` +
    `generation ${s.genTokensPerSecond.toFixed(1)} tokens/s, peak memory ${(s.peakRssBytes / 1e6).toFixed(0)} MB`
  );
}
