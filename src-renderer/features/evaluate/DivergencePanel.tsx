import { useState } from 'react';
import type { DivergenceSummary, EvalVariantInfo } from '../../../src-shared/domain/evaluate.js';
import type { CurationResult } from '../../../src-shared/domain/datasets.js';
import { ErrorBanner } from '../../ui/components.js';
import { useAction } from '../../ui/useApi.js';
import { BarChart } from './EvalCharts.js';
import { binLabels, kld, pct, variantColor } from './eval-format.js';
import { VariantName } from './LeaderboardTable.js';

/**
 * Divergence of each student from the teacher, teacher-forced on the teacher's answers: the per-example mean KLD
 * histogram, the token-weighted figures, and "send to curation" (tag the N most divergent examples in the source
 * dataset's working copy, undoable there).
 */
export function DivergencePanel({
  runId,
  dataset,
  items,
  variants,
}: {
  runId: number;
  dataset: string;
  items: DivergenceSummary[];
  variants: EvalVariantInfo[];
}) {
  // the report names the version evaluated (support@2); curation goes to the dataset's working copy
  const name = dataset.replace(/@\d+$/, '');
  return (
    <div className="divergence-grid">
      {items.map((d) => (
        <StudentDivergence key={d.variant} runId={runId} dataset={name} d={d} info={variants.find((v) => v.index === d.variant)} />
      ))}
    </div>
  );
}

function StudentDivergence({ runId, dataset, d, info }: { runId: number; dataset: string; d: DivergenceSummary; info: EvalVariantInfo | undefined }) {
  const send = useAction('evaluate.sendToCuration');
  const [top, setTop] = useState(String(Math.min(20, Math.max(1, Math.ceil(d.examples / 10)))));
  const [tag, setTag] = useState('diverges');
  const [done, setDone] = useState<CurationResult | null>(null);
  const labels = binLabels(d.histogram.edges);
  const n = Number(top);
  const topOk = Number.isInteger(n) && n >= 1 && n <= d.examples;
  const tagOk = /^[^\s,]+$/.test(tag.trim()) && tag.trim().length <= 60;
  const go = async () => {
    const r = await send.run({ runId, variant: d.variant, top: n, tag: tag.trim() });
    if (r) setDone(r);
  };
  return (
    <div className="card inset divergence" data-testid={`divergence-${d.variant}`}>
      <div className="row spread">
        <VariantName variant={d.variant} label={info?.label ?? `variant ${d.variant}`} isTeacher={false} />
        <span className="muted small">
          {d.examples} examples ·{' '}
          {d.method === 'full' ? 'full distributions, in lockstep' : "the server teacher's top-k soft labels (rest of the mass as one bucket)"}
        </span>
      </div>
      <div className="figures" data-testid={`divergence-figures-${d.variant}`}>
        <span>
          <b>{kld(d.kld)}</b> mean KLD
          <span className="pm">
            per example [{kld(d.kldInterval.low)}, {kld(d.kldInterval.high)}]
          </span>
        </span>
        <span>
          <b>{pct(d.top1, 1)}</b> same top token
        </span>
        <span>
          <b>{d.meanNll.toFixed(3)}</b> student NLL / token
        </span>
      </div>
      <BarChart
        bars={d.histogram.counts.map((c, i) => ({ label: labels[i] ?? '', value: c, color: variantColor(d.variant) }))}
        yMax={Math.max(1, ...d.histogram.counts) * 1.15}
        yLabel="examples"
        xLabel="mean KLD per example (nats)"
        format={(v) => String(Math.round(v))}
        testId={`divergence-histogram-${d.variant}`}
        height={200}
        hideZero
      />
      <div className="row curation">
        <span>Send the</span>
        <input
          aria-label={`Most divergent count of ${info?.label ?? d.variant}`}
          size={4}
          value={top}
          onChange={(e) => setTop(e.target.value)}
          className={topOk ? undefined : 'invalid'}
        />
        <span>most divergent examples to curation, tagged</span>
        <input
          aria-label={`Curation tag of ${info?.label ?? d.variant}`}
          size={12}
          value={tag}
          onChange={(e) => setTag(e.target.value)}
          className={tagOk ? 'mono' : 'mono invalid'}
        />
        <button className="secondary small" disabled={!topOk || !tagOk || send.pending} onClick={() => void go()}>
          Send to curation
        </button>
      </div>
      <p className="muted small">
        Tags them in <a href={`#/datasets/${encodeURIComponent(dataset)}`}>{dataset}</a>'s working copy, so the next distillation round can weight them; undo it
        there, or commit it as a new version.
      </p>
      {done && (
        <p className="ok-text small" role="status" data-testid={`curation-done-${d.variant}`}>
          {done.label}
          {done.skipped > 0 ? ` (${done.skipped} left alone)` : ''} in <a href={`#/datasets/${encodeURIComponent(dataset)}`}>{dataset}</a>'s working copy
          {done.draft ? ` (${done.draft.operations.length} change${done.draft.operations.length === 1 ? '' : 's'} not committed)` : ''}. Undo there.
        </p>
      )}
      <ErrorBanner error={send.error} onClose={send.clearError} />
    </div>
  );
}
