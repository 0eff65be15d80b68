import { useState } from 'react';
import type { EvalReport } from '../../../src-shared/domain/evaluate.js';
import { ErrorBanner, Page } from '../../ui/components.js';
import { useQuery } from '../../ui/useApi.js';
import { BarChart } from './EvalCharts.js';
import { axisMax, boardMetrics, compareBoards, formatDelta, formatMetric, metricLabel, type BoardMetric } from './eval-format.js';
import './evaluate.css';

const A_COLOR = '#4fb3ff';
const B_COLOR = '#f2a33a';

/** What a run evaluated, in a line: dataset@version, split, examples, against what. */
function runLine(r: EvalReport): string {
  return `${r.dataset} · ${r.split === 'all' ? 'all examples' : `${r.split} split`} · ${r.examples} examples · against the ${r.against === 'reference' ? 'reference' : "teacher's answer"}`;
}

/**
 * Two evaluation runs compared: per metric, each variant's mean in run A and in run B (with their intervals) and the
 * difference B − A, as a grouped chart and a table. Variants are matched by label (then by position).
 */
export function EvaluateComparePage({ a, b }: { a: number; b: number }) {
  const ra = useQuery('evaluate.report', { runId: a }, ['runs.changed'], [a]);
  const rb = useQuery('evaluate.report', { runId: b }, ['runs.changed'], [b]);
  const [chosen, setChosen] = useState<BoardMetric | null>(null);
  const A = ra.data;
  const B = rb.data;
  const title = (
    <>
      <a href="#/evaluate" className="crumb">
        Evaluate
      </a>{' '}
      / compare <a href={`#/evaluate/run/${a}`}>run {a}</a> and <a href={`#/evaluate/run/${b}`}>run {b}</a>
    </>
  );
  if (!A || !B) return <Page title={title}>{ra.error || rb.error ? <ErrorBanner error={ra.error ?? rb.error} /> : 'Loading…'}</Page>;
  const ma = boardMetrics(A.metrics, A.leaderboard);
  const mb = boardMetrics(B.metrics, B.leaderboard);
  const metrics = ma.filter((m) => mb.includes(m));
  const metric = chosen && metrics.includes(chosen) ? chosen : metrics[0];
  const chartRows = metric ? compareBoards(A.leaderboard, B.leaderboard, metric) : [];
  const bars = chartRows.flatMap((row) => [
    ...(row.a ? [{ label: `${row.label} (A)`, value: row.a.mean, low: row.a.low, high: row.a.high, color: A_COLOR }] : []),
    ...(row.b ? [{ label: `${row.label} (B)`, value: row.b.mean, low: row.b.low, high: row.b.high, color: B_COLOR }] : []),
  ]);
  return (
    <Page title={title}>
      <p className="muted" data-testid="compare-runs">
        A = <a href={`#/evaluate/run/${a}`}>run {a}</a>: {runLine(A)}
        <br />B = <a href={`#/evaluate/run/${b}`}>run {b}</a>: {runLine(B)}
      </p>
      {(A.dataset !== B.dataset || A.split !== B.split) && (
        <p className="warn-text">These runs scored different data: their means are not on the same examples.</p>
      )}
      {metrics.length === 0 ? (
        <p className="muted">The two runs share no metric.</p>
      ) : (
        <div className="eval-report">
          <div className="card">
            <div className="row spread">
              <h2>Means per variant, A and B</h2>
              <select aria-label="Compare metric" value={metric} onChange={(e) => setChosen(e.target.value as BoardMetric)}>
                {metrics.map((m) => (
                  <option key={m} value={m}>
                    {metricLabel(m)}
                  </option>
                ))}
              </select>
            </div>
            <p className="muted small compare-legend">
              <span className="swatch" style={{ background: A_COLOR }} /> run {a} (A) <span className="swatch" style={{ background: B_COLOR }} /> run {b} (B) ·
              whiskers: 95% intervals
            </p>
            <BarChart
              bars={bars}
              yMax={axisMax(
                metric!,
                bars.map((x) => x.high),
              )}
              yLabel={metricLabel(metric!)}
              format={(v) => formatMetric(metric!, v)}
              testId="compare-chart"
            />
          </div>
          <div className="card table-scroll">
            <table className="table compact compare-ladders eval-compare" data-testid="evaluate-compare">
              <thead>
                <tr>
                  <th rowSpan={2}>Variant</th>
                  {metrics.map((m) => (
                    <th key={m} colSpan={3} className="group">
                      {metricLabel(m)}
                    </th>
                  ))}
                </tr>
                <tr>{metrics.map((m) => ['A', 'B', 'B − A'].map((h) => <th key={`${m}${h}`}>{h}</th>))}</tr>
              </thead>
              <tbody>
                {compareBoards(A.leaderboard, B.leaderboard, metrics[0]!).map((row, i) => (
                  <tr key={`${row.label}${i}`} data-testid={`compare-row-${i}`}>
                    <td>{row.label}</td>
                    {metrics.map((m) => {
                      const c = compareBoards(A.leaderboard, B.leaderboard, m)[i]!;
                      const cls = m === 'length' || c.diff === null || c.diff === 0 ? '' : c.diff > 0 ? 'better' : 'worse';
                      return [
                        <td key={`${m}a`} className="group" title={c.a ? `[${formatMetric(m, c.a.low)}, ${formatMetric(m, c.a.high)}]` : undefined}>
                          {formatMetric(m, c.a?.mean)}
                        </td>,
                        <td key={`${m}b`} title={c.b ? `[${formatMetric(m, c.b.low)}, ${formatMetric(m, c.b.high)}]` : undefined}>
                          {formatMetric(m, c.b?.mean)}
                        </td>,
                        <td key={`${m}d`} className={`diff ${cls}`}>
                          {c.diff === null ? '—' : c.diff === 0 ? '=' : formatDelta(m, c.diff)}
                        </td>,
                      ];
                    })}
                  </tr>
                ))}
              </tbody>
            </table>
            <p className="muted small">B − A is a difference of means over each run's own examples (hover a mean for its 95% interval). Green: B is higher.</p>
          </div>
        </div>
      )}
    </Page>
  );
}
