import type { ReactNode } from 'react';
import type { EvalMetric, SystemsRow } from '../../../src-shared/domain/evaluate.js';
import { ErrorBanner } from '../../ui/components.js';
import { bytes, count } from '../../ui/format.js';
import { useAction } from '../../ui/useApi.js';
import { formatMetric, metricLabel } from './eval-format.js';
import { VariantName } from './LeaderboardTable.js';

/** Saves text as a file through a Blob link (the browser's download, or the desktop app's save dialog). */
export function download(text: string, fileName: string, type: string): void {
  const a = document.createElement('a');
  a.href = URL.createObjectURL(new Blob([text], { type }));
  a.download = fileName;
  a.click();
  setTimeout(() => URL.revokeObjectURL(a.href), 1000);
}

/** Buttons that export the run's report (or one of its tables) as CSV, Markdown or JSON. */
export function ExportButtons({
  runId,
  table,
  formats,
  label,
}: {
  runId: number;
  table: 'systems' | 'leaderboard' | 'all';
  formats: ('csv' | 'md' | 'json')[];
  label: (f: 'csv' | 'md' | 'json') => string;
}) {
  const exp = useAction('evaluate.export');
  const save = async (format: 'csv' | 'md' | 'json') => {
    const r = await exp.run({ runId, format, table });
    if (r) download(r.text, r.fileName, format === 'csv' ? 'text/csv' : format === 'md' ? 'text/markdown' : 'application/json');
  };
  return (
    <>
      {formats.map((f) => (
        <button key={f} className="secondary small" onClick={() => void save(f)} disabled={exp.pending}>
          {label(f)}
        </button>
      ))}
      <ErrorBanner error={exp.error} onClose={exp.clearError} />
    </>
  );
}

const na = (v: number | null, show: (v: number) => string): string => (v === null || !Number.isFinite(v) ? 'n/a' : show(v));

/**
 * The systems table edge-AI papers print, one row per variant as measured in the run: parameters, file size, bits per
 * weight, peak memory, load time, time to first token, prompt and generation speed, energy per answer, and each
 * quality metric. A figure that cannot be measured says n/a, with the reason on hover and in the note column.
 */
export function SystemsTable({ rows, metrics, isTeacher }: { rows: SystemsRow[]; metrics: EvalMetric[]; isTeacher: (v: number) => boolean }) {
  const cells: { header: string; cell: (r: SystemsRow) => ReactNode }[] = [
    { header: 'Parameters', cell: (r) => na(r.parameters, count) },
    { header: 'File', cell: (r) => na(r.fileBytes, bytes) },
    { header: 'Bits/weight', cell: (r) => na(r.bitsPerWeight, (v) => v.toFixed(2)) },
    { header: 'Peak RSS', cell: (r) => na(r.peakRssBytes, bytes) },
    { header: 'Device memory', cell: (r) => na(r.peakDeviceBytes, bytes) },
    { header: 'Load', cell: (r) => na(r.loadSeconds, (v) => `${v.toFixed(2)} s`) },
    { header: 'First token', cell: (r) => na(r.ttftMs, (v) => `${v.toFixed(0)} ms`) },
    { header: 'Prompt t/s', cell: (r) => na(r.promptTokensPerSecond, (v) => v.toFixed(0)) },
    { header: 'Gen t/s', cell: (r) => na(r.genTokensPerSecond, (v) => v.toFixed(1)) },
    {
      header: 'Energy/answer',
      cell: (r) => <span title={r.energyNote ?? undefined}>{na(r.energyJoulesPerAnswer, (v) => `${v.toFixed(v < 10 ? 2 : 1)} J`)}</span>,
    },
    ...metrics.map((m) => ({ header: metricLabel(m), cell: (r: SystemsRow) => formatMetric(m, r.quality[m]) })),
  ];
  const notes = [...new Set(rows.flatMap((r) => [r.note, r.energyJoulesPerAnswer === null ? r.energyNote : null]).filter((x): x is string => !!x))];
  return (
    <div className="table-scroll">
      <table className="table compact systems-table" data-testid="systems-table">
        <thead>
          <tr>
            <th>Variant</th>
            {cells.map((c) => (
              <th key={c.header}>{c.header}</th>
            ))}
          </tr>
        </thead>
        <tbody>
          {rows.map((r) => (
            <tr key={r.variant} data-testid={`systems-row-${r.variant}`} title={r.note ?? undefined}>
              <td>
                <VariantName variant={r.variant} label={r.label} isTeacher={isTeacher(r.variant)} />
              </td>
              {cells.map((c) => (
                <td key={c.header}>{c.cell(r)}</td>
              ))}
            </tr>
          ))}
        </tbody>
      </table>
      {notes.length > 0 && (
        <ul className="muted small systems-notes" data-testid="systems-notes">
          {notes.map((n) => (
            <li key={n}>{n}</li>
          ))}
        </ul>
      )}
    </div>
  );
}
