import type { JobKind } from '../../jobs/types.js';
import type { DatasetsStore } from '../store.js';
import type { DraftStore } from '../draft.js';
import { qualityIssues } from '../curation/quality.js';
import { redactPii, scanPii } from '../curation/pii.js';
import { rowsOf } from './rows.js';
import { messageText, referenceOf, type NormalizedExample } from '../../../../src-shared/domain/datasets.js';

/**
 * "Scan": language-agnostic quality checks (empty or whitespace answers, repeated n-grams, truncated answers) and a
 * PII scan (e-mail, phone, card numbers with Luhn, IBAN, IP, API keys and tokens). Findings flag the examples in the
 * working copy (`quality:<kind>`, `pii:<kind>`); with `redact`, PII is also replaced in the text. Counts per kind
 * are the run's metrics.
 */
export function scanJob(store: DatasetsStore, drafts: DraftStore): JobKind<'datasets.scan'> {
  return {
    kind: 'datasets.scan',
    title: (c) => `Scan ${c.name}@${c.versionNumber} (${[c.quality ? 'quality' : '', c.pii !== 'off' ? `PII: ${c.pii}` : ''].filter(Boolean).join(', ')})`,
    async run(ctx) {
      const c = ctx.config;
      ctx.lineage('input', 'dataset', c.name, `${c.name}@${c.versionNumber}`);
      const total = store.versionSize(c.versionId);
      const findings = new Map<number, string[]>();
      const redacted = new Map<number, NormalizedExample>();
      type Finding = `quality:${string}` | `pii:${string}`;
      const counts = new Map<Finding, number>();
      const count = (k: Finding, n = 1) => counts.set(k, (counts.get(k) ?? 0) + n);
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
      for (const [kind, n] of [...counts.entries()].sort()) ctx.metric(kind, n);
      ctx.metric('examples_flagged', findings.size);
      if (redacted.size) {
        const r = drafts.replaceContent(c.datasetId, redacted, `Redacted PII in ${redacted.size} example${redacted.size === 1 ? '' : 's'}`);
        ctx.metric('examples_redacted', r.affected);
      }
      if (findings.size) drafts.flagEach(c.datasetId, findings, `Flagged ${findings.size} example${findings.size === 1 ? '' : 's'} found by a scan`);
      ctx.log(
        findings.size ? 'warn' : 'info',
        findings.size ? `${findings.size} example(s) flagged: ${[...counts.entries()].map(([k, n]) => `${k} ${n}`).join(', ')}.` : 'Nothing found.',
      );
    },
  };
}
