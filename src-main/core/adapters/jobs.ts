import fs from 'node:fs';
import { z } from 'zod';
import type { JobContext, JobKind } from '../jobs/types.js';
import type { LlmEngine } from '../llm/engine.js';
import type { ModelsService } from '../models/service.js';
import { toExampleRow, type DatasetsStore } from '../datasets/store.js';
import { perplexity } from './perplexity.js';
import { mergeAdapters } from './merge.js';
import { runGeneration } from '../llm/generation.js';
import { CompareGeneration } from '../../../src-shared/domain/adapters.js';
import type { Split } from '../../../src-shared/domain/datasets.js';
import { checkOutputPath } from '../files/output-path.js';
import { fileError } from '../files/errors.js';

/** A variant as a run's config holds it: files resolved and checked when the run was started. */
export const VariantConfig = z.strictObject({
  modelId: z.number().int().positive(),
  modelPath: z.string(),
  modelName: z.string(),
  adapters: z.array(z.strictObject({ id: z.number().int().positive(), name: z.string(), filePath: z.string(), scale: z.number() })),
  label: z.string(),
});
export type VariantConfig = z.infer<typeof VariantConfig>;

export const SourceConfig = z.union([
  z.strictObject({ kind: z.literal('file'), path: z.string() }),
  z.strictObject({
    kind: z.literal('dataset'),
    dataset: z.string(),
    versionId: z.number().int().positive(),
    label: z.string(),
    split: z.enum(['train', 'validation', 'test', 'all']),
  }),
]);
export type SourceConfig = z.infer<typeof SourceConfig>;

/** "base", "base + A", "base + A×0.5 + B": what a variant is called unless the user names it. */
export function variantLabel(v: Pick<VariantConfig, 'modelName' | 'adapters'>): string {
  return [v.modelName, ...v.adapters.map((a) => (a.scale === 1 ? a.name : `${a.name}×${a.scale}`))].join(' + ');
}

function recordVariantLineage(ctx: JobContext<unknown>, v: VariantConfig): void {
  ctx.lineage('input', 'model', String(v.modelId), v.modelName);
  for (const a of v.adapters) ctx.lineage('input', 'adapter', String(a.id), `${a.name} ×${a.scale}`);
}

/** The text a source stands for: the file, or the examples of a dataset split, their messages joined in order. */
function sourceText(datasets: DatasetsStore, s: SourceConfig, ctx: JobContext<unknown>): string {
  if (s.kind === 'file') {
    ctx.lineage('input', 'file', s.path, s.path);
    try {
      const text = fs.readFileSync(s.path, 'utf8');
      // as llama-perplexity -f reads it (one trailing newline dropped), so the two figures agree on the same file
      return text.endsWith('\n') ? text.slice(0, -1) : text;
    } catch (e) {
      throw fileError(e, s.path);
    }
  }
  ctx.lineage('input', 'dataset', s.dataset, s.label);
  const parts: string[] = [];
  let after = Number.MIN_SAFE_INTEGER;
  for (;;) {
    const rows = datasets.pageAfter(s.versionId, after, 1000, s.split === 'all' ? undefined : (s.split as Split));
    if (rows.length === 0) break;
    after = rows.at(-1)!.position;
    for (const r of rows)
      parts.push(
        toExampleRow(r)
          .messages.map((m) => m.content)
          .join('\n'),
      );
  }
  return parts.join('\n\n');
}

/** Below this many chunks a perplexity is too rough to compare (llama-perplexity's figures settle over tens of chunks). */
export const MIN_MEANINGFUL_CHUNKS = 10;

function warnFewChunks(ctx: JobContext<unknown>, chunks: number, contextSize: number): void {
  if (chunks >= MIN_MEANINGFUL_CHUNKS) return;
  ctx.log(
    'warn',
    `Only ${chunks} chunk(s) of ${contextSize} tokens were scored: too little text for a meaningful perplexity (aim for ${MIN_MEANINGFUL_CHUNKS} or more: a longer text or a smaller context).`,
  );
}

export interface AdapterJobDeps {
  engine: LlmEngine;
  datasets: DatasetsStore;
  models: ModelsService;
  threads: () => number | null;
  /** The data folder: a merge may never write over its files. */
  dataDir: string;
}

export const PerplexityConfig = z.strictObject({
  variant: VariantConfig,
  source: SourceConfig,
  contextSize: z.number().int().positive(),
  maxChunks: z.number().int().positive().optional(),
});

/** "perplexity": a variant's perplexity on a text, chunked and scored like llama.cpp's perplexity tool. */
export function perplexityJob(d: AdapterJobDeps): JobKind<z.infer<typeof PerplexityConfig>> {
  return {
    kind: 'perplexity',
    schema: PerplexityConfig,
    title: (c) =>
      `Perplexity of ${c.variant.label} on ${c.source.kind === 'file' ? c.source.path.split(/[\\/]/).pop() : `${c.source.label}${c.source.split === 'all' ? '' : ` (${c.source.split})`}`} (ctx ${c.contextSize})`,
    async run(ctx) {
      const c = ctx.config;
      recordVariantLineage(ctx, c.variant);
      const text = sourceText(d.datasets, c.source, ctx);
      const model = await d.engine.loadModel(c.variant.modelPath, { signal: ctx.signal });
      const r = await perplexity(model, text, {
        contextSize: c.contextSize,
        adapters: c.variant.adapters.map((a) => ({ filePath: a.filePath, scale: a.scale })),
        modelFile: c.variant.modelPath,
        threads: d.engine.resolveThreads(d.threads()),
        ...(c.maxChunks ? { maxChunks: c.maxChunks } : {}),
        signal: ctx.signal,
        onChunk: (done, total, ppl) => ctx.progress(done, total, `chunk ${done} of ${total} · perplexity ${ppl.toFixed(4)}`),
      });
      ctx.metric('perplexity', r.ppl);
      ctx.metric('perplexity_stderr', r.stderr);
      ctx.metric('scored_tokens', r.scoredTokens, 'tokens');
      ctx.metric('tokens_per_second', r.tokensPerSecond, 'tokens/s');
      ctx.metric('chunks', r.chunks, 'chunks');
      warnFewChunks(ctx, r.chunks, c.contextSize);
      ctx.log(
        'info',
        `Final estimate: PPL = ${r.ppl.toFixed(4)} +/- ${r.stderr.toFixed(5)} (${r.chunks} chunks of ${c.contextSize} tokens, ${r.tokensPerSecond.toFixed(0)} tokens/s)`,
      );
    },
  };
}

export const SweepConfig = z.strictObject({
  variant: VariantConfig,
  /** The swept adapter: its index in variant.adapters (whose scale each step replaces). */
  swept: z.number().int().min(0),
  scales: z.array(z.number()).min(2),
  source: SourceConfig,
  contextSize: z.number().int().positive(),
  maxChunks: z.number().int().positive().optional(),
});

/** "adapters.sweep": one adapter at several scales, a perplexity per scale, each committed as it completes. */
export function sweepJob(d: AdapterJobDeps): JobKind<z.infer<typeof SweepConfig>> {
  return {
    kind: 'adapters.sweep',
    schema: SweepConfig,
    title: (c) => `Scale sweep of ${c.variant.adapters[c.swept]!.name} on ${c.variant.modelName} (${c.scales.join(', ')})`,
    async run(ctx) {
      const c = ctx.config;
      recordVariantLineage(ctx, c.variant);
      const text = sourceText(d.datasets, c.source, ctx);
      const model = await d.engine.loadModel(c.variant.modelPath, { signal: ctx.signal });
      const done = ctx.doneItems();
      for (const [i, scale] of c.scales.entries()) {
        const key = `scale-${i}`;
        if (done.has(key)) continue;
        ctx.throwIfCancelled();
        const adapters = c.variant.adapters.map((a, j) => ({ filePath: a.filePath, scale: j === c.swept ? scale : a.scale }));
        const r = await perplexity(model, text, {
          contextSize: c.contextSize,
          adapters,
          modelFile: c.variant.modelPath,
          threads: d.engine.resolveThreads(d.threads()),
          ...(c.maxChunks ? { maxChunks: c.maxChunks } : {}),
          signal: ctx.signal,
          onChunk: (done, total) => ctx.progress(i * total + done, c.scales.length * total, `scale ${scale}: chunk ${done} of ${total}`),
        });
        ctx.commitItem(
          key,
          () => {
            ctx.metric('perplexity', r.ppl, '', i);
            ctx.metric('chunks', r.chunks, 'chunks'); // the same text at every scale
          },
          { scale, ppl: r.ppl, stderr: r.stderr },
        );
        if (i === 0) warnFewChunks(ctx, r.chunks, c.contextSize);
        ctx.log('info', `scale ${scale}: PPL = ${r.ppl.toFixed(4)} +/- ${r.stderr.toFixed(5)}`);
      }
    },
  };
}

export const CompareConfig = z.strictObject({
  variants: z.array(VariantConfig).min(2),
  prompts: z.array(z.string()),
  generation: CompareGeneration,
  mode: z.enum(['chat', 'completion']),
  source: z.string(),
});

/**
 * "adapters.compare": every variant answers every prompt with the same seed and settings. Variants run one after the
 * other (one context each on the shared base), and each answer is committed as it completes.
 */
export function compareJob(d: AdapterJobDeps): JobKind<z.infer<typeof CompareConfig>> {
  return {
    kind: 'adapters.compare',
    schema: CompareConfig,
    title: (c) => `Compare ${c.variants.map((v) => v.label).join(' | ')} on ${c.source}`,
    async run(ctx) {
      const c = ctx.config;
      for (const v of c.variants) recordVariantLineage(ctx, v);
      const total = c.variants.length * c.prompts.length;
      const insert = ctx.db.prepare(`INSERT OR REPLACE INTO compare_answers (run_id, prompt, variant, text, tokens, tps, ms) VALUES (?, ?, ?, ?, ?, ?, ?)`);
      const committed = ctx.doneItems();
      let done = committed.size;
      for (const [vi, v] of c.variants.entries()) {
        const pending = c.prompts.map((_, pi) => pi).filter((pi) => !committed.has(`${vi}:${pi}`));
        if (pending.length === 0) continue;
        ctx.throwIfCancelled();
        const model = await d.engine.loadModel(v.modelPath, { signal: ctx.signal });
        const context = await d.engine.createContext(model, { threads: d.threads(), lora: v.adapters.map((a) => ({ filePath: a.filePath, scale: a.scale })) });
        try {
          for (const pi of pending) {
            ctx.throwIfCancelled();
            const sequence = context.getSequence();
            let text = '';
            let tokens = 0;
            let first: number | null = null;
            const t0 = performance.now();
            try {
              await runGeneration(model, sequence, { mode: c.mode, prompt: c.prompts[pi]!, systemPrompt: '', sampling: c.generation }, ctx.signal, {
                onStart: () => {},
                onTokens: (n) => {
                  first ??= performance.now();
                  tokens += n;
                },
                onText: (chunk) => (text += chunk),
              });
            } finally {
              await sequence.dispose();
            }
            ctx.throwIfCancelled();
            const ms = performance.now() - t0;
            const tps = first !== null && tokens > 1 ? (tokens - 1) / ((performance.now() - first) / 1000) : null;
            ctx.commitItem(`${vi}:${pi}`, () => insert.run(ctx.runId, pi, vi, text, tokens, tps, Math.round(ms)));
            done++;
            ctx.progress(done, total, `${v.label}: prompt ${pi + 1} of ${c.prompts.length}`);
          }
        } finally {
          await context.dispose();
        }
      }
    },
  };
}

export const MergeConfig = z.strictObject({
  variant: VariantConfig,
  out: z.string(),
  type: z.enum(['f16', 'f32']),
  /** The user asked to replace an existing file (`--force`, confirmed in the UI). */
  replace: z.boolean().default(false),
});

/** "adapters.merge": base + adapters (with scales) written as a new GGUF and added to the library with its lineage. */
export function mergeJob(d: AdapterJobDeps): JobKind<z.infer<typeof MergeConfig>> {
  return {
    kind: 'adapters.merge',
    schema: MergeConfig,
    title: (c) => `Merge ${c.variant.label} → ${c.out.split(/[\\/]/).pop()} (${c.type.toUpperCase()})`,
    async run(ctx) {
      const c = ctx.config;
      recordVariantLineage(ctx, c.variant);
      if (!ctx.doneItems().has('merged')) {
        const r = await mergeAdapters({
          base: c.variant.modelPath,
          adapters: c.variant.adapters.map((a) => ({ filePath: a.filePath, scale: a.scale })),
          output: c.out,
          type: c.type,
          signal: ctx.signal,
          // Checked again when the run writes: a resumed merge must not replace a file that appeared since.
          checkOutput: (file) => checkOutputPath(file, { dataDir: d.dataDir, replace: c.replace || ctx.doneItems().has('renaming'), field: 'out' }),
          // Marked just before the rename: if the app dies right after it, the resumed run knows the file is its own.
          beforeRename: () => ctx.commitItem('renaming'),
          tempFile: (file) => ctx.tempFile(file),
          releaseTemp: (file) => ctx.releaseTemp(file),
          onTensor: (done, total, name) => ctx.progress(done, total, `tensor ${done} of ${total}: ${name}`),
        });
        ctx.commitItem('merged', undefined, r);
        ctx.metric('merged_tensors', r.mergedTensors);
      }
      const existing = d.models.list().find((m) => m.path === c.out);
      const model = existing ?? (await d.models.add(c.out, ['student'], `Merged from ${c.variant.label} by run ${ctx.runId}`));
      ctx.lineage('output', 'model', String(model.id), model.name);
      ctx.log('info', `${model.name} added to the library as model ${model.id}.`);
    },
  };
}
