import { z } from 'zod';
import type { JobContext, JobKind } from '../jobs/types.js';
import type { LlmEngine } from '../llm/engine.js';
import { toExampleRow, type DatasetsStore } from './store.js';
import type { DraftStore } from './draft.js';
import { exactDuplicateGroups, exactKey, exampleText, nearDuplicateClusters } from './curation/dedupe.js';
import { qualityIssues } from './curation/quality.js';
import { redactPii, scanPii } from './curation/pii.js';
import { messageText, referenceOf, type ExampleRow, type NormalizedExample } from '../../../src-shared/domain/datasets.js';

const PAGE = 5000;

/** Every live row of a version, a page at a time, yielding between pages so the app stays responsive and cancellable. */
async function* rowsOf(store: DatasetsStore, versionId: number, ctx: JobContext<unknown>): AsyncGenerator<ExampleRow[]> {
  let after = Number.MIN_SAFE_INTEGER;
  for (;;) {
    ctx.throwIfCancelled();
    const rows = store.pageAfter(versionId, after, PAGE);
    if (rows.length === 0) return;
    after = rows.at(-1)!.position;
    yield rows.map(toExampleRow);
    await new Promise((r) => setImmediate(r));
  }
}

const Target = {
  name: z.string().min(1),
  datasetId: z.number().int().positive(),
  versionId: z.number().int().positive(),
  versionNumber: z.number().int().positive(),
};

export const DedupeConfig = z.strictObject({
  ...Target,
  /** Jaccard similarity for near-duplicates (MinHash + LSH); absent: exact duplicates of the normalized text. */
  near: z.number().min(0.5).max(1).optional(),
  /** Delete all but one example per cluster in the working copy (otherwise clusters are only stored for review). */
  apply: z.boolean(),
  /** Commit the working copy with this message afterwards (the CLI's one-shot dedupe). */
  commitMessage: z.string().optional(),
});
export type DedupeConfig = z.infer<typeof DedupeConfig>;

/**
 * "Find duplicates": exact (normalized text) or near (MinHash + LSH at a Jaccard threshold) clusters of a version,
 * stored for review and filtering; optionally resolved at once (keep one per cluster) and committed.
 */
export function dedupeJob(store: DatasetsStore, drafts: DraftStore): JobKind<DedupeConfig> {
  return {
    kind: 'datasets.dedupe',
    schema: DedupeConfig,
    title: (c) => `${c.near ? `Near-duplicates (≥ ${c.near})` : 'Exact duplicates'} in ${c.name}@${c.versionNumber}`,
    async run(ctx) {
      const c = ctx.config;
      ctx.lineage('input', 'dataset', c.name, `${c.name}@${c.versionNumber}`);
      const total = store.versionSize(c.versionId);
      let done = 0;
      let clusters: { positions: number[]; similarity: number }[];
      if (c.near === undefined) {
        const keys: { id: number; key: string }[] = [];
        for await (const rows of rowsOf(store, c.versionId, ctx)) {
          for (const r of rows) keys.push({ id: r.position, key: exactKey(r) });
          done += rows.length;
          ctx.progress(done, total, `${done} of ${total} examples hashed`);
        }
        clusters = exactDuplicateGroups(keys).map((positions) => ({ positions, similarity: 1 }));
      } else {
        const items: { id: number; text: string }[] = [];
        for await (const rows of rowsOf(store, c.versionId, ctx)) {
          for (const r of rows) items.push({ id: r.position, text: exampleText(r) });
          ctx.progress(items.length, total * 2, `${items.length} of ${total} examples read`);
        }
        const found = nearDuplicateClusters(items, {
          threshold: c.near,
          onProgress: (n: number) => ctx.progress(total + n, total * 2, `${n} of ${total} examples hashed`),
        });
        clusters = found.clusters.map((k) => ({ positions: k.ids, similarity: k.similarity }));
      }
      ctx.throwIfCancelled();
      const duplicates = clusters.reduce((n, k) => n + k.positions.length - 1, 0);
      ctx.db.transaction(() => store.saveClusters(c.versionId, clusters))();
      ctx.metric('clusters', clusters.length, 'clusters');
      ctx.metric('duplicates', duplicates, 'examples');
      ctx.log('info', `${clusters.length} cluster(s), ${duplicates} example(s) beyond the first of each.`);
      if (c.apply && clusters.length > 0) {
        const r = resolveClusters(store, drafts, c.datasetId, new Map(), c.near);
        ctx.metric('removed', r.affected, 'examples');
        ctx.log('info', `Removed ${r.affected} duplicate(s)${r.skipped ? `; ${r.skipped} left in the frozen test split` : ''}.`);
      }
      if (c.commitMessage !== undefined) {
        const draft = drafts.draftOf(c.datasetId);
        if (draft && drafts.summary(c.datasetId)!.operations.length > 0) {
          const v = drafts.commit(c.datasetId, c.commitMessage, ctx.runId);
          ctx.lineage('output', 'dataset', c.name, `${c.name}@${v.number}`);
          ctx.log('info', `Committed ${c.name}@${v.number} (${v.exampleCount} examples).`);
        } else ctx.log('info', 'No duplicates: no new version.');
      }
    },
  };
}

/**
 * Keeps one example per duplicate cluster of the working copy and deletes the others (one undoable operation). The
 * kept one is the user's choice (`keep`: cluster → position), else a test-split member (a frozen test keeps its own),
 * else the first.
 */
export function resolveClusters(store: DatasetsStore, drafts: DraftStore, datasetId: number, keep: Map<number, number>, near?: number) {
  const draft = drafts.ensureDraft(datasetId);
  const remove: number[] = [];
  for (let offset = 0; ; offset += 1000) {
    const page = store.clusters(draft.id, offset, 1000);
    for (const k of page.clusters) {
      const rows = store.rowsAt(draft.id, k.positions);
      const keeper = keep.get(k.cluster) ?? rows.find((r) => r.split === 'test')?.position ?? k.positions[0]!;
      for (const p of k.positions) if (p !== keeper) remove.push(p);
    }
    if (page.clusters.length < 1000) break;
  }
  const label = `Removed ${remove.length} ${near === undefined ? 'duplicate' : `near-duplicate (≥ ${near})`} example${remove.length === 1 ? '' : 's'}, one kept per cluster`;
  return drafts.delete(datasetId, { positions: remove }, label);
}

export const ScanConfig = z.strictObject({
  ...Target,
  quality: z.boolean(),
  pii: z.enum(['off', 'flag', 'redact']),
});
export type ScanConfig = z.infer<typeof ScanConfig>;

/**
 * "Scan": language-agnostic quality checks (empty or whitespace answers, repeated n-grams, truncated answers) and a
 * PII scan (e-mail, phone, card numbers with Luhn, IBAN, IP, API keys and tokens). Findings flag the examples in the
 * working copy (`quality:<kind>`, `pii:<kind>`); with `redact`, PII is also replaced in the text. Counts per kind
 * are the run's metrics.
 */
export function scanJob(store: DatasetsStore, drafts: DraftStore): JobKind<ScanConfig> {
  return {
    kind: 'datasets.scan',
    schema: ScanConfig,
    title: (c) => `Scan ${c.name}@${c.versionNumber} (${[c.quality ? 'quality' : '', c.pii !== 'off' ? `PII: ${c.pii}` : ''].filter(Boolean).join(', ')})`,
    async run(ctx) {
      const c = ctx.config;
      ctx.lineage('input', 'dataset', c.name, `${c.name}@${c.versionNumber}`);
      const total = store.versionSize(c.versionId);
      const findings = new Map<number, string[]>();
      const redacted = new Map<number, NormalizedExample>();
      const counts = new Map<string, number>();
      const count = (k: string, n = 1) => counts.set(k, (counts.get(k) ?? 0) + n);
      let done = 0;
      for await (const rows of rowsOf(store, c.versionId, ctx)) {
        for (const r of rows) {
          const reasons = new Set<string>();
          if (c.quality) {
            for (const q of qualityIssues(r)) {
              reasons.add(`quality:${q.kind}`);
              count(`quality:${q.kind}`);
            }
          }
          if (c.pii !== 'off') {
            let any = false;
            for (const m of r.messages) {
              for (const hit of scanPii(messageText(m))) {
                reasons.add(`pii:${hit.kind}`);
                count(`pii:${hit.kind}`);
                any = true;
              }
            }
            if (any && c.pii === 'redact') {
              // the other fields stay; a call's arguments are redacted like text (a placeholder is valid inside a JSON string)
              const messages = r.messages.map((m) => ({
                ...m,
                content: redactPii(m.content),
                ...(m.tool_calls
                  ? { tool_calls: m.tool_calls.map((c) => ({ ...c, function: { ...c.function, arguments: redactPii(c.function.arguments) } })) }
                  : {}),
              }));
              redacted.set(r.position, { messages, reference: referenceOf(messages) });
            }
          }
          if (reasons.size) findings.set(r.position, [...reasons]);
        }
        done += rows.length;
        ctx.progress(done, total, `${done} of ${total} examples scanned, ${findings.size} with findings`);
      }
      ctx.throwIfCancelled();
      for (const [kind, n] of [...counts.entries()].sort()) ctx.metric(kind, n, 'matches');
      ctx.metric('examples_flagged', findings.size, 'examples');
      if (redacted.size) {
        const r = drafts.replaceContent(c.datasetId, redacted, `Redacted PII in ${redacted.size} example${redacted.size === 1 ? '' : 's'}`);
        ctx.metric('examples_redacted', r.affected, 'examples');
      }
      if (findings.size) drafts.flagEach(c.datasetId, findings, `Flagged ${findings.size} example${findings.size === 1 ? '' : 's'} found by a scan`);
      ctx.log(
        findings.size ? 'warn' : 'info',
        findings.size ? `${findings.size} example(s) flagged: ${[...counts.entries()].map(([k, n]) => `${k} ${n}`).join(', ')}.` : 'Nothing found.',
      );
    },
  };
}

export const TokenCountConfig = z.strictObject({ ...Target, modelId: z.number().int().positive(), modelPath: z.string().min(1), modelName: z.string() });
export type TokenCountConfig = z.infer<typeof TokenCountConfig>;

/**
 * "Count tokens": every example's length with a model's tokenizer (loaded vocabulary-only: no weights), cached per
 * example and tokenizer, so a later version or filter reuses the counts. Resumable: counted examples are skipped.
 */
export function tokenCountJob(store: DatasetsStore, engine: LlmEngine): JobKind<TokenCountConfig> {
  return {
    kind: 'datasets.countTokens',
    schema: TokenCountConfig,
    title: (c) => `Count tokens of ${c.name}@${c.versionNumber} with ${c.modelName}`,
    async run(ctx) {
      const c = ctx.config;
      ctx.lineage('input', 'dataset', c.name, `${c.name}@${c.versionNumber}`);
      ctx.lineage('input', 'model', String(c.modelId), c.modelName);
      const model = await engine.loadTokenizer(c.modelPath, ctx.signal);
      const tokenizer = String(c.modelId);
      const total = store.versionSize(c.versionId);
      let done = 0;
      let counted = 0;
      let tokens = 0;
      for (;;) {
        ctx.throwIfCancelled();
        const todo = store.uncounted(c.versionId, tokenizer, PAGE);
        if (todo.length === 0) break;
        const counts = todo.map((r) => {
          const messages = JSON.parse(r.messages) as NormalizedExample['messages'];
          // the messages' text (tool calls as name(arguments)) and the tools' schemas as JSON, as a template would show them
          let n = messages.reduce((sum, m) => sum + model.tokenize(messageText(m), false).length, 0);
          if (r.tools !== null) n += model.tokenize(r.tools, false).length;
          tokens += n;
          return { exampleId: r.example_id, tokens: n };
        });
        ctx.db.transaction(() => store.saveTokenCounts(tokenizer, counts))();
        counted += counts.length;
        done = total - store.uncountedCount(c.versionId, tokenizer);
        ctx.progress(done, total, `${done} of ${total} examples counted`);
        await new Promise((r) => setImmediate(r));
      }
      ctx.metric('examples_counted', counted, 'examples');
      if (counted) ctx.metric('mean_tokens', tokens / counted, 'tokens');
      ctx.log('info', `Counted ${counted} example(s) with ${c.modelName}'s tokenizer (${total - counted} already known).`);
    },
  };
}
