import { useMemo } from 'react';
import type { LineageLink, RunMetric } from '../../../src-shared/domain/runs.js';
import { ErrorBanner, Fields, Page, ProgressBar, StatusBadge } from '../../ui/components.js';
import { MetricChart, type Series } from '../../ui/MetricChart.js';
import { useAction, useQuery } from '../../ui/useApi.js';
import { duration, when } from '../../ui/format.js';
import { useRunControls } from '../../ui/useRunControls.js';
import { RunChainView } from './RunChain.js';

const COLORS = ['#4fb3ff', '#f2a33a', '#7bd88f', '#e06c75', '#c678dd'];

function LineageItem({ l }: { l: LineageLink }) {
  const target =
    l.kind === 'model' ? `#/models/${l.ref}` : l.kind === 'run' ? `#/runs/${l.ref}` : l.kind === 'dataset' ? `#/datasets/${encodeURIComponent(l.label)}` : null;
  return (
    <li>
      <span className="chip">{l.kind}</span> {target ? <a href={target}>{l.label}</a> : <code title={l.ref}>{l.label}</code>}
      {l.kind === 'file' && l.ref !== l.label && <span className="muted"> {l.ref}</span>}
    </li>
  );
}

/** Metrics recorded per step become chart series; single figures stay in the table. */
function seriesOf(metrics: RunMetric[]): Series[] {
  const byName = new Map<string, { x: number; y: number }[]>();
  for (const m of metrics) if (m.step !== null) byName.set(m.name, [...(byName.get(m.name) ?? []), { x: m.step, y: m.value }]);
  return [...byName.entries()]
    .filter(([, pts]) => pts.length > 1)
    .map(([label, points], i) => ({
      label,
      points,
      color: COLORS[i % COLORS.length]!,
    }));
}

export function RunDetailPage({ id }: { id: number }) {
  const run = useQuery('runs.get', { id }, ['runs.changed', 'runs.log'], [id]);
  const r = run.data;
  const controls = useRunControls(id, r?.status, 'danger');
  const series = useMemo(() => (r ? seriesOf(r.metrics) : []), [r]);
  if (run.error) {
    return (
      <Page title={`Run ${id}`}>
        <ErrorBanner error={run.error} />
      </Page>
    );
  }
  if (!r) return <Page title={`Run ${id}`}>Loading…</Page>;
  const unit = series.length ? (r.metrics.find((m) => m.name === series[0]!.label)?.unit ?? '') : '';
  return (
    <Page
      title={
        <>
          <a href="#/runs" className="crumb">
            Runs
          </a>{' '}
          / #{r.id} {r.title}
        </>
      }
      actions={controls.buttons}
    >
      <ErrorBanner error={controls.error} />
      {r.error && <ErrorBanner error={{ message: r.error }} />}
      <section className="card chain-card" aria-label="Chain">
        <h2>Chain</h2>
        <RunChainView runId={r.id} />
      </section>
      <div className="columns">
        <div className="card">
          <Fields
            rows={[
              ['Status', <StatusBadge key="s" status={r.status} />],
              ['Kind', r.kind],
              [
                'Progress',
                <ProgressBar
                  key="p"
                  done={r.progress.done}
                  total={r.progress.total}
                  label={`${r.progress.total ? `${r.progress.done} / ${r.progress.total}` : r.progress.done} ${r.progress.message}`}
                />,
              ],
              ['Items committed', r.itemsDone],
              ['Created', when(r.createdAt)],
              ['Started', when(r.startedAt)],
              ['Ended', when(r.endedAt)],
              ['Duration', duration(r.startedAt, r.endedAt)],
            ]}
          />
          <h2>Lineage</h2>
          {r.lineage.length === 0 ? (
            <p className="muted">No inputs or outputs recorded yet.</p>
          ) : (
            <div className="lineage">
              <div>
                <h3>Inputs</h3>
                <ul>
                  {r.lineage
                    .filter((l) => l.direction === 'input')
                    .map((l) => (
                      <LineageItem key={`${l.kind}${l.ref}`} l={l} />
                    ))}
                </ul>
              </div>
              <div>
                <h3>Outputs</h3>
                <ul>
                  {r.lineage
                    .filter((l) => l.direction === 'output')
                    .map((l) => (
                      <LineageItem key={`${l.kind}${l.ref}`} l={l} />
                    ))}
                </ul>
              </div>
            </div>
          )}
          <h2>Configuration</h2>
          <pre className="code">{JSON.stringify(r.config, null, 2)}</pre>
          {r.kind === 'datasets.import' && r.status !== 'running' && r.status !== 'queued' && <ImportRejects runId={r.id} />}
        </div>
        <div className="card">
          <h2>Metrics</h2>
          {series.length > 0 && <MetricChart series={series} xLabel="step" yLabel={unit} />}
          {r.kind === 'datasets.scan' && <Bars items={r.metrics.filter((m) => m.unit === 'matches').map((m) => ({ label: m.name, value: m.value }))} />}
          {r.metrics.length === 0 ? (
            <p className="muted">No metrics yet.</p>
          ) : (
            <table className="table compact" data-testid="run-metrics">
              <thead>
                <tr>
                  <th>Metric</th>
                  <th>Step</th>
                  <th>Value</th>
                </tr>
              </thead>
              <tbody>
                {r.metrics.map((m) => (
                  <tr key={`${m.name}-${m.step}`}>
                    <td>{m.name}</td>
                    <td>{m.step ?? ''}</td>
                    <td>
                      {Number.isInteger(m.value) ? m.value : m.value.toFixed(2)} <span className="muted">{m.unit}</span>
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
          <h2>Log</h2>
          <pre className="log" data-testid="run-log">
            {r.logs.map((l) => (
              <div key={l.seq} className={`log-${l.level}`}>
                {l.at.slice(11, 19)} {l.level.padEnd(5)} {l.message}
              </div>
            ))}
          </pre>
        </div>
      </div>
    </Page>
  );
}

/** The import report's rejected lines, with a download of the lines themselves (JSONL: line, reason, text). */
function ImportRejects({ runId }: { runId: number }) {
  const rejects = useQuery('datasets.rejects', { runId, limit: 200 });
  const download = useAction('datasets.rejectedLines');
  const save = async () => {
    const r = await download.run({ runId });
    if (!r) return;
    const body =
      r.lines
        .map((l) =>
          JSON.stringify({
            line: l.line,
            reason: l.reason,
            text: l.text,
            whole: l.whole,
          }),
        )
        .join('\n') + '\n';
    const a = document.createElement('a');
    a.href = URL.createObjectURL(new Blob([body], { type: 'application/x-ndjson' }));
    a.download = `run-${runId}-rejected.jsonl`;
    a.click();
    URL.revokeObjectURL(a.href);
  };
  const list = rejects.data ?? [];
  return (
    <>
      <h2>Rejected lines</h2>
      {list.length === 0 ? (
        <p className="muted">None: every line was imported.</p>
      ) : (
        <>
          <button className="secondary" onClick={() => void save()} disabled={download.pending}>
            Download rejected lines
          </button>
          <table className="table compact" data-testid="import-rejects">
            <thead>
              <tr>
                <th>Line</th>
                <th>Reason</th>
                <th>Start of the line</th>
              </tr>
            </thead>
            <tbody>
              {list.map((x) => (
                <tr key={x.line}>
                  <td>{x.line}</td>
                  <td>{x.reason}</td>
                  <td className="mono ellipsis">{x.excerpt}</td>
                </tr>
              ))}
            </tbody>
          </table>
          {list.length === 200 && <p className="muted">The first 200 are shown; the download has them all.</p>}
        </>
      )}
      <ErrorBanner error={download.error} />
    </>
  );
}

/** A horizontal bar per value (findings per kind, counts per split…): read at a glance. */
function Bars({ items }: { items: { label: string; value: number }[] }) {
  if (items.length === 0) return null;
  const max = Math.max(...items.map((i) => i.value));
  return (
    <div className="bars" data-testid="bars">
      {items.map((i) => (
        <div key={i.label} className="bar-row">
          <span className="bar-label">{i.label}</span>
          <span className="bar" style={{ width: `${(100 * i.value) / max}%` }} />
          <span className="bar-value">{i.value.toLocaleString()}</span>
        </div>
      ))}
    </div>
  );
}
