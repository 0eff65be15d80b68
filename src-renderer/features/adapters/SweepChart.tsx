import type uPlot from 'uplot';
import type { SweepPoint } from '../../../src-shared/domain/adapters.js';
import { chartAxis as axis, useUPlot } from '../../ui/useUPlot.js';

/**
 * Perplexity (y) against scale (x): a line with points and ± stderr whiskers (uPlot). Redrawn when points arrive;
 * `planned` scales fix the x range from the start, so the chart does not jump as the sweep goes.
 */
export function SweepChart({ points, planned, height = 260 }: { points: SweepPoint[]; planned: number[]; height?: number }) {
  const ref = useUPlot(
    () => {
      const xs = points.map((p) => p.scale);
      const ys = points.map((p) => p.ppl);
      const errs = points.map((p) => p.stderr);
      const allX = [...planned, ...xs];
      const xMin = Math.min(...allX);
      const xMax = Math.max(...allX);
      const pad = (xMax - xMin) * 0.05 || 0.5;
      const whiskers = (u: uPlot) => {
        const ctx = u.ctx;
        ctx.save();
        ctx.strokeStyle = 'rgba(79, 179, 255, 0.7)';
        ctx.lineWidth = 1.5 * devicePixelRatio;
        const cap = 4 * devicePixelRatio;
        xs.forEach((x, i) => {
          const e = errs[i]!;
          if (!(e > 0)) return;
          const cx = u.valToPos(x, 'x', true);
          const top = u.valToPos(ys[i]! + e, 'y', true);
          const bottom = u.valToPos(ys[i]! - e, 'y', true);
          ctx.beginPath();
          ctx.moveTo(cx, top);
          ctx.lineTo(cx, bottom);
          ctx.moveTo(cx - cap, top);
          ctx.lineTo(cx + cap, top);
          ctx.moveTo(cx - cap, bottom);
          ctx.lineTo(cx + cap, bottom);
          ctx.stroke();
        });
        ctx.restore();
      };
      const lo = Math.min(...ys.map((y, i) => y - errs[i]!));
      const hi = Math.max(...ys.map((y, i) => y + errs[i]!));
      const span = hi - lo || Math.abs(hi) * 0.1 || 1;
      return {
        options: {
          scales: {
            x: { time: false, range: () => [xMin - pad, xMax + pad] },
            y: { range: () => (ys.length ? [lo - span * 0.1, hi + span * 0.1] : [0, 1]) },
          },
          axes: [
            { ...axis, label: 'scale' },
            // wide enough for the longest tick label plus the axis label (perplexities can run to 6 digits and more)
            { ...axis, label: 'perplexity', size: (_u, values) => 34 + 7.5 * Math.max(4, ...(values ?? []).map((v) => String(v).length)) },
          ],
          series: [
            { label: 'scale', value: (_u, v) => (v === null ? '—' : String(v)) },
            {
              label: 'perplexity',
              stroke: '#4fb3ff',
              width: 2,
              points: { show: true, size: 8, fill: '#4fb3ff' },
              value: (_u, v) => (v === null ? '—' : v.toFixed(3)),
            },
          ],
          legend: { show: false },
          hooks: { draw: [whiskers] },
        },
        data: [xs, ys],
      };
    },
    height,
    [points, planned],
  );
  return <div className="chart sweep-chart" ref={ref} data-testid="sweep-chart" />;
}
