import type uPlot from 'uplot';
import type { RoutingReport } from '../../../src-shared/domain/evaluate.js';
import { chartAxis as axis, useUPlot } from '../../ui/useUPlot.js';

/** A bar of a category chart: its label, height and colour, and optionally an interval drawn as a whisker. */
export interface Bar {
  label: string;
  value: number;
  color: string;
  low?: number;
  high?: number;
  /** Drawn with a hatched outline (e.g. the teacher). */
  outlined?: boolean;
}

/**
 * Bars by category (uPlot canvas; the bars, whiskers and values drawn in its draw hook), on a y axis from 0 to `yMax`.
 * A bar with `low`/`high` gets a whisker with caps: the leaderboard's 95% intervals.
 */
export function BarChart({
  bars,
  yMax,
  yLabel,
  format,
  testId,
  height = 260,
  showValues = true,
  hideZero = false,
  xLabel,
}: {
  bars: Bar[];
  yMax: number;
  yLabel: string;
  format: (v: number) => string;
  testId: string;
  height?: number;
  showValues?: boolean;
  /** No value over an empty bar (a histogram's empty bins). */
  hideZero?: boolean;
  xLabel?: string;
}) {
  const key = JSON.stringify([bars, yMax, yLabel, xLabel, hideZero]);
  const ref = useUPlot(
    () => {
      if (bars.length === 0) return null;
      const xs = bars.map((_, i) => i);
      const draw = (u: uPlot) => {
        const ctx = u.ctx;
        const dpr = devicePixelRatio;
        const slot = Math.abs(u.valToPos(1, 'x', true) - u.valToPos(0, 'x', true));
        const w = Math.min(slot * 0.62, 90 * dpr);
        const y0 = u.valToPos(0, 'y', true);
        ctx.save();
        ctx.font = `${11 * dpr}px sans-serif`;
        ctx.textAlign = 'center';
        bars.forEach((b, i) => {
          const cx = u.valToPos(i, 'x', true);
          const top = u.valToPos(b.value, 'y', true);
          ctx.fillStyle = b.color;
          ctx.globalAlpha = b.outlined ? 0.55 : 0.85;
          ctx.fillRect(cx - w / 2, Math.min(top, y0), w, Math.max(1, Math.abs(y0 - top)));
          ctx.globalAlpha = 1;
          if (b.outlined) {
            ctx.strokeStyle = b.color;
            ctx.lineWidth = 1.5 * dpr;
            ctx.setLineDash([5 * dpr, 3 * dpr]);
            ctx.strokeRect(cx - w / 2, Math.min(top, y0), w, Math.max(1, Math.abs(y0 - top)));
            ctx.setLineDash([]);
          }
          let labelY = top;
          if (b.low !== undefined && b.high !== undefined) {
            const lo = u.valToPos(b.low, 'y', true);
            const hi = u.valToPos(b.high, 'y', true);
            const cap = Math.min(w * 0.3, 10 * dpr);
            ctx.strokeStyle = '#e8edf2';
            ctx.lineWidth = 1.5 * dpr;
            ctx.beginPath();
            ctx.moveTo(cx, lo);
            ctx.lineTo(cx, hi);
            ctx.moveTo(cx - cap, lo);
            ctx.lineTo(cx + cap, lo);
            ctx.moveTo(cx - cap, hi);
            ctx.lineTo(cx + cap, hi);
            ctx.stroke();
            labelY = Math.min(labelY, hi);
          }
          if (showValues && !(hideZero && b.value === 0)) {
            ctx.fillStyle = '#d8dee4';
            ctx.textBaseline = 'bottom';
            ctx.fillText(format(b.value), cx, labelY - 4 * dpr);
          }
        });
        ctx.restore();
      };
      return {
        options: {
          scales: { x: { time: false, range: () => [-0.6, bars.length - 0.4] }, y: { range: () => [0, yMax] } },
          axes: [
            {
              ...axis,
              ...(xLabel ? { label: xLabel } : {}),
              splits: () => xs,
              // every k-th label when they would not fit (a histogram's 20 bins on a narrow chart)
              values: (u: uPlot, splits: number[]) => {
                const fit = Math.max(1, Math.floor(u.bbox.width / devicePixelRatio / 64));
                const step = Math.ceil(bars.length / fit);
                return splits.map((s) => (s % step === 0 ? (bars[s]?.label ?? '') : ''));
              },
              grid: { show: false },
            },
            { ...axis, label: yLabel, size: 60, values: (_u: uPlot, vals: number[]) => vals.map((v) => format(v)) },
          ],
          series: [{}, { label: yLabel, paths: () => null, points: { show: false } }],
          legend: { show: false },
          cursor: { show: false },
          hooks: { draw: [draw] },
        },
        data: [xs, bars.map((b) => b.value)] as uPlot.AlignedData,
      };
    },
    height,
    [key],
  );
  return <div className="chart bar-chart" ref={ref} data-testid={testId} />;
}

const ROUTER = '#4fb3ff';
const STUDENT = '#f2a33a';
const TEACHER = '#7bd88f';

/**
 * The routing curve: quality against the share of queries escalated to the teacher (0: the student answers all, 1: the
 * teacher does), with the student's and teacher's own levels as dashed lines, the chosen share's point and the point
 * that reaches the target share of the teacher's quality ringed.
 */
export function RoutingChart({ r, format, metricLabel, testId }: { r: RoutingReport; format: (v: number) => string; metricLabel: string; testId: string }) {
  const key = JSON.stringify(r);
  const ref = useUPlot(
    () => {
      // one point per share (the last threshold of a share wins), ascending, as uPlot wants its x
      const byShare = new Map<number, number>();
      for (const p of [...r.curve].sort((a, b) => a.share - b.share)) byShare.set(p.share, p.quality);
      const xs = [...byShare.keys()];
      if (xs.length === 0) return null;
      const ys = xs.map((x) => byShare.get(x)!);
      const all = [...ys, r.studentScore, r.teacherScore].filter(Number.isFinite);
      const lo = Math.min(...all);
      const hi = Math.max(...all);
      const pad = (hi - lo) * 0.15 || Math.abs(hi) * 0.1 || 0.1;
      const marks = (u: uPlot) => {
        const ctx = u.ctx;
        const dpr = devicePixelRatio;
        ctx.save();
        const ring = (share: number, color: string, text: string) => {
          const q = ys[xs.findIndex((x) => x >= share)] ?? ys.at(-1)!;
          const cx = u.valToPos(share, 'x', true);
          const cy = u.valToPos(q, 'y', true);
          ctx.strokeStyle = color;
          ctx.lineWidth = 2 * dpr;
          ctx.setLineDash([]); // the dashed level lines leave their dash on the context
          ctx.beginPath();
          ctx.arc(cx, cy, 7 * dpr, 0, 2 * Math.PI);
          ctx.stroke();
          ctx.font = `${11 * dpr}px sans-serif`;
          ctx.textBaseline = 'top';
          // below and right of the point, on the chart's background so the curve does not run through the words
          const tw = ctx.measureText(text).width;
          const tx = Math.min(cx + 9 * dpr, u.bbox.left + u.bbox.width - tw - 4 * dpr);
          ctx.fillStyle = 'rgba(23, 27, 32, 0.85)';
          ctx.fillRect(tx - 3 * dpr, cy + 9 * dpr, tw + 6 * dpr, 15 * dpr);
          ctx.fillStyle = color;
          ctx.fillText(text, tx, cy + 11 * dpr);
        };
        if (r.pgrAt.pgr !== null) ring(r.pgrAt.share, '#f2a33a', `PGR ${r.pgrAt.pgr.toFixed(2)} at ${(100 * r.pgrAt.share).toFixed(0)}%`);
        if (r.reach) ring(r.reach.share, '#c678dd', `${(100 * r.reach.target).toFixed(0)}% of teacher at ${(100 * r.reach.share).toFixed(0)}%`);
        ctx.restore();
      };
      return {
        options: {
          scales: { x: { time: false, range: () => [0, 1] }, y: { range: () => [lo - pad, hi + pad] } },
          axes: [
            { ...axis, label: 'share of queries escalated to the teacher', values: (_u: uPlot, v: number[]) => v.map((x) => `${Math.round(100 * x)}%`) },
            { ...axis, label: metricLabel, size: 60, values: (_u: uPlot, v: number[]) => v.map((x) => format(x)) },
          ],
          series: [
            { label: 'escalated', value: (_u: uPlot, v: number | null) => (v === null ? '—' : `${(100 * v).toFixed(1)}%`) },
            {
              label: 'router',
              stroke: ROUTER,
              width: 2,
              points: { show: xs.length <= 60, size: 5 },
              value: (_u: uPlot, v: number | null) => (v === null ? '—' : format(v)),
            },
            { label: 'student alone', stroke: STUDENT, width: 1.5, dash: [6, 4], points: { show: false }, value: () => format(r.studentScore) },
            { label: 'teacher alone', stroke: TEACHER, width: 1.5, dash: [6, 4], points: { show: false }, value: () => format(r.teacherScore) },
          ],
          legend: { live: false },
          hooks: { draw: [marks] },
        },
        data: [xs, ys, xs.map(() => r.studentScore), xs.map(() => r.teacherScore)] as uPlot.AlignedData,
      };
    },
    280,
    [key],
  );
  return <div className="chart routing-chart" ref={ref} data-testid={testId} />;
}
