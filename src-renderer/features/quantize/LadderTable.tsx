import type { ReactNode } from 'react';
import type { ColumnDef } from '@tanstack/react-table';
import type { LadderRow } from '../../../src-shared/contract/quantize.js';
import type { GateFigures, SpeedFigures } from '../../../src-shared/domain/quantize.js';
import { formatMetric, timesSmaller } from '../../../src-shared/domain/quantize-answer.js';
import { DataTable } from '../../ui/DataTable.js';
import { bytes } from '../../ui/format.js';

/** A type of the ladder: its row once its file is made (null before). */
export interface TypeRow {
  type: string;
  row: LadderRow | null;
}

/** A figure with its uncertainty under it, smaller (the table stays narrow enough for every column). */
const pm = (v: string, e: string) => (
  <>
    {v}
    <span className="pm">± {e}</span>
  </>
);
/** Percent: two decimals, or two significant digits below 0.1% (Δp of a tiny model is a few millionths). */
const pct = (v: number) => {
  const x = 100 * v;
  return `${Math.abs(x) >= 0.1 || x === 0 ? x.toFixed(2) : x.toPrecision(2)}%`;
};
const percentile = (g: GateFigures, p: number) => g.kldPercentiles.find((x) => Math.abs(x.p - p) < 1e-9)?.value ?? null;

/**
 * Every figure of every type, sortable (TanStack Table): file, gate (PPL, KLD, Δp, same top) and speed. A figure not
 * measured yet shows "…" while the run goes, "—" when it never will be; the picked type's row is highlighted.
 */
export function LadderTable({ rows, sourceBytes, picked, running }: { rows: TypeRow[]; sourceBytes: number; picked: string | null; running: boolean }) {
  const later = running ? '…' : '—';
  const file = (id: string, header: string, get: (r: LadderRow) => number, show: (r: LadderRow) => string): ColumnDef<TypeRow, unknown> => ({
    id,
    header,
    accessorFn: (t) => (t.row ? get(t.row) : undefined),
    sortUndefined: 'last',
    cell: ({ row: { original: t } }) => (t.row ? show(t.row) : '…'),
  });
  const gate = (id: string, header: string, get: (g: GateFigures) => number | null, show: (g: GateFigures) => ReactNode): ColumnDef<TypeRow, unknown> => ({
    id,
    header,
    accessorFn: (t) => (t.row?.gate ? (get(t.row.gate) ?? undefined) : undefined),
    sortUndefined: 'last',
    cell: ({ row: { original: t } }) => (t.row?.gate ? show(t.row.gate) : t.row ? later : '…'),
  });
  const speed = (id: string, header: string, get: (s: SpeedFigures) => number, show: (v: number) => string): ColumnDef<TypeRow, unknown> => ({
    id,
    header,
    accessorFn: (t) => (t.row?.speed ? get(t.row.speed) : undefined),
    sortUndefined: 'last',
    cell: ({ row: { original: t } }) => (t.row?.speed ? show(get(t.row.speed)) : t.row ? later : '…'),
  });
  const columns: ColumnDef<TypeRow, unknown>[] = [
    {
      id: 'type',
      header: 'Type',
      accessorFn: (t) => t.type,
      enableSorting: false,
      cell: ({ row: { original: t } }) => (t.row ? <a href={`#/models/${t.row.modelId}`}>{t.type}</a> : t.type),
    },
    file(
      'size',
      'Size',
      (r) => r.bytes,
      (r) => bytes(r.bytes),
    ),
    file(
      'bpw',
      'bpw',
      (r) => r.bpw,
      (r) => r.bpw.toFixed(2),
    ),
    file(
      'smaller',
      '× smaller',
      (r) => sourceBytes / r.bytes,
      (r) => timesSmaller(sourceBytes, r.bytes),
    ),
    gate(
      'ppl',
      'PPL(Q)',
      (g) => g.ppl,
      (g) => g.ppl.toFixed(g.ppl >= 1000 ? 0 : 3),
    ),
    gate(
      'pplRatio',
      'PPL ratio',
      (g) => g.pplRatio,
      (g) => pm(g.pplRatio.toFixed(4), g.pplRatioStderr.toFixed(4)),
    ),
    gate(
      'kld',
      'Mean KLD',
      (g) => g.kld,
      (g) => pm(formatMetric('kld', g.kld), formatMetric('kld', g.kldStderr)),
    ),
    gate(
      'kld99',
      'KLD 99%',
      (g) => percentile(g, 0.99),
      (g) => formatMetric('kld', percentile(g, 0.99) ?? NaN),
    ),
    gate(
      'kldMax',
      'Max KLD',
      (g) => percentile(g, 1),
      (g) => formatMetric('kld', percentile(g, 1) ?? NaN),
    ),
    gate(
      'sameTop',
      'Same top',
      (g) => g.sameTop,
      (g) => pm(pct(g.sameTop), pct(g.sameTopStderr)),
    ),
    gate(
      'rmsDp',
      'RMS Δp',
      (g) => g.rmsDp,
      (g) => pct(g.rmsDp),
    ),
    gate(
      'meanDp',
      'Mean Δp',
      (g) => g.meanDp,
      (g) => pct(g.meanDp),
    ),
    speed(
      'load',
      'Load',
      (s) => s.loadSeconds,
      (v) => `${v.toFixed(2)} s`,
    ),
    speed(
      'pp',
      'Prompt t/s',
      (s) => s.promptTokensPerSecond,
      (v) => v.toFixed(0),
    ),
    speed(
      'tg',
      'Gen t/s',
      (s) => s.genTokensPerSecond,
      (v) => v.toFixed(1),
    ),
    speed(
      'rss',
      'Peak RSS',
      (s) => s.peakRssBytes,
      (v) => bytes(v),
    ),
    file(
      'time',
      'Time',
      (r) => r.seconds,
      (r) => `${r.seconds.toFixed(1)} s`,
    ),
  ];
  return (
    <div className="table-scroll">
      <DataTable
        data={rows}
        columns={columns}
        className="compact ladder-table"
        testId="quantize-table"
        rowTestId={(t) => `ladder-row-${t.type}`}
        rowClassName={(t) => (t.type === picked ? 'picked' : t.row ? undefined : 'pending')}
      />
    </div>
  );
}
