import { useEffect, useRef } from 'preact/hooks';
import uPlot from 'uplot';
import type { TimelineBucket } from './types.js';

const SERIES = [
  { key: 'sent', label: 'Sent', stroke: '#3558d4' },
  { key: 'viewed', label: 'Viewed', stroke: '#1f8a5b' },
  { key: 'clicked', label: 'Clicked', stroke: '#c2410c' },
  { key: 'conversions', label: 'Conversions', stroke: '#7c3aed' },
] as const;

/**
 * The campaign's figures over time (uPlot: a canvas, ~20 KB gzipped, made for time series).
 * The buckets come from GET /campaigns/{id}/timeline: hours first, then days; each point sits at
 * its bucket's start. The same figures are in the runs table for a screen reader.
 */
export function TimelinePlot({ buckets, timezone }: { buckets: TimelineBucket[]; timezone: string }) {
  const container = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | null>(null);
  // The page polls every few seconds: redraw only when a figure changed, not on every answer.
  const signature = buckets
    .map(
      (bucket) => `${bucket.start}:${bucket.sent}:${bucket.viewed}:${bucket.clicked}:${bucket.conversions}`,
    )
    .join('|');
  const latest = useRef(buckets);
  latest.current = buckets;

  useEffect(() => {
    const element = container.current;
    if (!element) return;
    const buckets = latest.current;
    const xs = buckets.map((bucket) => new Date(bucket.start).getTime() / 1000);
    const data: uPlot.AlignedData = [
      xs,
      ...SERIES.map((series) => buckets.map((bucket) => bucket[series.key])),
    ];
    const width = Math.max(320, element.clientWidth || 640);
    // The x range from the buckets themselves: one bucket would otherwise stretch the axis over
    // years; half an hour either side keeps a lone point readable.
    const first = xs[0] ?? Date.now() / 1000;
    const last = xs.at(-1) ?? first;
    const pad = Math.max(1800, (last - first) * 0.02);
    // Recreated on new data (a few buckets, cheap): uPlot keeps its first x range across setData.
    plot.current?.destroy();
    plot.current = new uPlot(
      {
        width,
        height: 260,
        tzDate: (ts) => uPlot.tzDate(new Date(ts * 1000), timezone),
        series: [
          { label: 'Time' },
          ...SERIES.map((series) => ({
            label: series.label,
            stroke: series.stroke,
            width: 2,
            points: { show: buckets.length < 60 },
          })),
        ],
        axes: [{}, { label: 'Count', size: 60 }],
        scales: { x: { time: true, range: () => [first - pad, last + pad] } },
      },
      data,
      element,
    );
  }, [signature, timezone]);

  useEffect(() => {
    const element = container.current;
    if (!element || typeof ResizeObserver === 'undefined') return;
    const observer = new ResizeObserver(() => {
      if (plot.current && element.clientWidth > 0)
        plot.current.setSize({ width: element.clientWidth, height: 260 });
    });
    observer.observe(element);
    return () => {
      observer.disconnect();
      plot.current?.destroy();
      plot.current = null;
    };
  }, []);

  const total = (key: (typeof SERIES)[number]['key']) =>
    buckets.reduce((sum, bucket) => sum + bucket[key], 0);
  return (
    <figure class="plot">
      <div
        ref={container}
        role="img"
        aria-label={`Over time (${timezone}): ${SERIES.map((series) => `${series.label} ${total(series.key)}`).join(', ')}`}
        data-points={buckets.length}
      />
      <figcaption>
        {buckets.length === 0
          ? 'Nothing sent yet.'
          : `${buckets.length} ${buckets.length === 1 ? 'bucket' : 'buckets'} (hours, then days), in ${timezone}.`}
      </figcaption>
    </figure>
  );
}
