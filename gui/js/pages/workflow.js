// One workflow: what failed first (error groups with their latest real message, fatal vs
// recovered, the run; a FAILED workflow's task table opens on its fatal tasks), counts that
// link to the filtered task table, steering, progress over time and a timeline, the graph,
// templates and runs. It follows the workflow's activity (a few counted frames a second,
// not every event), throttled: one request per refresh.
import * as actions from "../actions.js";
import { drawHistory, timelineLayout, BUCKETS } from "../charts.js";
import { ACTIVITY, GROUP_ERRORS, HISTORY, WORKFLOW_LIVE, WORKFLOW_SHAPE } from "../documents.js";
import { formatting } from "../format.js";
import { drawGraph, recolour, taskNodes, templateNodes, TASK_GRAPH_LIMIT } from "../graph.js";
import { expect, query } from "../graphql.js";
import { follow } from "../live.js";
import { Pager } from "../paging.js";
import { ACTIVE_WORKFLOW, GROUPS, GROUP_NAMES, groupCounts, groupTotal, statusClass } from "../statuses.js";
import { usageChart } from "../usage.js";

const PAGE = 25;
const LANES = 200;
const HISTORY_EVERY_MS = 5000; // the chart moves slowly; refresh it less often
// The timeline (200 attempts, most of them new on each refresh of a busy run) is the
// largest part of a refresh for the server and the browser: it follows every 2 s.
const LANES_EVERY_MS = 2000;
const USAGE_EVERY_MS = 15000;
const FILTERS = ["status", "template", "name"];
// Statuses after which the error groups may have changed: re-read them then (and with the
// chart now and then, since a retried task that ends DONE moves a group to "recovered").
const ERRORISH = new Set([
  "ERROR", "RESOURCE_ERROR", "UNKNOWN_ERROR", "NO_HEARTBEAT", "NO_DISTRIBUTOR_ID", "KILL_SELF",
  "ERROR_FATAL", "ERROR_RECOVERABLE", "ADJUSTING_RESOURCES",
]);

export function workflowPage() {
  return {
    ...formatting,
    statusClass,
    groupCounts,
    groupTotal,
    usageChart,
    groups: GROUP_NAMES,
    id: null,
    wf: null,
    tasks: [],
    pager: new Pager(),
    filter: { status: "", template: "", name: "" },
    selected: {},
    withUpstream: false,
    usage: {},
    graphKind: "",
    timeline: { lanes: [], ticks: [], boundaries: [] },
    lanesMore: false,
    history: null,
    openGroup: null,
    groupErrors: [],
    groupHasMore: false,
    limitInput: "",
    templateLimits: {},
    stop: null,
    lastHistory: 0,
    lastLanes: 0,
    lastUsage: 0,
    errorsStale: true,
    following: false,

    init() {
      this.onRoute = () => this.fromRoute();
      window.addEventListener("route", this.onRoute);
      this.fromRoute();
    },
    destroy() {
      window.removeEventListener("route", this.onRoute);
      if (this.stop) this.stop();
    },

    async fromRoute() {
      const { id, params } = this.$store.route;
      const explicit = params.has("status");
      this.filter = Object.fromEntries(FILTERS.map((k) => [k, params.get(k) || ""]));
      if (id === this.id) {
        this.pager.reset();
        await this.$store.shell.guarded(() => this.live());
        return;
      }
      this.id = id;
      this.wf = null;
      this.pager.reset();
      if (this.stop) this.stop();
      const data = await this.$store.shell.guarded(async () => {
        // The page first, the chart beside it; the templates' use of resources (a slower
        // read) comes with the second read, which also opens a FAILED workflow on what failed.
        const [first] = await Promise.all([this.live(), this.readHistory()]);
        if (!explicit && this.wf.status === "FAILED" && groupCounts(this.wf.taskCounts).fatal) {
          this.filter.status = "fatal";
        }
        await this.live({ usage: true });
        await this.shape();
        return first;
      });
      if (!data) return;
      this.stop = follow({
        document: ACTIVITY,
        variables: { id, task: null, after: data.lastEventCursor },
        field: "workflowActivity",
        refresh: () => this.refresh(),
        relevant: (activity) => {
          if (activity.counts.some((c) => ERRORISH.has(c.toStatus))) this.errorsStale = true;
          return true;
        },
        everyMs: HISTORY_EVERY_MS,
        active: () => ACTIVE_WORKFLOW.includes(this.wf?.status),
        onLive: () => {
          this.following = true;
        },
      });
    },

    // One request per refresh, whatever it carries: the timeline and the chart now and
    // then, the templates' use of resources more rarely.
    async refresh() {
      const now = Date.now();
      const history = now - this.lastHistory >= HISTORY_EVERY_MS;
      await this.live({
        lanes: now - this.lastLanes >= LANES_EVERY_MS,
        history,
        usage: now - this.lastUsage >= USAGE_EVERY_MS,
        errors: this.errorsStale || history,
      });
    },

    // Everything that changes as tasks run, in one request.
    async live({ lanes = true, history = false, usage = false, errors = true } = {}) {
      if (errors) this.errorsStale = false;
      const data = await query(WORKFLOW_LIVE, {
        id: this.id,
        statuses: GROUPS[this.filter.status] || null,
        template: this.filter.template || null,
        name: this.filter.name || null,
        first: PAGE,
        after: this.pager.after,
        lanes: LANES,
        withLanes: lanes,
        withGraph: this.graphKind === "tasks",
        withHistory: history,
        withUsage: usage,
        withErrors: errors,
        buckets: BUCKETS,
      });
      const wf = expect(data.workflow, "Workflow");
      if (!errors) wf.errorGroups = this.wf?.errorGroups || [];
      if (usage) {
        this.lastUsage = Date.now();
        this.usage = Object.fromEntries(wf.templates.map((t) => [t.templateName, t]));
      }
      if (history) this.showHistory(data.history);
      else if (this.history) {
        // the chart read on opening may have come before the page it is drawn in
        this.$nextTick(() => {
          const chart = document.getElementById("history");
          if (chart && !chart._plot) drawHistory(chart, this.history);
        });
      }
      this.wf = wf;
      this.tasks = wf.tasks.items;
      this.pager.seen(wf.tasks);
      if (lanes) {
        this.lastLanes = Date.now();
        this.timeline = timelineLayout(wf.lanes.items, wf.runs.items);
        this.lanesMore = wf.lanes.hasNextPage;
      }
      if (this.graphKind === "tasks" && wf.graphTasks) {
        recolour(document.getElementById("dag"), taskNodes(wf.graphTasks.items));
      } else if (this.graphKind === "templates") {
        recolour(document.getElementById("dag"), templateNodes(wf.templates));
      }
      if (this.openGroup) await this.loadGroup(this.openGroup);
      return data;
    },

    async readHistory() {
      this.showHistory((await query(HISTORY, { id: this.id, buckets: BUCKETS })).history);
    },
    showHistory(found) {
      this.lastHistory = Date.now();
      this.history = expect(found, "WorkflowHistory");
      this.$nextTick(() => drawHistory(document.getElementById("history"), this.history));
    },

    // The graph: read on open; statuses are recoloured from the live refreshes.
    async shape() {
      const small = this.wf.totalTasks <= TASK_GRAPH_LIMIT;
      const data = await query(WORKFLOW_SHAPE, { id: this.id, withTasks: small });
      const shape = data.workflow;
      let nodes;
      let edges;
      if (small) {
        nodes = taskNodes(shape.graphTasks.items);
        edges = shape.edges.items.map((e) => ({
          data: { source: `t${e.upstreamId}`, target: `t${e.downstreamId}` },
        }));
        this.graphKind = "tasks";
      } else {
        nodes = templateNodes(this.wf.templates);
        edges = shape.templateEdges.map((e) => ({
          data: { source: e.upstream, target: e.downstream, label: String(e.count) },
        }));
        this.graphKind = "templates";
      }
      await this.$nextTick();
      drawGraph(document.getElementById("dag"), nodes, edges, (template) =>
        this.setFilter({ template, status: "" }),
      );
    },

    // -- the task table ------------------------------------------------------------------
    setFilter(change) {
      const next = { ...this.filter, ...change };
      const search = new URLSearchParams();
      for (const [key, value] of Object.entries(next)) if (value) search.set(key, value);
      // "status=" kept explicitly empty means "any", not "open on the fatal tasks"
      if (!next.status) search.set("status", "");
      location.hash = `#/workflow/${this.id}?${search}`;
      this.$nextTick(() => document.getElementById("tasks")?.scrollIntoView({ block: "start" }));
    },
    countLink(group) {
      return `#/workflow/${this.id}?status=${group}`;
    },
    async page(direction) {
      this.pager.step(direction);
      await this.$store.shell.guarded(() => this.live());
    },
    selectedTasks() {
      return Object.values(this.selected);
    },
    toggle(task) {
      if (this.selected[task.id]) delete this.selected[task.id];
      else this.selected[task.id] = { id: task.id, name: task.name };
    },

    // -- errors --------------------------------------------------------------------------
    async showGroup(signature) {
      if (this.openGroup === signature) {
        this.openGroup = null;
        return;
      }
      await this.$store.shell.guarded(() => this.loadGroup(signature));
    },
    async loadGroup(signature) {
      const data = await query(GROUP_ERRORS, { id: this.id, signature });
      this.openGroup = signature;
      this.groupErrors = data.workflow.errors.items;
      this.groupHasMore = data.workflow.errors.hasNextPage;
    },
    earlierRun(g) {
      return g.latestRunId != null && this.wf.latestRun && g.latestRunId !== this.wf.latestRun.id;
    },

    // -- steering ------------------------------------------------------------------------
    act(action) {
      this.$store.confirm.ask(action, () => this.refresh());
    },
    stopRun() {
      this.act(actions.stopWorkflow(this.wf));
    },
    resume(cold) {
      this.act(actions.resumeWorkflow(this.wf, cold));
    },
    setLimit() {
      const limit = Number.parseInt(this.limitInput, 10);
      if (!(limit > 0)) return this.$store.shell.warn("The limit must be a whole number above 0.");
      this.act(actions.setConcurrency(this.wf, limit));
    },
    setTemplateLimit(template) {
      const text = String(this.templateLimits[template.templateName] ?? "").trim();
      const limit = text === "" ? null : Number.parseInt(text, 10);
      if (limit !== null && !(limit > 0)) {
        return this.$store.shell.warn("A template's limit must be a whole number above 0, or empty for none.");
      }
      this.act(actions.setTemplateConcurrency(this.wf, template, limit));
    },
    updateSelected(status) {
      const tasks = this.selectedTasks();
      if (!tasks.length) return;
      this.act(actions.updateTasks(this.wf, tasks, status, this.withUpstream));
    },
    running() {
      return ACTIVE_WORKFLOW.includes(this.wf?.status);
    },
  };
}
