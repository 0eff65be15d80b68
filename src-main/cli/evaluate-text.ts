// An evaluation report as `distillery evaluate` prints it: the leaderboard (a row per metric, a column per variant,
// each mean with its 95% interval), the paired differences with the teacher, the report's sentences, divergence,
// routing, contamination and the systems table.
import { humanBytes, humanCount } from '../../src-shared/format.js';
import { METRIC_INFO, type EvalMetric, type EvalReport, type Interval, type LeaderboardRow } from '../../src-shared/domain/evaluate.js';
import { table } from './output.js';

type Shown = EvalMetric | 'length';

/** Digits by scale: 0–1 metrics to 3 decimals, chrF and the judge to 2, lengths to 1. */
const digits = (m: Shown) => (m === 'length' ? 1 : METRIC_INFO[m].max <= 1 ? 3 : 2);
const fixed = (x: number, d: number) => (Object.is(Number(x.toFixed(d)), -0) ? 0 : x).toFixed(d);
export const intervalText = (i: Interval | undefined, d: number, sign = false) =>
  i ? `${sign && i.mean > 0 ? '+' : ''}${fixed(i.mean, d)} [${fixed(i.low, d)}, ${fixed(i.high, d)}]` : '–';

const header = (row: LeaderboardRow) => `${row.variant + 1} ${row.label}${row.isTeacher ? ' (teacher)' : ''}`;

function board(rows: LeaderboardRow[], metrics: EvalMetric[]): string {
  const shown: Shown[] = [...metrics.filter((m) => m !== 'pairwise'), 'length'];
  const body = [
    ['answered (failed)', ...rows.map((r) => `${r.answered} (${r.failed})`)],
    ...shown.map((m) => [METRIC_INFO[m].label, ...rows.map((r) => intervalText(r.metrics[m], digits(m)))]),
  ];
  if (rows.some((r) => r.pairwise)) {
    body.push(['judge vs teacher W/T/L', ...rows.map((r) => (r.pairwise ? `${r.pairwise.win}/${r.pairwise.tie}/${r.pairwise.loss}` : '–'))]);
  }
  return table(['METRIC (mean [95% CI])', ...rows.map(header)], body);
}

function differences(rows: LeaderboardRow[], metrics: EvalMetric[]): string | null {
  const students = rows.filter((r) => !r.isTeacher && Object.keys(r.vsTeacher).length > 0);
  if (students.length === 0) return null;
  const shown = metrics.filter((m) => m !== 'pairwise');
  return table(
    ['VARIANT − TEACHER (paired, 95% CI)', ...students.map(header)],
    shown.map((m) => [METRIC_INFO[m].label, ...students.map((r) => intervalText(r.vsTeacher[m], digits(m), true))]),
  );
}

const label = (r: EvalReport, v: number) => r.variants[v]?.label ?? `variant ${v + 1}`;
const orNa = (x: number | null, f: (x: number) => string) => (x === null ? 'n/a' : f(x));

function divergence(r: EvalReport): string | null {
  if (r.divergence.length === 0) return null;
  return table(
    ['DIVERGENCE FROM THE TEACHER', 'METHOD', 'EXAMPLES', 'MEAN KLD [95% CI]', 'TOKEN-WEIGHTED KLD', 'SAME TOP-1', 'MEAN NLL'],
    r.divergence.map((d) => [
      `${d.variant + 1} ${label(r, d.variant)}`,
      d.method === 'full' ? 'full distributions' : 'top-k soft labels',
      String(d.examples),
      intervalText(d.kldInterval, 4),
      d.kld.toFixed(4),
      `${(100 * d.top1).toFixed(1)} %`,
      d.meanNll.toFixed(3),
    ]),
  );
}

function systems(r: EvalReport): string {
  const rows = r.systems.map((s) => [
    `${s.variant + 1} ${s.label}`,
    orNa(s.parameters, humanCount),
    orNa(s.fileBytes, humanBytes),
    orNa(s.bitsPerWeight, (x) => x.toFixed(2)),
    orNa(s.peakRssBytes, humanBytes),
    orNa(s.peakDeviceBytes, humanBytes),
    orNa(s.loadSeconds, (x) => x.toFixed(2)),
    orNa(s.ttftMs, (x) => x.toFixed(0)),
    orNa(s.promptTokensPerSecond, (x) => x.toFixed(0)),
    orNa(s.genTokensPerSecond, (x) => x.toFixed(1)),
    orNa(s.energyJoulesPerAnswer, (x) => x.toFixed(2)),
  ]);
  const notes = r.systems.flatMap((s) =>
    [s.note, s.energyJoulesPerAnswer === null && s.energyNote ? `energy: ${s.energyNote}` : null]
      .filter((n): n is string => Boolean(n))
      .map((n) => `  ${s.variant + 1} ${s.label}: ${n}`),
  );
  const head = ['SYSTEMS', 'PARAMS', 'FILE', 'BITS/W', 'PEAK RSS', 'PEAK DEVICE', 'LOAD S', 'TTFT MS', 'PROMPT T/S', 'GEN T/S', 'J/ANSWER'];
  return [table(head, rows), ...notes].join('\n');
}

function routing(r: EvalReport): string[] {
  return r.routing.map((x) => {
    const pct = (s: number) => `${(100 * s).toFixed(0)} %`;
    const parts = [
      `Routing ${label(r, x.variant)} → teacher on ${METRIC_INFO[x.metric].label} by ${x.confidence}: ` +
        `student ${fixed(x.studentScore, digits(x.metric))}, teacher ${fixed(x.teacherScore, digits(x.metric))}`,
      `APGR ${x.apgr === null ? 'n/a (no gap)' : x.apgr.toFixed(3)}`,
      `PGR ${x.pgrAt.pgr === null ? 'n/a' : x.pgrAt.pgr.toFixed(3)} at ${pct(x.pgrAt.share)} escalated`,
    ];
    if (x.reach) parts.push(`${pct(x.reach.target)} of the teacher's quality at ${pct(x.reach.share)} escalated`);
    return parts.join('; ');
  });
}

/** Contamination as one line: what was checked, what was flagged, and the flagged positions. */
export function contaminationLine(c: NonNullable<EvalReport['contamination']>): string {
  const shown = c.positions.slice(0, 50);
  const more = c.flagged > shown.length ? ` … (${c.flagged - shown.length} more)` : '';
  return (
    `Contamination (${c.n}-grams against ${c.against.join(', ')}): ${c.flagged} of ${c.checked} examples flagged` +
    (c.flagged ? `; positions ${shown.join(', ')}${more}` : '')
  );
}

/** The whole report as text. */
export function reportText(r: EvalReport, warnings: string[] = []): string {
  const out = [
    `Evaluation run ${r.runId} (${r.status}): ${r.dataset} ${r.split} split, ${r.examples} examples, scored against ${r.against === 'teacher' ? "the teacher's answers" : 'the references'}`,
    '',
    board(r.leaderboard, r.metrics),
  ];
  const diff = differences(r.leaderboard, r.metrics);
  if (diff) out.push('', diff);
  if (r.sentences.length || r.notes.length) out.push('', ...r.sentences, ...r.notes.map((n) => `Note: ${n}`));
  const div = divergence(r);
  if (div) out.push('', div);
  if (r.routing.length) out.push('', ...routing(r));
  if (r.contamination) {
    out.push('', contaminationLine(r.contamination));
    if (r.leaderboardClean) out.push('', 'Without the flagged examples:', board(r.leaderboardClean, r.metrics));
  }
  out.push('', systems(r));
  if (warnings.length) out.push('', 'Warnings:', ...warnings.map((w) => `  ${w}`));
  out.push('', `More: distillery evaluate report ${r.runId} --format md|csv|json [--out FILE]`);
  return out.join('\n');
}
