import { useState } from 'react';
import type { OpInput } from '../../../src-shared/contract/index.js';
import { CONFIDENCE_KINDS, type ConfidenceKind, type EvalMetric, type EvalVariantInfo, type RoutingReport } from '../../../src-shared/domain/evaluate.js';
import { RoutingChart } from './EvalCharts.js';
import { formatMetric, metricLabel, parseShare, pct } from './eval-format.js';
import { VariantName } from './LeaderboardTable.js';

export type RoutingInput = NonNullable<OpInput<'evaluate.report'>['routing']>;

const CONFIDENCE_LABEL: Record<ConfidenceKind, string> = {
  meanLogprob: 'mean token log-probability',
  minProb: 'lowest token probability',
  judge: "the judge's score",
};

/**
 * The routing simulation: the student answers unless its confidence is below a threshold, then the teacher does. The
 * controls (which student, the confidence, the metric, the share PGR is read at, the target share of the teacher's
 * quality) ask the report again; the curve and APGR, PGR and the reaching threshold come back.
 */
export function RoutingPanel({
  reports,
  input,
  onInput,
  metrics,
  students,
}: {
  reports: RoutingReport[];
  input: RoutingInput;
  onInput: (r: RoutingInput) => void;
  metrics: EvalMetric[];
  students: EvalVariantInfo[];
}) {
  const [share, setShare] = useState(String(Math.round(100 * (input.share ?? 0.5))));
  const [target, setTarget] = useState(String(Math.round(100 * (input.target ?? 0.95))));
  const routable = metrics.filter((m) => m !== 'pairwise');
  const metric = input.metric ?? reports[0]?.metric ?? routable[0];
  const applyShare = (s: string) => {
    setShare(s);
    const v = parseShare(s);
    if (v !== null) onInput({ ...input, share: v });
  };
  const applyTarget = (s: string) => {
    setTarget(s);
    const v = parseShare(s);
    if (v !== null) onInput({ ...input, target: v });
  };
  return (
    <>
      <div className="row routing-controls" data-testid="routing-controls">
        {students.length > 1 && (
          <label>
            student{' '}
            <select
              aria-label="Routing student"
              value={input.variant ?? reports[0]?.variant ?? ''}
              onChange={(e) => onInput({ ...input, variant: Number(e.target.value) })}
            >
              {students.map((s) => (
                <option key={s.index} value={s.index}>
                  {String.fromCharCode(65 + s.index)} {s.label}
                </option>
              ))}
            </select>
          </label>
        )}
        <label>
          confidence{' '}
          <select
            aria-label="Routing confidence"
            value={input.confidence ?? 'meanLogprob'}
            onChange={(e) => onInput({ ...input, confidence: e.target.value as ConfidenceKind })}
          >
            {CONFIDENCE_KINDS.map((k) => (
              <option key={k} value={k}>
                {CONFIDENCE_LABEL[k]}
              </option>
            ))}
          </select>
        </label>
        <label>
          quality{' '}
          <select aria-label="Routing metric" value={metric ?? ''} onChange={(e) => onInput({ ...input, metric: e.target.value as EvalMetric })}>
            {routable.map((m) => (
              <option key={m} value={m}>
                {metricLabel(m)}
              </option>
            ))}
          </select>
        </label>
        <label>
          PGR at{' '}
          <input
            aria-label="Routing share"
            size={3}
            value={share}
            onChange={(e) => applyShare(e.target.value)}
            className={parseShare(share) === null ? 'invalid' : undefined}
          />
          % escalated
        </label>
        <label>
          target{' '}
          <input
            aria-label="Routing target"
            size={3}
            value={target}
            onChange={(e) => applyTarget(e.target.value)}
            className={parseShare(target) === null ? 'invalid' : undefined}
          />
          % of the teacher
        </label>
      </div>
      {reports.length === 0 && <p className="muted">No routing: the run needs a teacher and a student that both answered.</p>}
      {reports.map((r) => (
        <RoutingFigures key={r.variant} r={r} target={input.target ?? 0.95} student={students.find((s) => s.index === r.variant)} />
      ))}
    </>
  );
}

/** A confidence threshold in words: below it the teacher answers; null escalates every query. */
const threshold = (t: number | null): string => (t === null ? 'escalate all' : `threshold ${t.toPrecision(3)}`);

function RoutingFigures({ r, target, student }: { r: RoutingReport; target: number; student: EvalVariantInfo | undefined }) {
  const f = (v: number) => formatMetric(r.metric, v);
  return (
    <div className="routing" data-testid={`routing-${r.variant}`}>
      <div className="routing-side">
        <VariantName variant={r.variant} label={student?.label ?? `variant ${r.variant}`} isTeacher={false} />
        <dl className="figures-list" data-testid={`routing-figures-${r.variant}`}>
          <dt>student alone</dt>
          <dd>{f(r.studentScore)}</dd>
          <dt>teacher alone</dt>
          <dd>{f(r.teacherScore)}</dd>
          <dt title="average performance gap recovered: the area under the router's curve between the student's and the teacher's (RouteLLM)">APGR</dt>
          <dd>{r.apgr !== null && Number.isFinite(r.apgr) ? r.apgr.toFixed(3) : 'n/a (no gap)'}</dd>
          <dt title="performance gap recovered: (router − student) / (teacher − student)">PGR at {pct(r.pgrAt.share)} escalated</dt>
          <dd>
            {r.pgrAt.pgr !== null && Number.isFinite(r.pgrAt.pgr) ? r.pgrAt.pgr.toFixed(3) : 'n/a (no gap)'}{' '}
            <span className="muted small">({threshold(r.pgrAt.threshold)})</span>
          </dd>
          <dt>reaches {pct(r.reach?.target ?? target)} of the teacher</dt>
          <dd>
            {r.reach ? (
              <>
                at {pct(r.reach.share, 1)} escalated <span className="muted small">({threshold(r.reach.threshold)})</span>
              </>
            ) : (
              'never (not even escalating everything)'
            )}
          </dd>
        </dl>
        {r.teacherScore <= r.studentScore && (
          <p className="warn-text small">The student is not below the teacher on this metric: there is no gap to recover.</p>
        )}
      </div>
      <RoutingChart r={r} format={f} metricLabel={metricLabel(r.metric)} testId={`routing-chart-${r.variant}`} />
    </div>
  );
}
