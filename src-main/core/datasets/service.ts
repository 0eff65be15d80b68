// Over 400 lines for a reason: the datasets room's one door, for its own operations and for the other rooms (the
// methods at the end), so that their services need not reach into its stores.
import fs from 'node:fs';
import path from 'node:path';
import { nowIso, type Db } from '../store/db.js';
import type { JobRunner } from '../jobs/runner.js';
import { DatasetsStore, toExampleRow } from './store.js';
import { DraftStore } from './draft.js';
import { diffVersions } from './diff.js';
import { assignSplits } from './curation/splits.js';
import { resolveClusters } from './curation/resolve.js';
import { previewOffThread } from './preview-thread.js';
import type { ImportHow } from './preview.js';
import { readLines } from './formats/line-reader.js';
import type { ExportFormat, ExportSplit } from '../../../src-shared/domain/datasets.js';
import { exportTargets, manifestFile } from './jobs/export.js';
import { checkOutputPath } from '../files/output-path.js';
import { withFileErrors } from '../files/errors.js';
import { AppError } from '../../../src-shared/errors.js';
import type {
  ChatMessage,
  CurationAction,
  CurationResult,
  DatasetVersionSummary,
  DuplicateCluster,
  ExamplesFilter,
  Selection,
  Split,
  VersionDiff,
  VersionDiffRow,
  DatasetDetail,
  DatasetSummary,
  ExampleRow,
  ExamplesPage,
  ImportPreview,
  ImportSpec,
  NormalizedExample,
  RejectedRecord,
  ToolDefinition,
} from '../../../src-shared/domain/datasets.js';
import { referenceOf } from '../../../src-shared/domain/datasets.js';

/** Files up to this size are read whole before an import starts, so one with no valid record is refused at once. */
const PRECHECK_BYTES = 1 << 20;
const PRECHECK_RECORDS = 5000;

/** Datasets: import and export (runs), browse and search, curation of a working copy, splits, versions and diffs. */
export class DatasetsService {
  readonly store: DatasetsStore;

  readonly drafts: DraftStore;

  constructor(
    private readonly db: Db,
    private readonly runner: JobRunner,
    /** The data folder: an export may never write over its files. */
    private readonly dataDir: string,
    private readonly options: { previewTimeoutMs?: number } = {},
  ) {
    this.store = new DatasetsStore(db);
    this.drafts = new DraftStore(db);
  }

  list(): DatasetSummary[] {
    return this.store.list();
  }

  dataset(name: string): { id: number; name: string; createdAt: string; testFrozen: boolean } {
    const d = this.store.byName(name);
    if (!d || d.state !== 'ready') throw new AppError('not_found', `there is no dataset named ${name}`);
    return d;
  }

  /**
   * A version of a dataset: a number, or (undefined) the working copy when there is one and else the latest version.
   * Runs that record the version they used take committed versions only (`committedOnly`).
   */
  resolve(name: string, version: number | undefined, { committedOnly = false } = {}): { datasetId: number; version: DatasetVersionSummary } {
    const d = this.dataset(name);
    const versions = this.store.versions(d.id);
    const draft = this.drafts.summary(d.id);
    const draftRow = draft ? this.drafts.draftOf(d.id)! : null;
    const draftVersion: DatasetVersionSummary | null =
      draft && draftRow
        ? { id: draftRow.id, number: draft.number, message: 'Working copy', exampleCount: draft.exampleCount, createdAt: '', runId: null, state: 'draft' }
        : null;
    if (version === undefined) return { datasetId: d.id, version: (!committedOnly && draftVersion) || versions.at(-1)! };
    if (draftVersion && version === draftVersion.number) {
      if (committedOnly) throw new AppError('conflict', `${name}@${version} is the uncommitted working copy; commit it first`, 'version');
      return { datasetId: d.id, version: draftVersion };
    }
    const v = versions.find((x) => x.number === version);
    if (!v) throw new AppError('not_found', `${name} has no version ${version} (it has 1 to ${versions.length})`, 'version');
    return { datasetId: d.id, version: v };
  }

  get(name: string, version: number | undefined, previewLimit: number): DatasetDetail {
    const d = this.dataset(name);
    const { version: v } = this.resolve(name, version);
    const versions = this.store.versions(d.id);
    return {
      id: d.id,
      name: d.name,
      createdAt: d.createdAt,
      latest: versions.at(-1)!,
      versions,
      version: v,
      preview: this.store.preview(v.id, previewLimit),
      draft: this.drafts.summary(d.id),
      testFrozen: d.testFrozen,
      splits: this.store.splitCounts(v.id),
      tags: this.store.tagCounts(v.id),
      flags: this.store.flagCounts(v.id),
      sources: this.store.sources(d.id, v.id),
    };
  }

  /** The import dialog's preview, on a worker thread with a time limit (no file can stop the app answering). */
  previewImport(file: string, how: ImportHow, limit: number): Promise<ImportPreview> {
    return previewOffThread(file, how, limit, this.options.previewTimeoutMs);
  }

  examples(name: string, version: number | undefined, offset: number, limit: number, filter: ExamplesFilter = {}): ExamplesPage {
    const { version: v } = this.resolve(name, version);
    const page = this.store.page(v.id, offset, limit, filter);
    return { total: page.total, exact: page.exact, rows: page.rows.map(toExampleRow) };
  }

  /** Tag, untag, flag, unflag or delete one example, a selection, or everything matching a filter: one undoable operation. */
  curate(name: string, selection: Selection, action: CurationAction): CurationResult {
    const d = this.dataset(name);
    const what = describeSelection(selection);
    let r;
    let label: string;
    switch (action.kind) {
      case 'tag':
        label = `Tagged #${action.tag}: ${what}`;
        r = this.drafts.tag(d.id, selection, action.tag, label);
        break;
      case 'untag':
        label = `Untagged #${action.tag}: ${what}`;
        r = this.drafts.untag(d.id, selection, action.tag, label);
        break;
      case 'flag':
        label = `Flagged: ${what}`;
        r = this.drafts.flag(d.id, selection, 'manual', label);
        break;
      case 'unflag':
        label = `Cleared flags: ${what}`;
        r = this.drafts.unflag(d.id, selection, label);
        break;
      case 'delete':
        label = `Deleted: ${what}`;
        r = this.drafts.delete(d.id, selection, label);
        break;
    }
    return this.result(d.id, r.opId, label, r);
  }

  private result(datasetId: number, opId: number | null, label: string, r: { affected: number; skipped: number }): CurationResult {
    const draft = this.drafts.summary(datasetId);
    const op = draft?.operations.find((o) => o.id === opId);
    return { label: op ? op.label : label, affected: r.affected, skipped: r.skipped, draft };
  }

  /** Replaces one example's conversation (the old content stays in earlier versions). */
  edit(name: string, position: number, messages: ChatMessage[], tools?: ToolDefinition[]): CurationResult {
    const d = this.dataset(name);
    if (!messages.some((m) => m.role === 'user')) throw new AppError('invalid_input', 'an example needs a user message', 'messages');
    const example: NormalizedExample = { messages, reference: referenceOf(messages), ...(tools ? { tools } : {}) };
    const r = this.drafts.replaceContent(d.id, new Map([[position, example]]), `Edited example ${position}`);
    if (r.affected === 0) throw new AppError('not_found', `${name} has no example at position ${position}`, 'position');
    return this.result(d.id, r.opId, `Edited example ${position}`, r);
  }

  undo(name: string): CurationResult {
    const d = this.dataset(name);
    const op = this.drafts.undo(d.id);
    if (!op) throw new AppError('conflict', `${name} has no change to undo`);
    return { label: `Undid: ${op.label}`, affected: op.affected, skipped: 0, draft: this.drafts.summary(d.id) };
  }

  commit(name: string, message: string): DatasetVersionSummary {
    const d = this.dataset(name);
    const c = this.drafts.commit(d.id, message);
    return this.store.versions(d.id).find((v) => v.id === c.versionId)!;
  }

  discard(name: string): boolean {
    return this.drafts.discard(this.dataset(name).id);
  }

  setTestFrozen(name: string, frozen: boolean): void {
    const d = this.dataset(name);
    if (frozen && this.store.splitCounts(this.resolve(name, undefined).version.id).test === 0) {
      throw new AppError('conflict', `${name} has no test split to freeze; make splits first`);
    }
    this.drafts.setTestFrozen(d.id, frozen);
  }

  /** Seeded random (optionally stratified by tags) train/validation/test assignment of the working copy. */
  split(name: string, options: SplitOptions): CurationResult {
    const d = this.dataset(name);
    const draft = this.drafts.ensureDraft(d.id);
    const rows = this.store.splitInputs(draft.id);
    const frozenTest = d.testFrozen;
    let assigned: Map<number, Split>;
    try {
      assigned = assignSplits(
        rows.map((r) => ({ key: r.position, stratum: options.stratify ? r.tags : null, fixed: r.split })),
        { ratios: options.ratios, counts: options.counts, seed: options.seed, frozenTest },
      );
    } catch (e) {
      throw new AppError('invalid_input', (e as Error).message, 'ratios');
    }
    const how = options.counts ? `counts ${JSON.stringify(options.counts)}` : `${options.ratios!.train}/${options.ratios!.validation}/${options.ratios!.test}`;
    const label = `Split ${rows.length} examples ${how}, seed ${options.seed}${options.stratify ? ', stratified by tags' : ''}`;
    if (options.freezeTest && ![...assigned.values()].includes('test')) {
      throw new AppError(
        'invalid_input',
        `this split puts no example of ${name} in test, so there is no test split to freeze; give test a share`,
        'freezeTest',
      );
    }
    const r = this.db.transaction(() => {
      const done = this.drafts.setSplits(d.id, assigned, label);
      if (options.freezeTest) this.drafts.setTestFrozen(d.id, true);
      return done;
    })();
    return this.result(d.id, r.opId, label, r);
  }

  diff(name: string, from: number, to: number | undefined, offset: number, limit: number, only?: VersionDiffRow['change']): VersionDiff {
    const a = this.resolve(name, from).version;
    const b = this.resolve(name, to).version;
    return diffVersions(this.db, this.store, a, b, offset, limit, only);
  }

  /** The near-duplicate clusters of a version's latest detection, largest first, with their members. */
  clusters(name: string, version: number | undefined, offset: number, limit: number): { total: number; clusters: DuplicateCluster[] } {
    const { version: v } = this.resolve(name, version);
    const page = this.store.clusters(v.id, offset, limit);
    return {
      total: page.total,
      clusters: page.clusters.map((c) => ({ cluster: c.cluster, similarity: c.similarity, members: this.store.rowsAt(v.id, c.positions).map(toExampleRow) })),
    };
  }

  async startImport(file: string, name: string, how: ImportHow, append = false): Promise<{ runId: number; spec: ImportSpec }> {
    if (append) {
      const d = this.dataset(name);
      const draft = this.drafts.summary(d.id);
      if (draft && draft.operations.length > 0)
        throw new AppError('conflict', `${name} has uncommitted changes in its working copy; commit or discard them first`);
      if (draft) this.drafts.discard(d.id); // an empty working copy: nothing to lose
    } else if (this.store.byName(name)) {
      throw new AppError('conflict', `a dataset named ${name} already exists (to add a file to it, import with append)`);
    }
    // Detection reads the file too: on the preview's thread, with its time limit. A small file is read whole there, so
    // one with no valid record is refused before a run starts (a larger one ends its run failed if nothing imports).
    const size = withFileErrors(path.resolve(file), () => fs.statSync(path.resolve(file), { throwIfNoEntry: false })?.size ?? 0, 'path');
    const whole = size <= PRECHECK_BYTES;
    const preview = await previewOffThread(file, how, whole ? PRECHECK_RECORDS : 0, this.options.previewTimeoutMs);
    const { path: absolute, spec } = preview;
    if (!spec.record && !spec.mapping && spec.container !== 'text') {
      throw new AppError('invalid_input', `${path.basename(absolute)}: choose which column holds the prompt`, 'mapping');
    }
    if (whole && preview.examples.length === 0 && preview.rejects.length < PRECHECK_RECORDS) {
      const first = preview.rejects[0];
      const what = first === undefined ? 'has no records' : `has no valid record (${preview.rejects.length} rejected; line ${first.line}: ${first.reason})`;
      throw new AppError('invalid_input', `${path.basename(absolute)} ${what}: nothing to import`, 'path');
    }
    const run = this.runner.submit('datasets.import', { file: absolute, name, spec, append });
    return { runId: run.id, spec };
  }

  startExport(
    name: string,
    version: number | undefined,
    format: ExportFormat,
    out: string,
    container: 'jsonl' | 'parquet' = 'jsonl',
    split: ExportSplit = 'all',
    replace = false,
  ): { runId: number } {
    const v = this.resolve(name, version, { committedOnly: true }).version;
    const absolute = path.resolve(out);
    const counts = this.store.splitCounts(v.id);
    if (split !== 'all' && split !== 'each' && counts[split] === 0) {
      throw new AppError('conflict', `${name}@${v.number} has no ${split} examples; split it first`, 'split');
    }
    // Every file the run will write, checked now (and again as it writes): see checkOutputPath.
    for (const t of [...exportTargets(absolute, split, counts).map((t) => t.file), manifestFile(absolute)]) {
      checkOutputPath(t, { dataDir: this.dataDir, replace, field: 'out' });
    }
    const run = this.runner.submit('datasets.export', { name, version: v.number, versionId: v.id, format, container, split, out: absolute, replace });
    return { runId: run.id };
  }

  private target(name: string): { name: string; datasetId: number; versionId: number; versionNumber: number } {
    const { datasetId, version } = this.resolve(name, undefined);
    return { name, datasetId, versionId: version.id, versionNumber: version.number };
  }

  /** Starts a duplicate detection run on the working copy (or latest version): exact, or near at a Jaccard threshold. */
  startDedupe(name: string, near: number | undefined, apply: boolean, commitMessage?: string): { runId: number } {
    const t = this.target(name);
    const draft = this.drafts.summary(t.datasetId);
    if (commitMessage && draft && draft.operations.length > 0) {
      throw new AppError('conflict', `${name} has uncommitted changes in its working copy; commit or discard them first`);
    }
    const run = this.runner.submit('datasets.dedupe', { ...t, ...(near === undefined ? {} : { near }), apply, ...(commitMessage ? { commitMessage } : {}) });
    return { runId: run.id };
  }

  /** Keeps one example per duplicate cluster (the chosen one, else the first) and deletes the rest: one undoable operation. */
  resolveDuplicates(name: string, keep: { cluster: number; position: number }[]): CurationResult {
    const d = this.dataset(name);
    const r = resolveClusters(this.store, this.drafts, d.id, new Map(keep.map((k) => [k.cluster, k.position])));
    return this.result(d.id, r.opId, '', r);
  }

  startScan(name: string, quality: boolean, pii: 'off' | 'flag' | 'redact'): { runId: number } {
    if (!quality && pii === 'off') throw new AppError('invalid_input', 'choose quality checks, a PII scan, or both', 'quality');
    return { runId: this.runner.submit('datasets.scan', { ...this.target(name), quality, pii }).id };
  }

  startTokenCount(name: string, model: { id: number; path: string; name: string }): { runId: number } {
    const t = this.target(name);
    const run = this.runner.submit('datasets.countTokens', { ...t, modelId: model.id, modelPath: model.path, modelName: model.name }, [
      { kind: 'model', ref: String(model.id), label: model.name },
    ]);
    return { runId: run.id };
  }

  /**
   * The lines an import rejected, whole, read again from the source file (for the report's download); a line over the
   * size limit, or a file that has changed or gone, gives the stored excerpt instead.
   */
  async rejectedLines(runId: number): Promise<{ file: string | null; lines: (RejectedRecord & { text: string; whole: boolean })[] }> {
    const { file } = this.runner.config(runId, 'datasets.import');
    const rejects = this.store.rejects(runId, 100_000);
    const wanted = new Map(rejects.map((r) => [r.line, r]));
    const found = new Map<number, string>();
    if (wanted.size && fs.existsSync(file)) {
      const last = Math.max(...wanted.keys());
      for await (const l of readLines(file)) {
        if ('text' in l && wanted.has(l.line)) found.set(l.line, l.text);
        if (l.line >= last) break;
      }
    }
    return {
      file,
      lines: rejects.map((r) => {
        const text = found.get(r.line);
        // the file may have changed since: only a line that still starts like the excerpt is the rejected one
        const whole = text !== undefined && text.startsWith(r.excerpt.slice(0, 50));
        return { ...r, text: whole ? text : r.excerpt, whole };
      }),
    };
  }

  rejects(runId: number, limit: number): RejectedRecord[] {
    return this.store.rejects(runId, limit);
  }

  // For other rooms (a distillation reads its prompts' split and writes kept answers into its output's working copy):
  // they call these, never `store` or `drafts` directly.

  /** Examples of a version in one split ('all': every example). */
  splitSize(version: { id: number; exampleCount: number }, split: Split | 'all'): number {
    return split === 'all' ? version.exampleCount : this.store.splitCounts(version.id)[split];
  }

  /** Whether a dataset has this name, imported or still importing. */
  nameTaken(name: string): boolean {
    return this.store.byName(name) !== null;
  }

  /** The id of the dataset of this name once its import has finished; null before and when there is none. */
  readyId(name: string): number | null {
    const d = this.store.byName(name);
    return d !== null && d.state === 'ready' ? d.id : null;
  }

  /** The tool definitions of one example of a version, if it has any. */
  toolsAt(versionId: number, position: number): ToolDefinition[] | null {
    const tools = this.store.rowsAt(versionId, [position])[0]?.tools ?? null;
    return tools ? (JSON.parse(tools) as ToolDefinition[]) : null;
  }

  /** The tool definitions of the examples at these positions of a version that have any. */
  toolsOf(versionId: number, positions: number[]): Map<number, ToolDefinition[]> {
    const rows = this.store.rowsAt(versionId, positions);
    return new Map(rows.flatMap((r) => (r.tools ? [[r.position, JSON.parse(r.tools) as ToolDefinition[]] as const] : [])));
  }

  /** How many examples a version has in one split ('all': every one). */
  countIn(versionId: number, split: Split | 'all'): number {
    return split === 'all' ? this.store.versionSize(versionId) : this.store.splitCounts(versionId)[split];
  }

  /**
   * A new dataset `name` (its version 1) made by run `runId` from `examples`, written in one transaction with the
   * caller's own writes (`alongside`, given each example's position in the new version). Returns the version number.
   */
  createFromRun(name: string, message: string, runId: number, examples: NormalizedExample[], alongside: (positions: number[]) => void): number {
    return this.db.transaction(() => {
      const target = this.store.createImporting(name, message, runId, nowIso(), `run ${runId}`);
      this.store.insertBatch(
        target,
        runId,
        examples.map((example, i) => ({ line: i + 1, example })),
      );
      if (examples.length) this.store.indexLines(target, runId, 1, examples.length);
      alongside(examples.map((_, i) => target.base + i + 1));
      this.store.finishImport(target);
      return 1;
    })();
  }

  /** Where every committed version came from: its parent version and the run that made it (curation by hand: none). */
  versionParents(): { dataset: string; number: number; parentNumber: number | null; runId: number | null }[] {
    return this.store.versionParents();
  }

  /** The first examples of a version, in order, from one split ('all': any). */
  firstExamples(versionId: number, limit: number, split: Split | 'all'): ExampleRow[] {
    return this.examplesAfter(versionId, Number.MIN_SAFE_INTEGER, limit, split);
  }

  /** The next `limit` examples of a version after `position`, in order, from one split ('all': any): a page of a walk. */
  examplesAfter(versionId: number, position: number, limit: number, split: Split | 'all'): ExampleRow[] {
    return this.store.pageAfter(versionId, position, limit, split === 'all' ? undefined : split).map(toExampleRow);
  }

  /** Adds examples to a dataset's working copy as one undoable operation; their positions there. */
  addToWorkingCopy(datasetId: number, examples: NormalizedExample[], label: string): number[] {
    return this.drafts.addExamples(datasetId, examples, label).positions;
  }

  /** Deletes examples from a dataset's working copy as one undoable operation. */
  deleteFromWorkingCopy(datasetId: number, positions: number[], label: string): void {
    this.drafts.delete(datasetId, { positions }, label);
  }
}

export interface SplitOptions {
  ratios?: { train: number; validation: number; test: number };
  counts?: { validation?: number; test?: number };
  seed: number;
  stratify?: boolean;
  /** Freeze the test split afterwards (refused, before anything changes, when this split would make no test example). */
  freezeTest?: boolean;
}

function describeSelection(selection: Selection): string {
  if ('positions' in selection) return selection.positions.length === 1 ? `example ${selection.positions[0]}` : `${selection.positions.length} examples`;
  const f = selection.filter;
  const parts: string[] = [];
  if (f.search?.trim()) parts.push(`matching “${f.search.trim()}”`);
  if (f.split) parts.push(`in ${f.split === 'none' ? 'no split' : f.split}`);
  if (f.tag) parts.push(`tagged ${f.tag}`);
  if (f.flag) parts.push(`flagged ${f.flag}`);
  else if (f.flagged !== undefined) parts.push(f.flagged ? 'flagged' : 'not flagged');
  if (f.hasReference !== undefined) parts.push(f.hasReference ? 'with a reference answer' : 'without a reference answer');
  if (f.cluster !== undefined) parts.push(`in duplicate cluster ${f.cluster}`);
  else if (f.duplicates !== undefined) parts.push(f.duplicates ? 'in a duplicate cluster' : 'not in a duplicate cluster');
  if (f.minTokens !== undefined || f.maxTokens !== undefined) parts.push(`of ${f.minTokens ?? 0}–${f.maxTokens ?? '∞'} tokens`);
  return parts.length ? `examples ${parts.join(', ')}` : 'all examples';
}

export type { ImportHow } from './preview.js';
