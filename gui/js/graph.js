// The dependency graph (Cytoscape): of tasks when the workflow is small enough to draw, of
// templates otherwise. Its height follows the graph's depth; zoom is capped so that one
// node is not drawn as one huge circle. A template node filters the task table.
import { groupCounts, groupTotal, statusClass } from "./statuses.js";

export const TASK_GRAPH_LIMIT = 200;

const STYLE = [
  {
    selector: "node",
    style: {
      label: "data(label)", "font-size": 10, "text-valign": "bottom", "text-margin-y": 4,
      "background-color": "#999999", width: 18, height: 18,
    },
  },
  { selector: "node.scheduled", style: { "background-color": "#56b4e9" } },
  { selector: "node.running", style: { "background-color": "#0072b2" } },
  { selector: "node.done", style: { "background-color": "#009e73" } },
  { selector: "node.fatal", style: { "background-color": "#d55e00", shape: "diamond" } },
  { selector: "node.template", style: { shape: "round-rectangle", width: 26, height: 18 } },
  {
    selector: "edge",
    style: {
      width: 1.5, "line-color": "#b0b8c1", "target-arrow-color": "#b0b8c1",
      "target-arrow-shape": "triangle", "curve-style": "bezier", label: "data(label)",
      "font-size": 9,
    },
  },
];

export function templateNodes(templates) {
  return templates.map((t) => {
    const c = groupCounts(t.taskCounts);
    const worst = c.fatal ? "fatal" : c.running ? "running" : c.pending || c.scheduled ? "pending" : "done";
    return {
      data: {
        id: t.templateName, template: t.templateName,
        label: `${t.templateName} (${c.done}/${groupTotal(t.taskCounts)} done)`,
      },
      classes: `${worst} template`,
    };
  });
}

export function taskNodes(tasks) {
  return tasks.map((t) => ({
    data: { id: `t${t.id}`, label: t.name, href: `#/task/${t.id}` },
    classes: statusClass(t.status),
  }));
}

function depth(nodes, edges) {
  const incoming = new Map(nodes.map((n) => [n.data.id, []]));
  for (const e of edges) incoming.get(e.data.target)?.push(e.data.source);
  const memo = new Map();
  const level = (id, seen = new Set()) => {
    if (memo.has(id)) return memo.get(id);
    if (seen.has(id)) return 0;
    seen.add(id);
    const value = 1 + Math.max(0, ...(incoming.get(id) || []).map((s) => level(s, seen)));
    memo.set(id, value);
    return value;
  };
  return Math.max(1, ...nodes.map((n) => level(n.data.id)));
}

export function drawGraph(container, nodes, edges, onTemplate) {
  if (!container || !window.cytoscape) return;
  const levels = depth(nodes, edges);
  container.style.height = `${Math.min(Math.max(120, 70 * levels + 40), 560)}px`;
  if (container._cy) container._cy.destroy();
  const cy = window.cytoscape({
    container,
    elements: [...nodes, ...edges],
    layout: { name: "breadthfirst", directed: true, spacingFactor: 1.1, padding: 20 },
    style: STYLE,
    maxZoom: 1.6,
  });
  cy.on("tap", "node", (event) => {
    const href = event.target.data("href");
    const template = event.target.data("template");
    if (href) location.hash = href;
    else if (template) onTemplate(template);
  });
  container._cy = cy;
}

export function recolour(container, nodes) {
  const cy = container?._cy;
  if (!cy) return;
  for (const node of nodes) {
    const element = cy.getElementById(node.data.id);
    if (!element.length) continue;
    element.classes(node.classes);
    if (node.data.label) element.data("label", node.data.label);
  }
}
