// uPlot wrappers: time series (optionally zoomable into a new time range) and bar histograms.
import uPlot from 'uplot';
import { useEffect, useRef } from 'preact/hooks';
import { useClock } from './data';

export interface SeriesSpec {
  label: string;
  color: string;
  fmt?: (v: number | null) => string;
  bars?: boolean;
}

function themeColor(name: string): string {
  return getComputedStyle(document.documentElement).getPropertyValue(name).trim() || '#888';
}

export function TimeChart({ x, ys, series, height = 220, onZoom, label, yFmt }: {
  x: number[]; // epoch seconds
  ys: (number | null)[][];
  series: SeriesSpec[];
  height?: number;
  onZoom?: (fromSec: number, toSec: number) => void;
  label: string;
  yFmt?: (v: number) => string;
}) {
  const el = useRef<HTMLDivElement>(null);
  // The x axis spans the chosen time range, not just the buckets that have data.
  const { range } = useClock();
  const xMin = range.from / 1000;
  const xMax = range.to / 1000;
  useEffect(() => {
    const node = el.current!;
    const axis = themeColor('--muted');
    const grid = themeColor('--grid');
    const opts: uPlot.Options = {
      width: Math.max(300, node.clientWidth),
      height,
      cursor: { drag: { x: !!onZoom, y: false } },
      legend: { show: true },
      scales: { x: { time: true, range: () => [xMin, xMax] } },
      axes: [
        { stroke: axis, grid: { stroke: grid } },
        { stroke: axis, grid: { stroke: grid }, size: 60, values: yFmt ? (_u, vs) => vs.map((v) => yFmt(v)) : undefined },
      ],
      series: [
        {},
        ...series.map((s) => ({
          label: s.label,
          stroke: s.color,
          width: 2,
          fill: s.bars ? s.color + '55' : undefined,
          paths: s.bars ? uPlot.paths.bars!({ size: [0.8, 40] }) : undefined,
          value: s.fmt ? (_u: uPlot, v: number | null) => s.fmt!(v) : undefined,
          spanGaps: false,
        })),
      ],
      hooks: onZoom
        ? {
            setSelect: [
              (u) => {
                if (u.select.width < 5) return;
                const a = u.posToVal(u.select.left, 'x');
                const b = u.posToVal(u.select.left + u.select.width, 'x');
                onZoom(a, b);
              },
            ],
          }
        : {},
    };
    const plot = new uPlot(opts, [x, ...ys] as uPlot.AlignedData, node);
    const ro = new ResizeObserver(() => plot.setSize({ width: Math.max(300, node.clientWidth), height }));
    ro.observe(node);
    return () => {
      ro.disconnect();
      plot.destroy();
    };
  }, [JSON.stringify([x, ys]), series.map((s) => s.label).join(), xMin, xMax]);
  return <div class="chart" ref={el} role="img" aria-label={label} />;
}

/** A histogram: Value (x) against Count as bars. */
export function HistogramChart({ points, label, xFmt, height = 160 }: { points: { Value: number; Count: number }[]; label: string; xFmt: (v: number) => string; height?: number }) {
  const el = useRef<HTMLDivElement>(null);
  useEffect(() => {
    const node = el.current!;
    const sorted = [...points].sort((a, b) => a.Value - b.Value);
    const axis = themeColor('--muted');
    const plot = new uPlot(
      {
        width: Math.max(240, node.clientWidth),
        height,
        legend: { show: false },
        scales: { x: { time: false } },
        axes: [
          { stroke: axis, values: (_u, vs) => vs.map((v) => xFmt(v)) },
          { stroke: axis, size: 50 },
        ],
        series: [{}, { label: 'Count', stroke: themeColor('--accent'), fill: themeColor('--accent') + '66', paths: uPlot.paths.bars!({ size: [0.9, 30] }) }],
      },
      [sorted.map((p) => p.Value), sorted.map((p) => p.Count)],
      node,
    );
    return () => plot.destroy();
  }, [JSON.stringify(points)]);
  return <div class="chart" ref={el} role="img" aria-label={label} />;
}
