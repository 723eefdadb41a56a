// How values read on the page.
export function time(value) {
  return value ? new Date(value).toLocaleString() : "";
}

export function clock(value) {
  return value ? new Date(value).toLocaleTimeString() : "";
}

export function size(bytes) {
  if (bytes == null) return "–";
  const units = ["B", "K", "M", "G", "T"];
  let i = 0;
  while (bytes >= 1024 && i < units.length - 1) {
    bytes /= 1024;
    i += 1;
  }
  return `${bytes.toFixed(i ? 1 : 0)}${units[i]}`;
}

export function seconds(value) {
  if (value == null) return "–";
  if (value < 0.1 && value > 0) return `${Math.round(value * 1000)}ms`;
  if (value < 60) return `${value.toFixed(1)}s`;
  const minutes = Math.floor(value / 60);
  return minutes < 60 ? `${minutes}m ${Math.round(value % 60)}s` : `${(minutes / 60).toFixed(1)}h`;
}

export function asked(resources) {
  return Object.entries(resources || {})
    .map(([key, value]) => `${key}=${value}`)
    .join(" ");
}

// The last lines of a message: where a traceback says what went wrong.
export function lastLines(text, lines = 6) {
  const all = (text || "").trimEnd().split("\n");
  return all.slice(-lines).join("\n");
}

export function lastLine(text) {
  return lastLines(text, 1);
}

// Keep a scrolled box of text at its end once drawn (the end of an error is what matters).
export function showEnd(element) {
  requestAnimationFrame(() => {
    element.scrollTop = element.scrollHeight;
  });
}

export const formatting = { time, clock, size, seconds, asked, lastLines, lastLine, showEnd };
