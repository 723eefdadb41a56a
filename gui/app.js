// The dashboard: workflows, one workflow, one task. Each page has a URL of its own
// (#/workflows?..., #/workflow/ID, #/task/ID) and updates in place from a subscription.
import { NeedsToken, query, setToken, subscribe } from "./graphql.js";

const GROUPS = {
  pending: ["REGISTERING", "QUEUED", "ERROR_RECOVERABLE", "ADJUSTING_RESOURCES"],
  scheduled: ["INSTANTIATING", "LAUNCHED"],
  running: ["RUNNING"],
  done: ["DONE"],
  fatal: ["ERROR_FATAL"],
};
const PAGE = 25;
const REFRESH_MS = 300; // events arriving together cause one refresh

const COUNTS = "taskCounts { status count }";
const WORKFLOWS = `
query Workflows(
  $users: [String!], $statuses: [WorkflowStatus!], $name: String, $tools: [String!],
  $createdAfter: DateTime, $createdBefore: DateTime, $first: Int!, $after: String
) {
  lastEventCursor
  workflows(
    users: $users, statuses: $statuses, nameContains: $name, tools: $tools,
    createdAfter: $createdAfter, createdBefore: $createdBefore, first: $first, after: $after
  ) {
    items {
      id name user toolName status totalTasks created ${COUNTS} latestRun { id status created }
    }
    endCursor hasNextPage
  }
}`;
const WORKFLOW = `
query Workflow($id: Int!) {
  lastEventCursor
  workflow(id: $id) {
    __typename
    ... on Workflow {
      id name user toolName status description totalTasks created statusDate maxConcurrentlyRunning attributes
      ${COUNTS}
      runs(first: 20) { items { id status user created statusDate } }
      templates {
        templateName clusterName maxConcurrentlyRunning ${COUNTS}
        resourceUsage { numInstances memoryBytes { median max } runtimeSeconds { median max } }
        requested { memoryBytes { min max } runtimeSeconds { min max } }
      }
      errorGroups(first: 20) { signature pattern example count taskCount exampleTaskIds latest }
      templateEdges { upstream downstream count }
    }
    ... on Error { message }
  }
}`;
const TASKS = `
query Tasks(
  $id: Int!, $statuses: [TaskStatus!], $template: String, $name: String, $first: Int!,
  $after: String
) {
  workflow(id: $id) {
    ... on Workflow {
      tasks(
        statuses: $statuses, templateName: $template, nameContains: $name, first: $first,
        after: $after
      ) {
        items { id name templateName status numAttempts maxAttempts latestExitCode statusDate }
        endCursor hasNextPage
      }
    }
  }
}`;
const TASK = `
query Task($id: Int!) {
  lastEventCursor
  task(id: $id) {
    __typename
    ... on Task {
      id workflowId name command status templateName nodeArgs taskArgs computeResources clusterName
      numAttempts maxAttempts
      instances(first: 100) {
        items {
          id status exitCode hostname distributorId requestedResources maxRssBytes
          wallclockSeconds started finished errorMessage stdoutPath stderrPath
        }
      }
      upstream(first: 100) { items { id name status } hasNextPage }
      downstream(first: 100) { items { id name status } hasNextPage }
    }
    ... on Error { message }
  }
}`;
const GROUP_ERRORS = `
query GroupErrors($id: Int!, $signature: String!) {
  workflow(id: $id) {
    ... on Workflow {
      errors(signature: $signature, first: 50) {
        items { id taskId taskName taskInstanceId exitCode time description } hasNextPage
      }
    }
  }
}`;
const TIMELINE = `
query Timeline($id: Int!, $first: Int!) {
  workflow(id: $id) {
    ... on Workflow {
      taskInstances(first: $first, newestFirst: true) {
        items { id taskId taskName status started finished } hasNextPage
      }
    }
  }
}`;
const TIMELINE_LIMIT = 200;
const TASK_GRAPH = `
query TaskGraph($id: Int!, $first: Int!) {
  workflow(id: $id) {
    ... on Workflow {
      tasks(first: $first) { items { id name status templateName } }
      edges(first: 1000) { items { upstreamId downstreamId } hasNextPage }
    }
  }
}`;
const TASK_GRAPH_LIMIT = 200; // tasks are drawn one by one up to this; templates above it
const EVENTS = `
subscription Events($id: Int!, $after: String) {
  workflowEvents(workflowId: $id, after: $after) { cursor entity entityId toStatus }
}`;
const WORKFLOW_CHANGES = `
subscription Changes($after: String) {
  workflowStatusChanges(after: $after) { cursor workflowId toStatus }
}`;

const GRAPH_STYLE = [
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
  {
    selector: "edge",
    style: {
      width: 1.5, "line-color": "#b0b8c1", "target-arrow-color": "#b0b8c1",
      "target-arrow-shape": "triangle", "curve-style": "bezier", label: "data(label)",
      "font-size": 9,
    },
  },
];

export function groupCounts(counts) {
  const grouped = { pending: 0, scheduled: 0, running: 0, done: 0, fatal: 0 };
  for (const { status, count } of counts || []) {
    for (const [group, members] of Object.entries(GROUPS)) {
      if (members.includes(status)) grouped[group] += count;
    }
  }
  return grouped;
}

// Midnight at the start of a local day ("2026-11-27"), plus some days, as an ISO time.
function localDay(day, plusDays) {
  const date = new Date(`${day}T00:00:00`);
  date.setDate(date.getDate() + plusDays);
  return date.toISOString();
}

function debounce(fn, ms) {
  let timer = null;
  return () => {
    clearTimeout(timer);
    timer = setTimeout(fn, ms);
  };
}

function parseRoute() {
  const hash = location.hash.replace(/^#\/?/, "") || "workflows";
  const [path, search] = hash.split("?");
  const [page, id] = path.split("/");
  return { page, id: id ? Number(id) : null, params: new URLSearchParams(search || "") };
}

window.dashboard = () => ({
  route: parseRoute(),
  error: "",
  needsToken: false,
  tokenInput: "",
  loading: false,
  groups: Object.keys(GROUPS),
  // workflows page
  workflows: [],
  filters: { user: "", status: "", name: "", tool: "", from: "", to: "" },
  cursors: [null],
  hasNext: false,
  // workflow page
  workflow: null,
  tasks: [],
  taskFilter: { status: "", template: "", name: "" },
  graphKind: "",
  openGroup: null,
  groupErrors: [],
  groupHasMore: false,
  timeline: [],
  timelineMore: false,
  taskCursors: [null],
  tasksHasNext: false,
  // task page
  task: null,
  stopLive: null,

  init() {
    window.addEventListener("hashchange", () => {
      this.route = parseRoute();
      this.load();
    });
    this.load();
  },

  go(hash) {
    location.hash = hash;
  },

  saveToken() {
    setToken(this.tokenInput);
    this.needsToken = false;
    this.load();
  },

  async guarded(work) {
    this.error = "";
    try {
      await work();
    } catch (exc) {
      if (exc instanceof NeedsToken) this.needsToken = true;
      else this.error = String(exc.message || exc);
    }
  },

  async load() {
    if (this.stopLive) this.stopLive();
    this.stopLive = null;
    const { page, id, params } = this.route;
    this.loading = true;
    await this.guarded(async () => {
      if (page === "workflow" && id) await this.loadWorkflow(id, true);
      else if (page === "task" && id) await this.loadTask(id, true);
      else {
        this.filters = Object.fromEntries(
          Object.keys(this.filters).map((key) => [key, params.get(key) || ""]),
        );
        this.cursors = [null];
        await this.loadWorkflows(true);
      }
    });
    this.loading = false;
  },

  // -- workflows ------------------------------------------------------------------------
  applyFilters() {
    const search = new URLSearchParams();
    for (const [key, value] of Object.entries(this.filters)) if (value) search.set(key, value);
    this.go(`#/workflows?${search}`);
  },

  async loadWorkflows(live) {
    const after = this.cursors[this.cursors.length - 1];
    const data = await query(WORKFLOWS, {
      users: this.filters.user ? [this.filters.user] : null,
      statuses: this.filters.status ? [this.filters.status] : null,
      name: this.filters.name || null,
      tools: this.filters.tool ? [this.filters.tool] : null,
      // dates are the viewer's local days; "to" includes its whole day
      createdAfter: this.filters.from ? localDay(this.filters.from, 0) : null,
      createdBefore: this.filters.to ? localDay(this.filters.to, 1) : null,
      first: PAGE,
      after,
    });
    this.workflows = data.workflows.items;
    this.hasNext = data.workflows.hasNextPage;
    this.nextCursor = data.workflows.endCursor;
    if (live) {
      const refresh = debounce(() => this.guarded(() => this.loadWorkflows(false)), REFRESH_MS);
      this.stopLive = subscribe(WORKFLOW_CHANGES, { after: data.lastEventCursor }, refresh, "workflowStatusChanges");
    }
  },

  async pageWorkflows(step) {
    if (step > 0) this.cursors.push(this.nextCursor);
    else if (this.cursors.length > 1) this.cursors.pop();
    await this.guarded(() => this.loadWorkflows(false));
  },

  // -- one workflow ---------------------------------------------------------------------
  async loadWorkflow(id, live) {
    const data = await query(WORKFLOW, { id });
    if (data.workflow.__typename !== "Workflow") throw new Error(data.workflow.message);
    this.workflow = data.workflow;
    await this.loadTasks(false);
    await this.drawGraph(live);
    await this.loadTimeline();
    if (this.openGroup) await this.showGroup(this.openGroup, true);
    if (live) {
      const refresh = debounce(() => this.guarded(() => this.loadWorkflow(id, false)), REFRESH_MS);
      this.stopLive = subscribe(EVENTS, { id, after: data.lastEventCursor }, refresh, "workflowEvents");
    }
  },

  async loadTasks(reset) {
    if (reset) this.taskCursors = [null];
    const group = GROUPS[this.taskFilter.status];
    const data = await query(TASKS, {
      id: this.workflow.id,
      statuses: group || null,
      template: this.taskFilter.template || null,
      name: this.taskFilter.name || null,
      first: PAGE,
      after: this.taskCursors[this.taskCursors.length - 1],
    });
    const page = data.workflow.tasks;
    this.tasks = page.items;
    this.tasksHasNext = page.hasNextPage;
    this.tasksNext = page.endCursor;
  },

  async pageTasks(step) {
    if (step > 0) this.taskCursors.push(this.tasksNext);
    else if (this.taskCursors.length > 1) this.taskCursors.pop();
    await this.guarded(() => this.loadTasks(false));
  },

  // The errors of one group of similar messages, each with its task.
  async showGroup(signature, keep = false) {
    if (this.openGroup === signature && !keep) {
      this.openGroup = null;
      return;
    }
    const data = await query(GROUP_ERRORS, { id: this.workflow.id, signature });
    this.openGroup = signature;
    this.groupErrors = data.workflow.errors.items;
    this.groupHasMore = data.workflow.errors.hasNextPage;
  },

  // When the latest attempts ran, as bars on one time axis, oldest at the top.
  async loadTimeline() {
    const data = await query(TIMELINE, { id: this.workflow.id, first: TIMELINE_LIMIT });
    const items = data.workflow.taskInstances.items.filter((i) => i.started).reverse();
    this.timelineMore = data.workflow.taskInstances.hasNextPage;
    const now = Date.now();
    const start = Math.min(...items.map((i) => Date.parse(i.started)));
    const end = Math.max(...items.map((i) => (i.finished ? Date.parse(i.finished) : now)));
    const span = Math.max(end - start, 1);
    this.timeline = items.map((i) => {
      const from = Date.parse(i.started);
      const to = i.finished ? Date.parse(i.finished) : now;
      return {
        ...i,
        left: (100 * (from - start)) / span,
        width: Math.max((100 * (to - from)) / span, 0.4),
        seconds: (to - from) / 1000,
      };
    });
  },

  // The DAG: of tasks when the workflow is small enough to draw, else of templates.
  async drawGraph(fresh) {
    const wf = this.workflow;
    let nodes;
    let edges;
    if (wf.totalTasks <= TASK_GRAPH_LIMIT) {
      const data = await query(TASK_GRAPH, { id: wf.id, first: TASK_GRAPH_LIMIT });
      nodes = data.workflow.tasks.items.map((t) => ({
        data: { id: `t${t.id}`, label: t.name, href: `#/task/${t.id}` },
        classes: this.statusClass(t.status),
      }));
      edges = data.workflow.edges.items.map((e) => ({
        data: { source: `t${e.upstreamId}`, target: `t${e.downstreamId}` },
      }));
      this.graphKind = "tasks";
    } else {
      nodes = wf.templates.map((t) => {
        const c = groupCounts(t.taskCounts);
        const worst = c.fatal ? "fatal" : c.running ? "running" : c.pending ? "pending" : "done";
        const total = Object.values(c).reduce((a, b) => a + b, 0);
        return {
          data: { id: t.templateName, label: `${t.templateName} (${c.done}/${total} done)` },
          classes: worst,
        };
      });
      edges = wf.templateEdges.map((e) => ({
        data: { source: e.upstream, target: e.downstream, label: String(e.count) },
      }));
      this.graphKind = "templates";
    }
    await this.$nextTick();
    const container = document.getElementById("dag");
    if (!container || !window.cytoscape) return;
    if (!fresh && container._cy) {
      // Same graph, new statuses: recolour in place, keep the layout.
      for (const node of nodes) {
        const element = container._cy.getElementById(node.data.id);
        element.classes(node.classes);
        element.data("label", node.data.label);
      }
      return;
    }
    if (container._cy) container._cy.destroy();
    const cy = window.cytoscape({
      container,
      elements: [...nodes, ...edges],
      layout: { name: "breadthfirst", directed: true, spacingFactor: 1.1 },
      style: GRAPH_STYLE,
      wheelSensitivity: 0.3,
    });
    cy.on("tap", "node", (event) => {
      const href = event.target.data("href");
      if (href) location.hash = href;
    });
    container._cy = cy;
  },

  // -- one task -------------------------------------------------------------------------
  async loadTask(id, live) {
    const data = await query(TASK, { id });
    if (data.task.__typename !== "Task") throw new Error(data.task.message);
    this.task = data.task;
    if (live) {
      const refresh = debounce(() => this.guarded(() => this.loadTask(id, false)), REFRESH_MS);
      const relevant = (event) =>
        (event.entity === "task" && event.entityId === id) || event.entity === "task_instance";
      this.stopLive = subscribe(
        EVENTS,
        { id: data.task.workflowId, after: data.lastEventCursor },
        (event) => relevant(event) && refresh(),
        "workflowEvents",
      );
    }
  },

  // -- formatting -----------------------------------------------------------------------
  counts: groupCounts,
  share(counts, total, group) {
    return total ? (100 * groupCounts(counts)[group]) / total : 0;
  },
  percentDone(wf) {
    return wf.totalTasks ? Math.round((100 * groupCounts(wf.taskCounts).done) / wf.totalTasks) : 0;
  },
  time(value) {
    return value ? new Date(value).toLocaleString() : "";
  },
  size(bytes) {
    if (bytes == null) return "–";
    const units = ["B", "K", "M", "G", "T"];
    let i = 0;
    while (bytes >= 1024 && i < units.length - 1) {
      bytes /= 1024;
      i += 1;
    }
    return `${bytes.toFixed(i ? 1 : 0)}${units[i]}`;
  },
  seconds(value) {
    if (value == null) return "–";
    if (value < 60) return `${value.toFixed(1)}s`;
    const minutes = Math.floor(value / 60);
    return minutes < 60 ? `${minutes}m ${Math.round(value % 60)}s` : `${(minutes / 60).toFixed(1)}h`;
  },
  // Requested against used, on one scale: the request as an outlined bar (a tick where the
  // smallest request ends when they differ), the median use filled, the largest use a mark.
  usageChart(t, kind) {
    const unit = kind === "memory" ? "memoryBytes" : "runtimeSeconds";
    const show = kind === "memory" ? this.size.bind(this) : this.seconds.bind(this);
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
  },
  asked(resources) {
    return Object.entries(resources || {})
      .map(([key, value]) => `${key}=${value}`)
      .join(" ");
  },
  statusClass(status) {
    for (const [group, members] of Object.entries(GROUPS)) if (members.includes(status)) return group;
    const other = {
      FAILED: "fatal", HALTED: "halted", ERROR: "fatal", RESOURCE_ERROR: "fatal",
      UNKNOWN_ERROR: "fatal", NO_HEARTBEAT: "fatal", NO_DISTRIBUTOR_ID: "fatal",
      KILL_SELF: "fatal", INSTANTIATED: "scheduled",
    };
    return other[status] || "other";
  },
});
