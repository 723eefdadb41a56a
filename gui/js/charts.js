// The over-time views of a workflow: task counts by status group over its life (uPlot, from
// the server's buckets) and a Gantt-style timeline of the latest attempts on a time axis
// with the runs' boundaries. Both are bounded: at most 1,000 buckets, at most 200 lanes.
import { GROUPS, GROUP_NAMES } from "./statuses.js";

const COLOURS = {
  pending: "#999999", scheduled: "#56b4e9", running: "#0072b2", done: "#009e73", fatal: "#d55e00",
};
export const BUCKETS = 240;

// uPlot's columns: x (seconds), then one count series per status group.
export function historyColumns(history) {
  const xs = history.times.map((t) => Date.parse(t) / 1000);
  const byStatus = Object.fromEntries(history.series.map((s) => [s.status, s.counts]));
  const series = GROUP_NAMES.map((group) =>
    xs.map((_, i) => GROUPS[group].reduce((sum, s) => sum + (byStatus[s]?.[i] || 0), 0)),
  );
  return [xs, ...series];
}

function runLines(runs) {
  return {
    hooks: {
      draw: [
        (u) => {
          const { ctx } = u;
          ctx.save();
          ctx.strokeStyle = "#59636e";
          ctx.fillStyle = "#59636e";
          ctx.setLineDash([4, 3]);
          ctx.font = `${11 * devicePixelRatio}px system-ui`;
          for (const run of runs) {
            const x = u.valToPos(Date.parse(run.start) / 1000, "x", true);
            if (x < u.bbox.left || x > u.bbox.left + u.bbox.width) continue;
            ctx.beginPath();
            ctx.moveTo(x, u.bbox.top);
            ctx.lineTo(x, u.bbox.top + u.bbox.height);
            ctx.stroke();
            ctx.fillText(`run ${run.id}`, x + 3, u.bbox.top + 12 * devicePixelRatio);
          }
          ctx.restore();
        },
      ],
    },
  };
}

// Draw (or redraw in place) the history chart in `container`.
export function drawHistory(container, history) {
  if (!container || !window.uPlot) return null;
  const data = historyColumns(history);
  const width = Math.max(container.clientWidth, 200);
  if (container._plot && container._plot._runs === history.runs.length) {
    container._plot.setData(data);
    return container._plot;
  }
  if (container._plot) container._plot.destroy();
  const options = {
    width,
    height: 220,
    plugins: [runLines(history.runs)],
    scales: { x: { time: true } },
    axes: [{}, { size: 60 }],
    series: [
      {},
      ...GROUP_NAMES.map((group) => ({
        label: group, stroke: COLOURS[group], width: 2, points: { show: false },
      })),
    ],
  };
  const plot = new window.uPlot(options, data, container);
  plot._runs = history.runs.length;
  container._plot = plot;
  if (!container._resize) {
    container._resize = new ResizeObserver(() =>
      container._plot?.setSize({ width: Math.max(container.clientWidth, 200), height: 220 }),
    );
    container._resize.observe(container);
  }
  return plot;
}

// Lanes of the latest attempts (oldest at the top) on one time axis; bars are kept inside
// the track (an attempt at the very end is drawn, not pushed out at left: 100%).
export function timelineLayout(instances, runs, now = Date.now()) {
  const items = instances.filter((i) => i.started).reverse();
  if (!items.length) return { lanes: [], ticks: [], boundaries: [] };
  const from = (i) => Date.parse(i.started);
  const to = (i) => (i.finished ? Date.parse(i.finished) : now);
  const start = Math.min(...items.map(from));
  const end = Math.max(...items.map(to), start + 1000);
  const span = end - start;
  const at = (ms) => (100 * (ms - start)) / span;
  const lanes = items.map((i) => {
    const width = Math.max(at(to(i)) - at(from(i)), 0.4);
    const left = Math.min(Math.max(at(from(i)), 0), 100 - width);
    return { ...i, left, width, seconds: (to(i) - from(i)) / 1000 };
  });
  // Short spans need seconds' fractions to tell the ticks apart.
  const label = (ms) =>
    span < 10_000
      ? `${new Date(ms).toLocaleTimeString([], { minute: "2-digit", second: "2-digit" })}.${String(Math.floor((ms % 1000) / 100))}`
      : new Date(ms).toLocaleTimeString();
  const ticks = [0, 0.25, 0.5, 0.75, 1].map((f) => ({ left: f * 100, label: label(start + f * span) }));
  const boundaries = runs
    .map((r) => ({ id: r.id, left: at(Date.parse(r.created)) }))
    .filter((b) => b.left >= 0 && b.left <= 100);
  return { lanes, ticks, boundaries, start, end };
}
