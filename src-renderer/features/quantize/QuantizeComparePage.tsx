import type { LadderResults } from '../../../src-shared/contract/quantize.js';
import { QUANT_TYPE_NAMES } from '../../../src-shared/domain/quantize.js';
import { compareLadders, formatMetric, paretoFront, type ComparedFigures } from '../../../src-shared/domain/quantize-answer.js';
import { ErrorBanner, Page } from '../../ui/components.js';
import { bytes } from '../../ui/format.js';
import { useQuery } from '../../ui/useApi.js';
import { gatedTypes, LADDER_COLOR } from './QuantizeRunPage.js';
import { SizeChart } from './SizeChart.js';

const B_COLOR = '#f2a33a';

/** A ladder's name in the comparison: its run and what its importance matrix was. */
function ladderLabel(r: LadderResults): string {
  return `#${r.runId} ${r.imatrix ? `imatrix ${r.imatrix.file.split(/[\\/]/).pop()}` : 'no imatrix'}`;
}

type Metric = Exclude<keyof ComparedFigures, 'bytes'>;
const METRICS: { key: Metric | 'bytes'; label: string; show: (v: number) => string; signed: (v: number) => string }[] = [
  { key: 'kld', label: 'Mean KLD', show: (v) => formatMetric('kld', v), signed: (v) => `${v > 0 ? '+' : ''}${formatMetric('kld', v)}` },
  { key: 'sameTop', label: 'Same top', show: (v) => formatMetric('sameTop', v), signed: (v) => `${v > 0 ? '+' : ''}${(100 * v).toFixed(1)} pt` },
  { key: 'pplRatio', label: 'PPL ratio', show: (v) => v.toFixed(4), signed: (v) => `${v > 0 ? '+' : ''}${v.toFixed(4)}` },
  { key: 'bytes', label: 'Size', show: (v) => bytes(v), signed: (v) => `${v > 0 ? '+' : '−'}${bytes(Math.abs(v))}` },
];
/** Which way is better for B − A: lower KLD, PPL ratio and size; higher same top. */
const better = (key: Metric | 'bytes', d: number) => (d === 0 ? '' : (key === 'sameTop' ? d > 0 : d < 0) ? 'better' : 'worse');

/** Two ladders of one source model, type by type (A, B and B − A) and on one chart of size against mean KLD. */
export function QuantizeComparePage({ a, b }: { a: number; b: number }) {
  const ra = useQuery('quantize.results', { runId: a }, ['runs.changed'], [a]);
  const rb = useQuery('quantize.results', { runId: b }, ['runs.changed'], [b]);
  const A = ra.data;
  const B = rb.data;
  const title = (
    <>
      <a href="#/quantize" className="crumb">
        Quantize
      </a>{' '}
      / compare <a href={`#/quantize/${a}`}>run {a}</a> and <a href={`#/quantize/${b}`}>run {b}</a>
    </>
  );
  if (!A || !B) return <Page title={title}>{ra.error || rb.error ? <ErrorBanner error={ra.error ?? rb.error} /> : 'Loading…'}</Page>;
  const pairs = compareLadders(gatedTypes(A), gatedTypes(B), QUANT_TYPE_NAMES);
  const points = (r: LadderResults) => r.rows.flatMap((x) => (x.gate ? [{ type: x.type, bytes: x.bytes, y: x.gate.kld }] : []));
  const cell = (f: ComparedFigures | null, key: Metric | 'bytes') => {
    const v = f?.[key];
    return v === null || v === undefined ? '—' : METRICS.find((m) => m.key === key)!.show(v);
  };
  return (
    <Page title={title}>
      {A.source.modelId !== B.source.modelId && (
        <p className="warn-text">
          These ladders start from different models ({A.source.name}, {B.source.name}): their KLDs are each against its own source.
        </p>
      )}
      <p className="muted">
        A = <a href={`#/quantize/${a}`}>{ladderLabel(A)}</a> (gate: {A.gateSource ?? 'none'}) · B = <a href={`#/quantize/${b}`}>{ladderLabel(B)}</a> (gate:{' '}
        {B.gateSource ?? 'none'}) · source {A.source.name}
      </p>
      <div className="ladder-result">
        <div className="card">
          <h2>Size against mean KLD</h2>
          <SizeChart
            series={[
              {
                label: `A ${ladderLabel(A)}`,
                color: LADDER_COLOR,
                points: points(A),
                line: paretoFront(gatedTypes(A)).map((t) => t.type),
                lineLabel: 'A: Pareto front',
              },
              {
                label: `B ${ladderLabel(B)}`,
                color: B_COLOR,
                points: points(B),
                line: paretoFront(gatedTypes(B)).map((t) => t.type),
                lineLabel: 'B: Pareto front',
              },
            ]}
            yLabel="mean KLD"
            format={(v) => formatMetric('kld', v)}
            testId="chart-compare"
          />
        </div>
        <div className="card table-scroll">
          <table className="table compact compare-ladders" data-testid="quantize-compare">
            <thead>
              <tr>
                <th rowSpan={2}>Type</th>
                {METRICS.map((m) => (
                  <th key={m.key} colSpan={3} className="group">
                    {m.label}
                  </th>
                ))}
              </tr>
              <tr>{METRICS.map((m) => ['A', 'B', 'B − A'].map((h) => <th key={`${m.key}${h}`}>{h}</th>))}</tr>
            </thead>
            <tbody>
              {pairs.map((p) => (
                <tr key={p.type} data-testid={`compare-row-${p.type}`}>
                  <td className="mono">{p.type}</td>
                  {METRICS.map((m) => {
                    const d = p.diff?.[m.key];
                    return [
                      <td key={`${m.key}a`} className="mono group">
                        {cell(p.a, m.key)}
                      </td>,
                      <td key={`${m.key}b`} className="mono">
                        {cell(p.b, m.key)}
                      </td>,
                      <td key={`${m.key}d`} className={`mono diff ${d === null || d === undefined ? '' : better(m.key, d)}`}>
                        {d === null || d === undefined ? '—' : d === 0 ? '=' : m.signed(d)}
                      </td>,
                    ];
                  })}
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      </div>
    </Page>
  );
}
