import { useMemo, useState } from 'react';
import { EXAMPLE_FILTERS, type EvalExampleRow, type EvalMetric, type EvalVariantInfo, type ExampleFilter } from '../../../src-shared/domain/evaluate.js';
import { ErrorBanner } from '../../ui/components.js';
import { useQuery } from '../../ui/useApi.js';
import { wordDiff, type DiffPart } from '../adapters/wordDiff.js';
import { FILTER_LABELS, formatAnswerMetric, kld, metricLabel, pct, variantColor, variantLetter } from './eval-format.js';

const PAGE = 20;

/** What each answer's words are compared with. */
type DiffBase = 'reference' | 'teacher' | 'none';

/**
 * The per-example table: a page of examples at a time, filtered (e.g. "student wrong, teacher right"), each with its
 * prompt, the reference and every variant's answer side by side, its words diffed against the reference or the
 * teacher's answer, its metric values and its divergence from the teacher.
 */
export function ExamplesPanel({
  runId,
  variants,
  metrics,
  against,
  live,
}: {
  runId: number;
  variants: EvalVariantInfo[];
  metrics: EvalMetric[];
  against: 'reference' | 'teacher';
  live: boolean;
}) {
  const teacher = variants.find((v) => v.isTeacher) ?? null;
  const students = variants.filter((v) => !v.isTeacher);
  const [filter, setFilter] = useState<ExampleFilter>('all');
  const [student, setStudent] = useState<number | null>(null);
  const [metric, setMetric] = useState<EvalMetric | null>(null);
  const [offset, setOffset] = useState(0);
  const [base, setBase] = useState<DiffBase>(against === 'teacher' && teacher ? 'teacher' : 'reference');
  const input = {
    runId,
    offset,
    limit: PAGE,
    filter,
    ...(student !== null ? { variant: student } : {}),
    ...(metric !== null ? { metric } : {}),
  };
  const page = useQuery('evaluate.examples', input, live ? ['runs.changed'] : [], [live]);
  const rows = page.data?.rows ?? [];
  const total = page.data?.total ?? 0;
  const needsTeacher = filter !== 'all' && filter !== 'contaminated';
  return (
    <>
      <div className="row examples-controls" data-testid="examples-controls">
        <label>
          show{' '}
          <select
            aria-label="Example filter"
            value={filter}
            onChange={(e) => {
              setFilter(e.target.value as ExampleFilter);
              setOffset(0);
            }}
          >
            {EXAMPLE_FILTERS.map((f) => (
              <option key={f} value={f} disabled={!teacher && f !== 'all' && f !== 'contaminated'}>
                {FILTER_LABELS[f]}
              </option>
            ))}
          </select>
        </label>
        {needsTeacher && students.length > 1 && (
          <label>
            student{' '}
            <select
              aria-label="Filter student"
              value={student ?? ''}
              onChange={(e) => (setStudent(e.target.value === '' ? null : Number(e.target.value)), setOffset(0))}
            >
              <option value="">first student</option>
              {students.map((s) => (
                <option key={s.index} value={s.index}>
                  {variantLetter(s.index)} {s.label}
                </option>
              ))}
            </select>
          </label>
        )}
        {(filter === 'student-wrong-teacher-right' || filter === 'student-right-teacher-wrong') && (
          <label title="which metric says whether an answer is right">
            judged by{' '}
            <select
              aria-label="Filter metric"
              value={metric ?? ''}
              onChange={(e) => (setMetric(e.target.value === '' ? null : (e.target.value as EvalMetric)), setOffset(0))}
            >
              <option value="">{metricLabel(metrics[0] ?? 'exact')} (the run's first)</option>
              {metrics.slice(1).map((m) => (
                <option key={m} value={m}>
                  {metricLabel(m)}
                </option>
              ))}
            </select>
          </label>
        )}
        <span className="segmented" role="radiogroup" aria-label="Diff against">
          {(['reference', 'teacher', 'none'] as const).map((b) => (
            <button
              key={b}
              role="radio"
              aria-checked={base === b}
              className={base === b ? 'on' : ''}
              disabled={b === 'teacher' && !teacher}
              onClick={() => setBase(b)}
            >
              {b === 'none' ? 'no diff' : `diff vs ${b}`}
            </button>
          ))}
        </span>
        <span className="grow" />
        <span className="muted" data-testid="examples-count">
          {page.data ? (total === 0 ? 'no example' : `${offset + 1}–${Math.min(total, offset + PAGE)} of ${total}`) : '…'}
        </span>
        <button className="secondary small" disabled={offset === 0} onClick={() => setOffset(Math.max(0, offset - PAGE))}>
          ‹ Previous
        </button>
        <button className="secondary small" disabled={offset + PAGE >= total} onClick={() => setOffset(offset + PAGE)}>
          Next ›
        </button>
      </div>
      <ErrorBanner error={page.error} />
      {page.data && total === 0 && (
        <p className="muted empty-filter">No example {filter === 'all' ? 'scored yet' : `is “${FILTER_LABELS[filter].toLowerCase()}”`}.</p>
      )}
      <div className="eval-examples" data-testid="examples-table">
        {rows.map((row) => (
          <ExampleRow key={row.position} row={row} variants={variants} metrics={metrics} base={base} teacher={teacher?.index ?? null} />
        ))}
      </div>
    </>
  );
}

function Diffed({ parts }: { parts: DiffPart[] }) {
  return (
    <>
      {parts.map((p, k) =>
        p.kind === 'same' ? (
          <span key={k}>{p.text}</span>
        ) : p.kind === 'added' ? (
          <mark key={k} className="diff-add">
            {p.text}
          </mark>
        ) : (
          <span key={k} className="diff-rem">
            {p.text}
          </span>
        ),
      )}
    </>
  );
}

function ExampleRow({
  row,
  variants,
  metrics,
  base,
  teacher,
}: {
  row: EvalExampleRow;
  variants: EvalVariantInfo[];
  metrics: EvalMetric[];
  base: DiffBase;
  teacher: number | null;
}) {
  const baseText = base === 'reference' ? row.reference : base === 'teacher' ? (row.answers.find((a) => a.variant === teacher)?.text ?? null) : null;
  const diffs = useMemo(
    () => row.answers.map((a) => (a.text !== null && baseText !== null && !(base === 'teacher' && a.variant === teacher) ? wordDiff(baseText, a.text) : null)),
    [row.answers, baseText, base, teacher],
  );
  return (
    <div className="card eval-example" data-testid={`example-${row.position}`}>
      <div className="row eval-example-head">
        <span className="muted mono">#{row.position}</span>
        {row.contaminated && (
          <span className="chip chip-flag" title="an n-gram of this example is in the training data checked">
            contaminated
          </span>
        )}
        <div className="pre grow prompt-text">{row.prompt}</div>
      </div>
      {row.reference !== null && (
        <div className="reference">
          <span className="muted small">reference</span> <span className="pre">{row.reference}</span>
        </div>
      )}
      <div className="answers-grid" style={{ gridTemplateColumns: `repeat(${Math.min(row.answers.length, 4)}, minmax(0, 1fr))` }}>
        {row.answers.map((a, i) => {
          const v = variants.find((x) => x.index === a.variant);
          const d = diffs[i];
          return (
            <div
              key={a.variant}
              className="answer"
              style={{ borderTopColor: variantColor(a.variant) }}
              data-testid={`example-${row.position}-answer-${a.variant}`}
            >
              <div className="answer-head">
                <span className="variant-index" style={{ background: variantColor(a.variant) }}>
                  {variantLetter(a.variant)}
                </span>
                <span className="ellipsis" title={v?.label}>
                  {v?.label}
                </span>
                {v?.isTeacher && <span className="chip chip-teacher">teacher</span>}
              </div>
              <div className="answer-text">
                {a.error ? (
                  <span className="error-text">{a.error}</span>
                ) : a.text === null ? (
                  <span className="muted">no answer</span>
                ) : d ? (
                  <Diffed parts={d} />
                ) : (
                  a.text || <span className="muted">(empty)</span>
                )}
              </div>
              <div className="metric-cells" data-testid={`example-${row.position}-metrics-${a.variant}`}>
                {metrics.map((m) =>
                  a.metrics[m] === undefined ? null : (
                    <span
                      key={m}
                      className={`metric-cell ${cellClass(m, a.metrics[m]!)}`}
                      title={m === 'judge' && a.judgeReason ? a.judgeReason : metricLabel(m)}
                    >
                      <span className="muted">{metricLabel(m)}</span> {formatAnswerMetric(m, a.metrics[m])}
                    </span>
                  ),
                )}
                {a.tokens !== null && <span className="metric-cell muted">{a.tokens} tokens</span>}
              </div>
              {a.divergence && (
                <div className="muted small divergence-cell" title="teacher-forced on the teacher's answer">
                  KLD {kld(a.divergence.kld)} (max {kld(a.divergence.maxKld)}) · same top {pct(a.divergence.top1, 0)} · NLL {a.divergence.nll.toFixed(2)}
                </div>
              )}
            </div>
          );
        })}
      </div>
    </div>
  );
}

/** A metric cell's colour: right (at its best), wrong (at its worst) or in between. */
function cellClass(m: EvalMetric, v: number): string {
  const max = m === 'chrf' ? 100 : m === 'judge' ? 10 : 1;
  const min = m === 'judge' ? 1 : 0;
  if (v >= max) return 'right';
  if (v <= min) return 'wrong';
  return '';
}
