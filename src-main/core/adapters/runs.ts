import fs from 'node:fs';
import path from 'node:path';
import type { Db } from '../store/db.js';
import { nowIso } from '../store/db.js';
import type { JobRunner } from '../jobs/runner.js';
import type { ModelsService } from '../models/service.js';
import type { DatasetsService } from '../datasets/service.js';
import type { AdaptersService } from './service.js';
import { variantLabel } from './jobs/variants.js';
import type { SourceConfig, VariantConfig } from '../../../src-shared/contract/adapters.js';
import type { OpParsed } from '../../../src-shared/contract/index.js';
import type { CompareResults, SweepPoint, TextSource, Variant } from '../../../src-shared/domain/adapters.js';
import { AppError } from '../../../src-shared/errors.js';
import { checkOutputPath } from '../files/output-path.js';
import { withFileErrors } from '../files/errors.js';
import { resolveSource } from '../scoring/source-text.js';
import { TRAINING_MANIFEST } from '../../../src-shared/domain/training.js';

/** Starts the adapter runs (perplexity, sweep, comparison, merge) and reads their results. */
export class AdapterRuns {
  constructor(
    private readonly db: Db,
    private readonly adapters: AdaptersService,
    private readonly models: ModelsService,
    private readonly datasets: DatasetsService,
    private readonly runner: JobRunner,
    /** The data folder: a merge may never write over its files. */
    private readonly dataDir: string,
  ) {}

  /** A variant with its files resolved and every adapter checked against the model, before any run starts. */
  variant(v: Variant): VariantConfig {
    const model = this.models.resolveForEngine(v.modelId);
    const adapters = this.adapters.resolveForEngine(v.modelId, v.adapters).map((a) => ({ id: a.id, name: a.name, filePath: a.filePath, scale: a.scale }));
    const resolved = { modelId: v.modelId, modelPath: model.path, modelName: model.name, adapters };
    return { ...resolved, label: v.label?.trim() || variantLabel(resolved) };
  }

  private source(s: TextSource): SourceConfig {
    return resolveSource(this.datasets, s);
  }

  perplexity(input: OpParsed<'adapters.perplexity'>): { runId: number } {
    const config = {
      variant: this.variant(input.variant),
      source: this.source(input.source),
      contextSize: input.contextSize,
      ...(input.maxChunks ? { maxChunks: input.maxChunks } : {}),
    };
    return { runId: this.runner.submit('adapters.perplexity', config).id };
  }

  sweep(input: OpParsed<'adapters.sweep'>): { runId: number } {
    if (input.fixed.some((f) => f.id === input.adapterId)) throw new AppError('invalid_input', 'the swept adapter cannot also be fixed', 'fixed');
    const variant = this.variant({ modelId: input.modelId, adapters: [{ id: input.adapterId, scale: 1 }, ...input.fixed] });
    const config = {
      variant,
      swept: 0,
      scales: input.scales,
      source: this.source(input.source),
      contextSize: input.contextSize,
      ...(input.maxChunks ? { maxChunks: input.maxChunks } : {}),
    };
    return { runId: this.runner.submit('adapters.sweep', config).id };
  }

  sweepPoints(runId: number): SweepPoint[] {
    return this.runner.itemResults(runId, 'adapters.sweep').sort((a, b) => a.scale - b.scale);
  }

  compare(input: OpParsed<'adapters.compare'>): { runId: number } {
    const variants = input.variants.map((v) => this.variant(v));
    let prompts: string[];
    let source: string;
    if ('texts' in input.prompts) {
      prompts = input.prompts.texts;
      source = `${prompts.length} typed prompt${prompts.length === 1 ? '' : 's'}`;
    } else {
      const p = input.prompts;
      const { version } = this.datasets.resolve(p.dataset, p.version, { committedOnly: true });
      const rows = this.datasets.firstExamples(version.id, p.limit, p.split);
      prompts = rows.map((r) => r.messages.filter((m) => m.role === 'user').at(-1)?.content ?? '').filter((t) => t.trim() !== '');
      if (prompts.length === 0)
        throw new AppError('conflict', `${p.dataset}@${version.number} has no prompts${p.split === 'all' ? '' : ` in ${p.split}`}`, 'prompts');
      source = `${p.dataset}@${version.number}${p.split === 'all' ? '' : ` (${p.split})`}`;
    }
    return { runId: this.runner.submit('adapters.compare', { variants, prompts, generation: input.generation, mode: input.mode, source }).id };
  }

  compareResults(runId: number): CompareResults {
    const c = this.runner.config(runId, 'adapters.compare');
    const answers = this.db.prepare(`SELECT prompt, variant, text, tokens, tps, ms FROM compare_answers WHERE run_id = ?`).all(runId) as {
      prompt: number;
      variant: number;
      text: string;
      tokens: number;
      tps: number | null;
      ms: number;
    }[];
    const votes = new Map(
      (this.db.prepare(`SELECT prompt, winner FROM compare_votes WHERE run_id = ?`).all(runId) as { prompt: number; winner: number }[]).map((v) => [
        v.prompt,
        v.winner,
      ]),
    );
    const prompts = c.prompts.map((prompt, index) => ({
      index,
      prompt,
      answers: c.variants.map(() => null) as CompareResults['prompts'][number]['answers'],
      winner: votes.get(index) ?? null,
    }));
    for (const a of answers) prompts[a.prompt]!.answers[a.variant] = { variant: a.variant, text: a.text, tokens: a.tokens, tokensPerSecond: a.tps, ms: a.ms };
    const tally = c.variants.map(() => 0);
    for (const w of votes.values()) if (w >= 0 && w < tally.length) tally[w]!++;
    return { variants: c.variants.map((v, index) => ({ index, label: v.label })), prompts, tally };
  }

  vote(runId: number, prompt: number, winner: number | null): number[] {
    const c = this.runner.config(runId, 'adapters.compare');
    if (prompt >= c.prompts.length) throw new AppError('invalid_input', `run ${runId} has ${c.prompts.length} prompts`, 'prompt');
    if (winner !== null && winner >= c.variants.length) throw new AppError('invalid_input', `run ${runId} has ${c.variants.length} variants`, 'winner');
    if (winner === null) this.db.prepare(`DELETE FROM compare_votes WHERE run_id = ? AND prompt = ?`).run(runId, prompt);
    else this.db.prepare(`INSERT OR REPLACE INTO compare_votes (run_id, prompt, winner, voted_at) VALUES (?, ?, ?, ?)`).run(runId, prompt, winner, nowIso());
    return this.compareResults(runId).tally;
  }

  /**
   * Starts waiting for a trainer's adapter in `dir` (see jobs/watch.ts). Refused at once: a relative path, a file, a
   * folder whose parent does not exist either (unless it is below a training folder, up to 3 levels: the trainer makes
   * `outputs/adapter` when it starts), a base model that is not usable, a name already taken.
   */
  watch(input: OpParsed<'adapters.watch'>): { runId: number } {
    if (!path.isAbsolute(input.dir)) throw new AppError('invalid_input', `${input.dir}: give the folder as an absolute path`, 'dir');
    const dir = path.resolve(input.dir);
    const st = withFileErrors(dir, () => fs.statSync(dir, { throwIfNoEntry: false }), 'dir');
    if (st && !st.isDirectory()) throw new AppError('invalid_input', `${dir} is a file: give the trainer's output folder`, 'dir');
    if (!st && !fs.existsSync(path.dirname(dir)) && !insideTrainingFolder(dir)) {
      throw new AppError('file_missing', `neither ${dir} nor its parent folder exists: check the path`, 'dir');
    }
    const base = this.models.resolveForEngine(input.baseModelId);
    if (input.name !== undefined && this.adapters.list().some((a) => a.name === input.name)) {
      throw new AppError('conflict', `an adapter named ${input.name} is already in the library`, 'name');
    }
    const config = { dir, base: { id: input.baseModelId, name: base.name }, name: input.name ?? null, timeoutMinutes: input.timeoutMinutes ?? null };
    return { runId: this.runner.submit('adapters.watch', config).id };
  }

  merge(input: OpParsed<'adapters.merge'>): { runId: number } {
    const out = checkOutputPath(input.out, { dataDir: this.dataDir, replace: input.replace, field: 'out' });
    if (!out.toLowerCase().endsWith('.gguf')) throw new AppError('invalid_input', `${out}: the merged model's file name must end in .gguf`, 'out');
    const variant = this.variant({ modelId: input.modelId, adapters: input.adapters });
    return { runId: this.runner.submit('adapters.merge', { variant, out, type: input.type, replace: input.replace }).id };
  }
}

/** Whether `dir` (missing) is at most 3 folders below an existing training folder (one holding distillery-export.json). */
function insideTrainingFolder(dir: string): boolean {
  let d = path.dirname(dir);
  for (let i = 0; i < 3 && d !== path.dirname(d); i++, d = path.dirname(d)) {
    if (fs.existsSync(path.join(d, TRAINING_MANIFEST))) return true;
  }
  return false;
}
