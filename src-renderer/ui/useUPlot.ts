import { useEffect, useRef, type DependencyList } from 'react';
import uPlot from 'uplot';

/** The axes' colours on the dark theme, shared by every chart. */
export const chartAxis = { stroke: '#9aa4ad', grid: { stroke: '#262c33' }, ticks: { stroke: '#262c33' } };

/**
 * A uPlot chart in the returned element: `make` gives its options (without size) and data, or null to draw nothing.
 * Redrawn when `deps` change; as wide as its element (at least 320 px) and `height` tall, resized with it.
 */
export function useUPlot(
  make: () => { options: Omit<uPlot.Options, 'width' | 'height'>; data: uPlot.AlignedData } | null,
  height: number,
  deps: DependencyList,
) {
  const ref = useRef<HTMLDivElement>(null);
  useEffect(() => {
    const el = ref.current;
    if (!el) return;
    const chart = make();
    if (!chart) return;
    const plot = new uPlot({ ...chart.options, width: Math.max(320, el.clientWidth), height }, chart.data, el);
    const resize = new ResizeObserver(() => plot.setSize({ width: Math.max(320, el.clientWidth), height }));
    resize.observe(el);
    return () => {
      resize.disconnect();
      plot.destroy();
    };
    // `make` is rebuilt each render; the caller's deps say when the chart changes
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [...deps, height]);
  return ref;
}
