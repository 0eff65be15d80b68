import { useState } from 'react';
import type { EvalReport } from '../../../src-shared/domain/evaluate.js';
import { ErrorBanner, Page } from '../../ui/components.js';
import { RunCrumbs, RunProgress } from '../../ui/RunHeader.js';
import { RunPicker } from './RunPicker.js';
import { useQuery } from '../../ui/useApi.js';
import { useRunControls } from '../../ui/useRunControls.js';
import { DivergencePanel } from './DivergencePanel.js';
import { BarChart } from './EvalCharts.js';
import { axisMax, boardMetrics, chartBars, formatMetric, metricLabel, variantColor, variantLetter, type BoardMetric } from './eval-format.js';
import { ExamplesPanel } from './ExamplesPanel.js';
import { LeaderboardTable } from './LeaderboardTable.js';
import { RoutingPanel, type RoutingInput } from './RoutingPanel.js';
import { ExportButtons, SystemsTable } from './SystemsTable.js';
import { ContaminationRun } from './ContaminationCheck.js';
import './evaluate.css';

/**
 * An evaluation run: its progress (cancel, resume), then its report: the sentences, the leaderboard (chart with 95%
 * intervals and table), divergence from the teacher, the routing simulation, the systems table, contamination, and
 * every example's answers side by side.
 */
export function EvaluateRunPage({ runId }: { runId: number }) {
  const run = useQuery('runs.get', { id: runId }, ['runs.changed'], [runId]);
  const r = run.data;
  const controls = useRunControls(runId, r?.status);
  const live = r?.status === 'running' || r?.status === 'queued';
  const config = r?.kind === 'evaluate.run' ? r.config : null;
  const check = r?.kind === 'evaluate.contamination' ? r.config : null;
  return (
    <Page
      title={<RunCrumbs href="#/evaluate" label="Evaluate" runId={runId} />}
      actions={
        r && (
          <>
            {controls.buttons}
            {config && !live && <RunPicker runId={runId} />}
            {config && !live && (
              <ExportButtons runId={runId} table="all" formats={['md', 'json']} label={(f) => (f === 'md' ? 'Report (Markdown)' : 'Report (JSON)')} />
            )}
            <a href={`#/runs/${runId}`}>run details</a>
          </>
        )
      }
    >
      <ErrorBanner error={run.error ?? controls.error} />
      {r && (
        <RunProgress run={r} testId="evaluate-progress">
          {config && (
            <p className="muted">
              <a href={`#/datasets/${encodeURIComponent(config.dataset)}@${config.versionNumber}`}>
                {config.dataset}@{config.versionNumber}
              </a>{' '}
              {config.split === 'all' ? 'all examples' : `${config.split} split`}
              {config.limit ? ` (first ${config.limit})` : ''} · {config.variants.length} variants · against the{' '}
              {config.against === 'reference' ? 'reference' : "teacher's answer"} · temperature {config.generation.temperature} · max{' '}
              {config.generation.maxTokens} tokens · seed {config.generation.seed ?? 'random'}
              {config.judge ? ' · LLM judge' : ''}
            </p>
          )}
          {check && (
            <p className="muted">
              contamination check of {check.eval.dataset}@{check.eval.versionNumber} (
              {check.eval.split === 'all' ? 'all examples' : `${check.eval.split} split`}) against{' '}
              {check.against.map((a) => `${a.dataset}@${a.versionNumber}${a.split === 'all' ? '' : ` (${a.split})`}`).join(', ')} · {check.n}-grams
            </p>
          )}
          {r.error && <p className="error-text">{r.error}</p>}
        </RunProgress>
      )}
      {r?.kind === 'evaluate.run' && <EvalRunReport runId={runId} live={live} />}
      {r?.kind === 'evaluate.contamination' && <ContaminationRun runId={runId} live={live} />}
      {r && r.kind !== 'evaluate.run' && r.kind !== 'evaluate.contamination' && (
        <p className="muted">
          Run {runId} is a {r.kind} run, not an evaluation: see <a href={`#/runs/${runId}`}>its details</a>.
        </p>
      )}
    </Page>
  );
}

/** An evaluation run's report, asked again when the routing controls change. */
function EvalRunReport({ runId, live }: { runId: number; live: boolean }) {
  const [routing, setRouting] = useState<RoutingInput>({ confidence: 'meanLogprob', share: 0.5, target: 0.95 });
  const report = useQuery('evaluate.report', { runId, routing }, ['runs.changed'], [runId]);
  const rep = report.data;
  return (
    <>
      {report.error && !rep && !live && <ErrorBanner error={report.error} />}
      {rep && <Report rep={rep} runId={runId} live={live} routing={routing} onRouting={setRouting} />}
    </>
  );
}

function Report({
  rep,
  runId,
  live,
  routing,
  onRouting,
}: {
  rep: EvalReport;
  runId: number;
  live: boolean;
  routing: RoutingInput;
  onRouting: (r: RoutingInput) => void;
}) {
  const metrics = boardMetrics(rep.metrics, rep.leaderboard);
  const [chosen, setChosen] = useState<BoardMetric | null>(null);
  const metric = chosen && metrics.includes(chosen) ? chosen : (metrics[0] ?? 'exact');
  const bars = chartBars(rep.leaderboard, metric);
  const teacher = rep.variants.find((v) => v.isTeacher) ?? null;
  const students = rep.variants.filter((v) => !v.isTeacher);
  const isTeacher = (i: number) => rep.variants.some((v) => v.index === i && v.isTeacher);
  return (
    <div className="eval-report">
      {(rep.sentences.length > 0 || rep.notes.length > 0) && (
        <div className="card eval-answer" data-testid="evaluate-sentences">
          {rep.sentences.map((s) => (
            <p key={s} className="eval-sentence">
              {s}
            </p>
          ))}
          {rep.notes.map((n) => (
            <p key={n} className="muted small">
              {n}
            </p>
          ))}
        </div>
      )}
      <div className="card" data-testid="evaluate-leaderboard">
        <div className="row spread">
          <h2>
            Leaderboard <span className="muted small">{rep.examples} examples · 95% bootstrap intervals</span>
          </h2>
          <div className="row">
            <label hidden={metrics.length === 0}>
              chart{' '}
              <select aria-label="Leaderboard metric" value={metric} onChange={(e) => setChosen(e.target.value as BoardMetric)}>
                {metrics.map((m) => (
                  <option key={m} value={m}>
                    {metricLabel(m)}
                  </option>
                ))}
              </select>
            </label>
            {!live && <ExportButtons runId={runId} table="leaderboard" formats={['csv', 'md']} label={(f) => (f === 'csv' ? 'CSV' : 'Markdown')} />}
          </div>
        </div>
        {metrics.length === 0 && <p className="muted">No answer scored yet{live ? ': the board fills in as answers arrive' : ''}.</p>}
        <div className="board-layout">
          {bars.length > 0 && (
            <BarChart
              bars={bars.map((b) => ({
                label: `${variantLetter(b.variant)} ${b.label.length > 18 ? `${b.label.slice(0, 17)}…` : b.label}`,
                value: b.iv.mean,
                low: b.iv.low,
                high: b.iv.high,
                color: variantColor(b.variant),
                outlined: b.isTeacher,
              }))}
              yMax={axisMax(
                metric,
                bars.map((b) => b.iv.high),
              )}
              yLabel={metricLabel(metric)}
              format={(v) => formatMetric(metric, v)}
              testId="leaderboard-chart"
            />
          )}
          <LeaderboardTable rows={rep.leaderboard} metrics={metrics} testId="leaderboard-table" hasTeacher={teacher !== null} />
        </div>
      </div>
      {rep.divergence.length > 0 && (
        <div className="card" data-testid="evaluate-divergence">
          <h2>
            Divergence from the teacher{' '}
            <span className="muted small">teacher-forced on the teacher's answers; most divergent examples first in the table below</span>
          </h2>
          <DivergencePanel runId={runId} dataset={rep.dataset} items={rep.divergence} variants={rep.variants} />
        </div>
      )}
      {teacher && students.length > 0 && (
        <div className="card" data-testid="evaluate-routing">
          <h2>
            Routing <span className="muted small">the student answers; below a confidence threshold the teacher does instead</span>
          </h2>
          <RoutingPanel reports={rep.routing} input={routing} onInput={onRouting} metrics={rep.metrics} students={students} />
        </div>
      )}
      {rep.systems.length > 0 && (
        <div className="card" data-testid="evaluate-systems">
          <div className="row spread">
            <h2>Systems</h2>
            <div className="row">
              <ExportButtons runId={runId} table="systems" formats={['csv', 'md']} label={(f) => (f === 'csv' ? 'Export CSV' : 'Export Markdown')} />
            </div>
          </div>
          <SystemsTable rows={rep.systems} metrics={rep.metrics} isTeacher={isTeacher} />
        </div>
      )}
      {rep.contamination && (
        <div className="card" data-testid="evaluate-contamination">
          <h2>Contamination</h2>
          <p data-testid="contamination-summary">
            {rep.contamination.checked === 0 ? (
              <span className="muted">
                Not checked yet: the examples are checked for {rep.contamination.n}-grams of {rep.contamination.against.join(', ')} once they are answered.
              </span>
            ) : rep.contamination.flagged === 0 ? (
              <>
                <span className="ok-text">No example</span> of {rep.contamination.checked} shares a {rep.contamination.n}-gram with{' '}
                {rep.contamination.against.join(', ')}.
              </>
            ) : (
              <>
                <span className="warn-text">
                  {rep.contamination.flagged} of {rep.contamination.checked} examples
                </span>{' '}
                share a {rep.contamination.n}-gram with {rep.contamination.against.join(', ')}. The table below shows them with the filter “seen in training
                data”.
              </>
            )}
          </p>
          {rep.leaderboardClean && (
            <>
              <h3>Without the contaminated examples</h3>
              <LeaderboardTable
                rows={rep.leaderboardClean}
                metrics={boardMetrics(rep.metrics, rep.leaderboardClean)}
                testId="leaderboard-clean"
                hasTeacher={false}
              />
            </>
          )}
        </div>
      )}
      <div className="card" data-testid="evaluate-examples">
        <h2>Examples</h2>
        <ExamplesPanel runId={runId} variants={rep.variants} metrics={rep.metrics} against={rep.against} live={live} />
      </div>
    </div>
  );
}
