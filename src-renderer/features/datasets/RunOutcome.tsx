import { useEffect, useRef } from 'react';
import type { RunDetail } from '../../../src-shared/domain/runs.js';
import { ProgressBar, StatusBadge } from '../../ui/components.js';
import { useQuery } from '../../ui/useApi.js';
import { bytes } from '../../ui/format.js';

const n = (v: number) => Math.round(v).toLocaleString();
const plural = (v: number, one: string, many = `${one}s`) => `${n(v)} ${v === 1 ? one : many}`;

/** What a finished curation run found or made, in a sentence, from its metrics and outputs. */
export function outcomeOf(r: RunDetail): string | null {
  const m = (name: string) => r.metrics.find((x) => x.name === name && x.step === null)?.value;
  switch (r.kind) {
    case 'datasets.dedupe': {
      const clusters = m('clusters') ?? 0;
      if (clusters === 0) return 'No duplicates found.';
      const removed = m('removed');
      return `${plural(clusters, 'cluster')} found, ${plural(m('duplicates') ?? 0, 'example')} beyond the first of each${removed !== undefined ? `; ${n(removed)} removed` : ''}.`;
    }
    case 'datasets.scan': {
      const flagged = m('examples_flagged') ?? 0;
      if (flagged === 0) return 'Nothing found: no example flagged.';
      const kinds = r.metrics.filter((x) => x.step === null && /^(quality|pii):/.test(x.name)).map((x) => `${x.name} ${n(x.value)}`);
      const redacted = m('examples_redacted');
      return `${plural(flagged, 'example')} flagged (${kinds.join(', ')})${redacted ? `, ${n(redacted)} redacted` : ''}. Filter by the flags to review them.`;
    }
    case 'datasets.countTokens': {
      const mean = m('mean_tokens');
      return `${plural(m('examples_counted') ?? 0, 'example')} counted${mean !== undefined ? `, ${mean.toFixed(0)} tokens on average` : ''}; the length filter can use them.`;
    }
    case 'datasets.export': {
      const files = r.lineage.filter((l) => l.direction === 'output' && l.kind === 'file').map((l) => l.ref);
      return `${plural(m('examples') ?? 0, 'row')} exported to ${files.join(', ')} (${bytes(m('bytes') ?? 0)}).`;
    }
    default:
      return null;
  }
}

/**
 * A run started from a panel, followed where it was started: its progress while it runs, then what it found or made
 * (or why it failed), with a link to the run's page.
 */
export function RunOutcome({ runId, onSucceeded }: { runId: number; onSucceeded?: () => void }) {
  const run = useQuery('runs.get', { id: runId }, ['runs.changed'], [runId]);
  const r = run.data;
  const succeeded = r?.status === 'succeeded';
  const callback = useRef(onSucceeded);
  useEffect(() => {
    callback.current = onSucceeded;
  });
  // the run changed the working copy (flags, deletions, counts): the page shows it
  useEffect(() => {
    if (succeeded) callback.current?.();
  }, [succeeded]);
  if (!r) return null;
  const active = r.status === 'running' || r.status === 'queued';
  const outcome = r.status === 'succeeded' ? outcomeOf(r) : null;
  return (
    <div className="run-outcome" data-testid="run-outcome">
      <StatusBadge status={r.status} /> <a href={`#/runs/${runId}`}>run {runId}</a>
      {active && <ProgressBar done={r.progress.done} total={r.progress.total} label={r.progress.message || undefined} />}
      {outcome && <span className="outcome"> {outcome}</span>}
      {r.error && <span className="error-text"> {r.error}</span>}
    </div>
  );
}
