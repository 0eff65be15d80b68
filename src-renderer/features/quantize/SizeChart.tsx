import type uPlot from 'uplot';
import { chartAxis as axis, useUPlot } from '../../ui/useUPlot.js';

/** A point of a size chart: a type's file size (bytes) and a figure, labelled with the type's name. */
export interface SizePoint {
  type: string;
  bytes: number;
  y: number;
}

export interface SizeSeries {
  label: string;
  color: string;
  points: SizePoint[];
  /** Types joined by a line (e.g. the Pareto front), drawn in the series' colour, named `lineLabel`. */
  line?: string[];
  lineLabel?: string;
}

const MB = 1e6;

/**
 * Figures (y) against file size (x, MB) as labelled points, one colour per series, optionally a line through some of
 * them (the Pareto front) and a ring round one (the picked type). A y axis whose figures are all positive and span more
 * than a decade is logarithmic (KLDs do: 0.001 for Q8_0, 0.5 for Q2_K).
 */
export function SizeChart({
  series,
  yLabel,
  highlight,
  format,
  testId,
  height = 280,
}: {
  series: SizeSeries[];
  yLabel: string;
  highlight?: { bytes: number; y: number } | null;
  format: (v: number) => string;
  testId: string;
  height?: number;
}) {
  const key = JSON.stringify([series, highlight, yLabel]);
  const ref = useUPlot(
    () => {
      const all = series.flatMap((s) => s.points);
      if (all.length === 0) return null;
      const xs = [...new Set(all.map((p) => p.bytes / MB))].sort((a, b) => a - b);
      const col = (pts: SizePoint[]) => xs.map((x) => pts.find((p) => p.bytes / MB === x)?.y ?? null);
      const data: uPlot.AlignedData = [xs];
      const uSeries: uPlot.Series[] = [{ label: 'size (MB)', value: (_u, v) => (v === null ? '—' : `${v.toFixed(2)} MB`) }];
      series.forEach((s, i) => {
        data.push(col(s.points));
        uSeries.push({
          label: s.label,
          stroke: s.color,
          paths: () => null,
          // the first series as dots, the others as rings round them: equal figures of two ladders stay both visible
          points:
            i === 0 ? { show: true, size: 9, fill: s.color, stroke: s.color } : { show: true, size: 15, width: 2, fill: 'rgba(0,0,0,0)', stroke: s.color },
          value: (_u, v) => (v === null ? '—' : format(v)),
        });
        if (s.line && s.line.length > 1) {
          data.push(col(s.points.filter((p) => s.line!.includes(p.type))));
          uSeries.push({ label: s.lineLabel ?? 'Pareto front', stroke: s.color, width: 1.5, dash: [6, 4], spanGaps: true, points: { show: false } });
        }
      });
      const ys = all.map((p) => p.y);
      const log = ys.every((y) => y > 0) && Math.max(...ys) / Math.min(...ys) > 10;
      const xMin = Math.min(...xs);
      const xMax = Math.max(...xs);
      const pad = (xMax - xMin) * 0.08 || xMax * 0.1 || 1;
      const labels = (u: uPlot) => {
        const ctx = u.ctx;
        ctx.save();
        ctx.font = `${11 * devicePixelRatio}px sans-serif`;
        ctx.textBaseline = 'bottom';
        // a type's name once where two series' points of it fall together
        const drawn: { type: string; x: number; y: number }[] = [];
        const near = 14 * devicePixelRatio;
        for (const s of series) {
          ctx.fillStyle = s.color;
          for (const p of s.points) {
            const cx = u.valToPos(p.bytes / MB, 'x', true);
            const cy = u.valToPos(p.y, 'y', true);
            if (drawn.some((d) => d.type === p.type && Math.hypot(d.x - cx, d.y - cy) < near)) continue;
            drawn.push({ type: p.type, x: cx, y: cy });
            ctx.fillText(p.type, cx + 11 * devicePixelRatio, cy - 6 * devicePixelRatio);
          }
        }
        if (highlight) {
          ctx.strokeStyle = '#f2a33a';
          ctx.lineWidth = 2.5 * devicePixelRatio;
          ctx.beginPath();
          ctx.arc(u.valToPos(highlight.bytes / MB, 'x', true), u.valToPos(highlight.y, 'y', true), 9 * devicePixelRatio, 0, 2 * Math.PI);
          ctx.stroke();
        }
        ctx.restore();
      };
      return {
        options: {
          scales: {
            x: { time: false, range: () => [Math.max(0, xMin - pad), xMax + pad * 2] },
            y: log ? { distr: 3, log: 10, range: (_u, lo, hi) => [lo / 2, hi * 3] } : { range: (_u, lo, hi) => [Math.min(0, lo), hi + (hi - lo) * 0.25 || 1] },
          },
          axes: [
            { ...axis, label: 'file size (MB)' },
            { ...axis, label: yLabel, size: 70, values: (_u, vals) => vals.map((v) => (v === null || v === undefined ? '' : format(v))) },
          ],
          series: uSeries,
          legend: { live: false },
          hooks: { draw: [labels] },
        },
        data,
      };
    },
    height,
    [key],
  );
  return <div className="chart size-chart" ref={ref} data-testid={testId} />;
}
