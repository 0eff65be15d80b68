import { useState } from 'react';
import type { ContaminationSummary } from '../../../src-shared/domain/evaluate.js';
import { ErrorBanner } from '../../ui/components.js';
import { SplitSelect, type Split } from '../../ui/forms.js';
import { useAction, useQuery } from '../../ui/useApi.js';
import { navigate } from '../../app/router.js';
import { DatasetSelect } from '../datasets/DatasetSelect.js';
import { FieldError } from './VariantFields.js';

/**
 * A contamination check on its own (no answers): does an evaluation split share n-grams with training data? Starts an
 * `evaluate.contamination` run and opens its page.
 */
export function ContaminationForm() {
  const start = useAction('evaluate.contamination');
  const [evalSet, setEval] = useState<{ dataset: string; split: Split }>({ dataset: '', split: 'test' });
  const [against, setAgainst] = useState<{ dataset: string; split: Split }[]>([{ dataset: '', split: 'train' }]);
  const [n, setN] = useState('13');
  const nValue = Number(n);
  const nOk = Number.isInteger(nValue) && nValue >= 3 && nValue <= 50;
  const chosen = against.filter((a) => a.dataset);
  const err = start.error;
  const at = (field: string) => (err?.field === field || err?.field?.startsWith(`${field}.`) ? err.message : null);
  const go = async () => {
    const r = await start.run({ eval: { dataset: evalSet.dataset, split: evalSet.split }, against: chosen, n: nValue });
    if (r) navigate(`/evaluate/run/${r.runId}`);
  };
  return (
    <div className="card inset" data-testid="contamination-form">
      <div className="row">
        <span className="muted">Is</span>
        <DatasetSelect label="Checked dataset" value={evalSet.dataset} onChange={(dataset) => setEval({ ...evalSet, dataset })} />
        <SplitSelect label="Checked split" value={evalSet.split} onChange={(split) => setEval({ ...evalSet, split })} />
        <span className="muted">in</span>
        {against.map((a, i) => (
          <span key={i} className="row inline-row">
            <DatasetSelect
              label={`Training dataset ${i + 1}`}
              value={a.dataset}
              onChange={(dataset) => setAgainst(against.map((x, j) => (j === i ? { ...x, dataset } : x)))}
            />
            <SplitSelect
              label={`Training split ${i + 1}`}
              value={a.split}
              onChange={(split) => setAgainst(against.map((x, j) => (j === i ? { ...x, split } : x)))}
            />
          </span>
        ))}
        {against.length < 8 && (
          <button className="link" onClick={() => setAgainst([...against, { dataset: '', split: 'train' }])}>
            + dataset
          </button>
        )}
        <label>
          n-gram length{' '}
          <input aria-label="Check n-gram length" size={3} value={n} onChange={(e) => setN(e.target.value)} className={nOk ? undefined : 'invalid'} />
        </label>
        <button className="secondary" disabled={!evalSet.dataset || chosen.length === 0 || !nOk || start.pending} onClick={() => void go()}>
          Check
        </button>
      </div>
      <FieldError text={at('eval') ?? at('against') ?? at('n')} />
      {err && !err.field && <ErrorBanner error={err} onClose={start.clearError} />}
    </div>
  );
}

/** What a contamination check found: how many examples share an n-gram with the data checked, and which. */
export function ContaminationFindings({ c }: { c: ContaminationSummary }) {
  return (
    <div className="card" data-testid="contamination-findings">
      <h2>Contamination</h2>
      <p data-testid="contamination-summary">
        {c.flagged === 0 ? (
          <>
            <span className="ok-text">No example</span> of {c.checked} shares a {c.n}-gram with {c.against.join(', ')}.
          </>
        ) : (
          <>
            <span className="warn-text">
              {c.flagged} of {c.checked} examples
            </span>{' '}
            share a {c.n}-gram with {c.against.join(', ')}.
          </>
        )}
      </p>
      {c.positions.length > 0 && (
        <p className="muted small" data-testid="contamination-positions">
          Flagged example positions: {c.positions.join(', ')}
          {c.flagged > c.positions.length ? ` … (the first ${c.positions.length})` : ''}
        </p>
      )}
    </div>
  );
}

/** A contamination run's findings, once it has any. */
export function ContaminationRun({ runId, live }: { runId: number; live: boolean }) {
  const found = useQuery('evaluate.contaminationOf', { runId }, ['runs.changed'], [live]);
  if (found.error) return <ErrorBanner error={found.error} />;
  if (!found.data) return live ? <p className="muted">Checking…</p> : null;
  return (
    <div className="eval-report">
      <ContaminationFindings c={found.data} />
    </div>
  );
}
