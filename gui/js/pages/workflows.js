// The workflows page: filters (kept in the URL), pages of 25, counts that follow the
// workflows as they run (a status change, or every second while one of them is active).
import { WORKFLOWS, WORKFLOW_CHANGES } from "../documents.js";
import { formatting } from "../format.js";
import { query } from "../graphql.js";
import { follow } from "../live.js";
import { Pager } from "../paging.js";
import {
  ACTIVE_WORKFLOW, GROUP_NAMES, WORKFLOW_STATUSES, groupCounts, statusClass,
} from "../statuses.js";

const PAGE = 25;
const FILTERS = ["user", "status", "name", "tool", "from", "to"];

// Midnight at the start of a local day ("2026-11-27"), plus some days, as an ISO time.
function localDay(day, plusDays) {
  const date = new Date(`${day}T00:00:00`);
  date.setDate(date.getDate() + plusDays);
  return date.toISOString();
}

export function workflowsPage() {
  return {
    ...formatting,
    statusClass,
    groups: GROUP_NAMES,
    statuses: WORKFLOW_STATUSES,
    workflows: [],
    filters: Object.fromEntries(FILTERS.map((k) => [k, ""])),
    pager: new Pager(),
    loaded: false,
    stop: null,

    init() {
      this.fromRoute();
      this.onRoute = () => this.fromRoute();
      window.addEventListener("route", this.onRoute);
    },
    destroy() {
      window.removeEventListener("route", this.onRoute);
      if (this.stop) this.stop();
    },

    async fromRoute() {
      const { params } = this.$store.route;
      this.filters = Object.fromEntries(FILTERS.map((k) => [k, params.get(k) || ""]));
      this.pager.reset();
      const data = await this.$store.shell.guarded(() => this.load());
      if (this.stop) this.stop();
      this.stop = follow({
        document: WORKFLOW_CHANGES,
        variables: { after: data?.lastEventCursor ?? null },
        field: "workflowStatusChanges",
        refresh: () => this.load(),
        everyMs: 1000,
        active: () => this.workflows.some((wf) => ACTIVE_WORKFLOW.includes(wf.status)),
      });
    },

    apply() {
      const search = new URLSearchParams();
      for (const [key, value] of Object.entries(this.filters)) if (value) search.set(key, value);
      location.hash = `#/workflows?${search}`;
    },

    async load() {
      const f = this.filters;
      const data = await query(WORKFLOWS, {
        users: f.user ? [f.user] : null,
        statuses: f.status ? [f.status] : null,
        name: f.name || null,
        tools: f.tool ? [f.tool] : null,
        // dates are the viewer's local days; "to" includes its whole day
        createdAfter: f.from ? localDay(f.from, 0) : null,
        createdBefore: f.to ? localDay(f.to, 1) : null,
        first: PAGE,
        after: this.pager.after,
      });
      this.workflows = data.workflows.items;
      this.pager.seen(data.workflows);
      this.loaded = true;
      return data;
    },

    async page(direction) {
      this.pager.step(direction);
      await this.$store.shell.guarded(() => this.load());
    },

    share(wf, group) {
      return wf.totalTasks ? (100 * groupCounts(wf.taskCounts)[group]) / wf.totalTasks : 0;
    },
    percentDone(wf) {
      return wf.totalTasks ? Math.round((100 * groupCounts(wf.taskCounts).done) / wf.totalTasks) : 0;
    },
  };
}
