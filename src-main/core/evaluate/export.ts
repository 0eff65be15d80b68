/** An evaluation report as a file's text: the systems table and the leaderboard in Markdown or CSV, or all as JSON. */
import { METRIC_INFO, type EvalMetric, type EvalReport, type Interval } from '../../../src-shared/domain/evaluate.js';

type Table = { headers: string[]; rows: (string | number | null)[][] };

const num = (x: number | null | undefined, digits = 3): string =>
  x === null || x === undefined || !Number.isFinite(x) ? 'n/a' : Number(x.toFixed(digits)).toString();

export function systemsTable(r: EvalReport): Table {
  const metrics = r.metrics.filter((m) => m !== 'pairwise');
  return {
    headers: [
      'variant',
      'parameters',
      'file bytes',
      'bits/weight',
      'peak RSS bytes',
      'peak device bytes',
      'load s',
      'TTFT ms',
      'prompt tok/s',
      'gen tok/s',
      'energy J/answer',
      ...metrics.map((m) => METRIC_INFO[m].label),
      'notes',
    ],
    rows: r.systems.map((s) => [
      s.label,
      s.parameters,
      s.fileBytes,
      s.bitsPerWeight === null ? null : num(s.bitsPerWeight, 2),
      s.peakRssBytes,
      s.peakDeviceBytes,
      s.loadSeconds === null ? null : num(s.loadSeconds, 3),
      s.ttftMs === null ? null : num(s.ttftMs, 1),
      s.promptTokensPerSecond === null ? null : num(s.promptTokensPerSecond, 1),
      s.genTokensPerSecond === null ? null : num(s.genTokensPerSecond, 1),
      s.energyJoulesPerAnswer === null ? null : num(s.energyJoulesPerAnswer, 2),
      ...metrics.map((m) => (s.quality[m] === undefined ? null : num(s.quality[m]!, 4))),
      [s.note, s.energyJoulesPerAnswer === null && s.energyNote ? `energy: ${s.energyNote}` : null].filter(Boolean).join('; '),
    ]),
  };
}

const iv = (i: Interval | undefined) => (i ? `${num(i.mean, 4)} [${num(i.low, 4)}, ${num(i.high, 4)}]` : null);

export function leaderboardTable(r: EvalReport): Table {
  const metrics = [...r.metrics, 'length'] as (EvalMetric | 'length')[];
  const vs = r.metrics.filter((m) => m !== 'pairwise');
  const teacher = r.variants.some((v) => v.isTeacher);
  return {
    headers: [
      'variant',
      'answered',
      'failed',
      ...metrics.map((m) => `${METRIC_INFO[m].label} (95% CI)`),
      ...(teacher ? vs.map((m) => `${METRIC_INFO[m].label} − teacher (95% CI)`) : []),
      ...(teacher ? ['pairwise win/tie/loss'] : []),
    ],
    rows: r.leaderboard.map((row) => [
      `${row.label}${row.isTeacher ? ' (teacher)' : ''}`,
      row.answered,
      row.failed,
      ...metrics.map((m) => iv(row.metrics[m])),
      ...(teacher ? vs.map((m) => iv(row.vsTeacher[m])) : []),
      ...(teacher ? [row.pairwise ? `${row.pairwise.win}/${row.pairwise.tie}/${row.pairwise.loss}` : null] : []),
    ]),
  };
}

const cell = (v: string | number | null) => (v === null ? '' : String(v));

export function toCsv(t: Table): string {
  const q = (s: string) => (/[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s);
  return [t.headers, ...t.rows.map((r) => r.map(cell))].map((r) => r.map((x) => q(String(x))).join(',')).join('\n') + '\n';
}

export function toMarkdown(t: Table): string {
  const esc = (s: string) => s.replace(/\|/g, '\\|').replace(/\n/g, ' ');
  const line = (r: string[]) => `| ${r.map(esc).join(' | ')} |`;
  return [line(t.headers), line(t.headers.map(() => '---')), ...t.rows.map((r) => line(r.map((x) => (x === null ? 'n/a' : String(x)))))].join('\n') + '\n';
}

export function exportReport(r: EvalReport, format: 'md' | 'csv' | 'json', table: 'systems' | 'leaderboard' | 'all'): { text: string; fileName: string } {
  const base = `evaluation-${r.runId}`;
  if (format === 'json') return { text: JSON.stringify(r, null, 2) + '\n', fileName: `${base}.json` };
  const tables =
    table === 'systems'
      ? [['Systems', systemsTable(r)] as const]
      : table === 'leaderboard'
        ? [['Leaderboard', leaderboardTable(r)] as const]
        : [['Leaderboard', leaderboardTable(r)] as const, ['Systems', systemsTable(r)] as const];
  if (format === 'csv') {
    // one table per file reads best in a spreadsheet; "all" puts a blank line between them
    return { text: tables.map(([, t]) => toCsv(t)).join('\n'), fileName: `${base}-${table}.csv` };
  }
  const head = `# Evaluation ${r.runId}: ${r.dataset} (${r.split}), ${r.examples} examples\n\n${r.sentences.map((s) => `- ${s}\n`).join('')}${r.notes.map((n) => `> ${n}\n`).join('')}`;
  return { text: `${head}\n${tables.map(([title, t]) => `## ${title}\n\n${toMarkdown(t)}`).join('\n')}`, fileName: `${base}-${table}.md` };
}
