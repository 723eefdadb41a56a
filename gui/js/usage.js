// Requested against used, on one scale: the request as an outlined bar (a tick where the
// smallest request ends when they differ), the median use filled, the largest use a mark.
import { seconds, size } from "./format.js";

export function usageChart(t, kind) {
  if (!t) return { asked: 0, askedMin: null, median: 0, max: null, label: "…", over: false };
  const unit = kind === "memory" ? "memoryBytes" : "runtimeSeconds";
  const show = kind === "memory" ? size : seconds;
  const asked = t.requested[unit];
  const used = t.resourceUsage[unit];
  const top = Math.max(asked.max || 0, used.max || 0);
  const at = (value) => (top && value != null ? (100 * value) / top : 0);
  const words = [];
  if (used.median != null) words.push(`used ${show(used.median)} median, ${show(used.max)} max`);
  else if (t.resourceUsage.numInstances) words.push("use not measured");
  if (asked.max != null) {
    const range = asked.min !== asked.max ? `${show(asked.min)}–${show(asked.max)}` : show(asked.max);
    words.push(`asked ${range}`);
  }
  return {
    asked: at(asked.max),
    askedMin: asked.min !== asked.max ? at(asked.min) : null,
    median: at(used.median),
    max: used.max != null ? at(used.max) : null,
    label: words.join("; ") || "nothing yet",
    over: asked.max != null && used.max != null && used.max > asked.max,
  };
}
