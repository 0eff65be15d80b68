import type { ColumnDef } from '@tanstack/react-table';
import type { EvalMetric, LeaderboardRow } from '../../../src-shared/domain/evaluate.js';
import { DataTable } from '../../ui/DataTable.js';
import { differenceSide, formatMetric, formatPaired, metricLabel, variantColor, variantLetter, type BoardMetric } from './eval-format.js';

/** A variant's name as every table of the page shows it: its letter in its colour, its label, "teacher". */
export function VariantName({ variant, label, isTeacher }: { variant: number; label: string; isTeacher: boolean }) {
  return (
    <span className="variant-name">
      <span className="variant-index" style={{ background: variantColor(variant) }}>
        {variantLetter(variant)}
      </span>{' '}
      <span className="ellipsis" title={label}>
        {label}
      </span>
      {isTeacher && <span className="chip chip-teacher">teacher</span>}
    </span>
  );
}

/**
 * The leaderboard: per variant and metric the mean with its 95% interval under it, and for a student the paired
 * difference from the teacher (green when its interval is above zero, red below, grey across it); the pairwise judge's
 * win / tie / loss tally against the teacher. Sortable by any metric's mean.
 */
export function LeaderboardTable({
  rows,
  metrics,
  testId,
  hasTeacher,
}: {
  rows: LeaderboardRow[];
  metrics: BoardMetric[];
  testId: string;
  hasTeacher: boolean;
}) {
  const anyPairwise = rows.some((r) => r.pairwise);
  const columns: ColumnDef<LeaderboardRow, unknown>[] = [
    {
      id: 'variant',
      header: 'Variant',
      accessorFn: (r) => r.variant,
      cell: ({ row: { original: r } }) => <VariantName variant={r.variant} label={r.label} isTeacher={r.isTeacher} />,
    },
    {
      id: 'answered',
      header: 'Answers',
      accessorFn: (r) => r.answered,
      cell: ({ row: { original: r } }) => (
        <>
          {r.answered}
          {r.failed > 0 && <span className="pm error-text">{r.failed} failed</span>}
        </>
      ),
    },
    ...metrics.map((m): ColumnDef<LeaderboardRow, unknown> => ({
      id: m,
      header: metricLabel(m),
      accessorFn: (r) => r.metrics[m]?.mean,
      sortUndefined: 'last',
      sortDescFirst: true,
      cell: ({ row: { original: r } }) => {
        const iv = r.metrics[m];
        if (!iv) return '—';
        const d = m === 'length' ? undefined : r.vsTeacher[m as EvalMetric];
        const side = differenceSide(d);
        return (
          <span className="board-cell" data-testid={`board-${r.variant}-${m}`}>
            <span className="board-mean">{formatMetric(m, iv.mean)}</span>
            <span className="pm">
              [{formatMetric(m, iv.low)}, {formatMetric(m, iv.high)}]
            </span>
            {d && !r.isTeacher && (
              <span
                className={`pm paired ${m === 'length' ? '' : side === 'above' ? 'better' : side === 'below' ? 'worse' : 'same'}`}
                title="paired difference from the teacher on the same examples, with its 95% interval"
              >
                vs teacher {formatPaired(m, d)}
              </span>
            )}
          </span>
        );
      },
    })),
  ];
  if (anyPairwise) {
    columns.push({
      id: 'wtl',
      header: 'Judge vs teacher (W / T / L)',
      accessorFn: (r) => (r.pairwise ? r.pairwise.win - r.pairwise.loss : undefined),
      sortUndefined: 'last',
      cell: ({ row: { original: r } }) =>
        r.pairwise ? (
          <span className="wtl" data-testid={`board-${r.variant}-wtl`}>
            <span className="ok-text">{r.pairwise.win}</span> / <span className="muted">{r.pairwise.tie}</span> /{' '}
            <span className="error-text">{r.pairwise.loss}</span>
          </span>
        ) : (
          '—'
        ),
    });
  }
  return (
    <div className="table-scroll">
      <DataTable
        data={rows}
        columns={columns}
        className="compact board-table"
        testId={testId}
        rowTestId={(r) => `board-row-${r.variant}`}
        rowClassName={(r) => (r.isTeacher ? 'teacher' : undefined)}
      />
      {hasTeacher && (
        <p className="muted small">
          Each cell: the mean, its 95% bootstrap interval, and for a student the paired difference from the teacher on the same examples (green: the whole
          interval is above zero, red: below, grey: no clear difference).
        </p>
      )}
    </div>
  );
}
