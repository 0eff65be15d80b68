import type { LadderResults } from '../../../src-shared/contract/quantize.js';
import { answerSentence, formatMetric, paretoFront, pickWithin, type GatedType } from '../../../src-shared/domain/quantize-answer.js';
import { humanBytes } from '../../../src-shared/format.js';
import { ErrorBanner, Page } from '../../ui/components.js';
import { RunCrumbs, RunProgress } from '../../ui/RunHeader.js';
import { useRunControls } from '../../ui/useRunControls.js';
import { useQuery } from '../../ui/useApi.js';
import { BudgetControl, useBudget } from './BudgetControl.js';
import { ComparePicker } from './ComparePicker.js';
import { LadderTable, type TypeRow } from './LadderTable.js';
import { SizeChart } from './SizeChart.js';

export const LADDER_COLOR = '#4fb3ff';
const SOURCE_COLOR = '#7bd88f';

/** A ladder's gated types as the answer's functions take them. */
export function gatedTypes(results: LadderResults): GatedType[] {
  return results.rows.map((r) => ({ type: r.type, bytes: r.bytes, gate: r.gate }));
}

/**
 * A ladder run: its progress; then the answer (the smallest type within the user's budget), size against KLD with the
 * Pareto front and size against generation speed, and every figure of every type in a sortable table.
 */
export function QuantizeRunPage({ runId }: { runId: number }) {
  const run = useQuery('runs.get', { id: runId }, ['runs.changed'], [runId]);
  const results = useQuery('quantize.results', { runId }, ['runs.changed'], [runId]);
  const budget = useBudget(runId);
  const r = run.data;
  const res = results.data;
  const controls = useRunControls(runId, r?.status);
  const config = r?.kind === 'quantize.ladder' ? r.config : null;
  const running = r?.status === 'queued' || r?.status === 'running';
  const gated = config ? config.gate !== null : res?.gateSource != null;
  const rows: TypeRow[] = (config?.types.map((t) => t.name) ?? res?.rows.map((x) => x.type) ?? []).map((type) => ({
    type,
    row: res?.rows.find((x) => x.type === type) ?? null,
  }));
  const pending = rows.filter((t) => !t.row || (gated && !t.row.gate)).length;
  const types = res ? gatedTypes(res) : [];
  const pick = budget.budget && gated ? pickWithin(types, budget.budget) : null;
  const picked = pick?.kind === 'within' ? pick.picked : null;
  const front = paretoFront(types).map((t) => t.type);
  const kldPoints = types.flatMap((t) => (t.gate ? [{ type: t.type, bytes: t.bytes, y: t.gate.kld }] : []));
  const speedPoints = (res?.rows ?? []).flatMap((x) => (x.speed ? [{ type: x.type, bytes: x.bytes, y: x.speed.genTokensPerSecond }] : []));
  const sourceSpeed = res?.source.speed ? [{ type: 'source', bytes: res.source.bytes, y: res.source.speed.genTokensPerSecond }] : [];
  return (
    <Page
      title={<RunCrumbs href="#/quantize" label="Quantize" runId={runId} />}
      actions={
        r && (
          <>
            {controls.buttons}
            <a href={`#/runs/${runId}`}>run details</a>
          </>
        )
      }
    >
      <ErrorBanner error={run.error ?? results.error ?? controls.error} />
      {r && (
        <RunProgress run={r} testId="quantize-progress">
          {config && (
            <p className="muted">
              from <a href={`#/models/${config.model.id}`}>{config.model.name}</a>
              {res && ` (${humanBytes(res.source.bytes)}, ${res.source.bpw.toFixed(2)} bits/weight)`}
              {config.imatrix
                ? ` · importance matrix ${config.imatrix.file.split(/[\\/]/).pop()} (${config.imatrix.entries} weights, ${config.imatrix.chunks} chunks)`
                : config.imatrixFrom
                  ? ` · importance matrix computed in this run → ${config.imatrixFrom.file.split(/[\\/]/).pop()}`
                  : ' · no importance matrix'}
              {config.pure ? ' · pure' : ''} · into <code>{config.outDir}</code>
              {config.gate ? ` · gate on ${res?.gateSource ?? 'its text'} (context ${config.gate.contextSize})` : ' · no quality gate'}
            </p>
          )}
          {r.error && <p className="error-text">{r.error}</p>}
        </RunProgress>
      )}
      <div className="ladder-result">
        {res && gated && (
          <div className="card quant-answer" data-testid="quantize-answer">
            <BudgetControl state={budget} />
            {pick && budget.budget && (
              <p className={`quant-answer-text${pick.kind === 'within' ? ' ok' : ''}`} data-testid="quantize-answer-text">
                {answerSentence(pick, budget.budget, {
                  sourceBytes: res.source.bytes,
                  withImatrix: res.imatrix !== null || config?.imatrixFrom != null,
                  pending,
                })}
              </p>
            )}
            {!budget.budget && <p className="warn-text">Type a number for the budget.</p>}
          </div>
        )}
        {res && !gated && <p className="muted">This ladder has no quality gate: start one with the gate on to get KLD, same-top and speed figures.</p>}
        {res && gated && (kldPoints.length > 0 || speedPoints.length > 0) && (
          <div className="columns">
            <div className="card">
              <h2>Size against mean KLD</h2>
              <SizeChart
                series={[{ label: 'mean KLD', color: LADDER_COLOR, points: kldPoints, line: front }]}
                yLabel="mean KLD"
                highlight={picked?.gate ? { bytes: picked.bytes, y: picked.gate.kld } : null}
                format={(v) => formatMetric('kld', v)}
                testId="chart-kld"
              />
              <p className="muted small">
                Dashed: the Pareto front (no other type is both smaller and closer to the source). Ringed: the pick within your budget.
              </p>
            </div>
            <div className="card">
              <h2>Size against generation speed</h2>
              <SizeChart
                series={[
                  { label: 'generation tokens/s', color: LADDER_COLOR, points: speedPoints },
                  { label: 'source', color: SOURCE_COLOR, points: sourceSpeed },
                ]}
                yLabel="tokens/s"
                format={(v) => v.toFixed(0)}
                testId="chart-speed"
              />
            </div>
          </div>
        )}
        <div className="card">
          <div className="row spread">
            <h2>Types</h2>
            {config && !running && <ComparePicker runId={runId} modelId={config.model.id} />}
          </div>
          <LadderTable rows={rows} sourceBytes={res?.source.bytes ?? 0} picked={picked?.type ?? null} running={running} />
        </div>
      </div>
    </Page>
  );
}
