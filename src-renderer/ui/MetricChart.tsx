import type uPlot from 'uplot';
import { chartAxis as axis, useUPlot } from './useUPlot.js';

export interface Series {
  label: string;
  points: { x: number; y: number }[];
  color: string;
}

/** A small line chart (uPlot) of metric series sharing one x axis (e.g. repetitions). */
export function MetricChart({ series, xLabel, yLabel, height = 220 }: { series: Series[]; xLabel: string; yLabel: string; height?: number }) {
  const ref = useUPlot(
    () => {
      if (series.length === 0) return null;
      const xs = [...new Set(series.flatMap((s) => s.points.map((p) => p.x)))].sort((a, b) => a - b);
      const data: uPlot.AlignedData = [xs, ...series.map((s) => xs.map((x) => s.points.find((p) => p.x === x)?.y ?? null))];
      return {
        options: {
          scales: { x: { time: false } },
          axes: [
            { ...axis, label: xLabel, incrs: [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000] },
            { ...axis, label: yLabel },
          ],
          series: [{ label: xLabel }, ...series.map((s) => ({ label: s.label, stroke: s.color, width: 2, points: { show: true, size: 6 } }))],
        },
        data,
      };
    },
    height,
    [series, xLabel, yLabel],
  );
  return <div className="chart" ref={ref} />;
}
