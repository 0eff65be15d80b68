import { useEffect, useRef } from 'react';
import uPlot from 'uplot';

export interface Series {
  label: string;
  points: { x: number; y: number }[];
  color: string;
}

/** A small line chart (uPlot) of metric series sharing one x axis (e.g. repetitions). */
export function MetricChart({ series, xLabel, yLabel, height = 220 }: { series: Series[]; xLabel: string; yLabel: string; height?: number }) {
  const ref = useRef<HTMLDivElement>(null);
  useEffect(() => {
    const el = ref.current;
    if (!el || series.length === 0) return;
    const xs = [...new Set(series.flatMap((s) => s.points.map((p) => p.x)))].sort((a, b) => a - b);
    const data: uPlot.AlignedData = [
      xs,
      ...series.map((s) => xs.map((x) => s.points.find((p) => p.x === x)?.y ?? null)),
    ];
    const axis = { stroke: '#9aa4ad', grid: { stroke: '#262c33' }, ticks: { stroke: '#262c33' } };
    const plot = new uPlot(
      {
        width: Math.max(320, el.clientWidth),
        height,
        scales: { x: { time: false } },
        axes: [
          { ...axis, label: xLabel, incrs: [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000] },
          { ...axis, label: yLabel },
        ],
        series: [{ label: xLabel }, ...series.map((s) => ({ label: s.label, stroke: s.color, width: 2, points: { show: true, size: 6 } }))],
      },
      data,
      el,
    );
    const resize = new ResizeObserver(() => plot.setSize({ width: Math.max(320, el.clientWidth), height }));
    resize.observe(el);
    return () => {
      resize.disconnect();
      plot.destroy();
    };
  }, [series, xLabel, yLabel, height]);
  return <div className="chart" ref={ref} />;
}
