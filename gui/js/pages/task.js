// One task: its command and arguments, every attempt (the end of its error first), its
// neighbours, and a log viewer that reads an attempt's whole stderr or stdout from the
// server, tail first, a page at a time backwards.
import { ACTIVITY, TASK, TASK_LOG } from "../documents.js";
import { formatting } from "../format.js";
import { expect, query } from "../graphql.js";
import { follow } from "../live.js";
import { statusClass } from "../statuses.js";

const LOG_PAGE = 65536;

export function taskPage() {
  return {
    ...formatting,
    statusClass,
    task: null,
    log: null, // { instanceId, stream, text, start, size, path, hasEarlier, unavailable }
    stop: null,

    init() {
      this.onRoute = () => this.load();
      window.addEventListener("route", this.onRoute);
      this.load();
    },
    destroy() {
      window.removeEventListener("route", this.onRoute);
      if (this.stop) this.stop();
    },

    async load() {
      const { id } = this.$store.route;
      if (this.stop) this.stop();
      this.log = null;
      const data = await this.$store.shell.guarded(() => this.read(id));
      if (!data) return;
      this.stop = follow({
        // only this task's events and its attempts'
        document: ACTIVITY,
        variables: { id: data.task.workflowId, task: id, after: data.lastEventCursor },
        field: "workflowActivity",
        refresh: () => this.read(id),
      });
    },

    async read(id) {
      const data = await query(TASK, { id });
      this.task = expect(data.task, "Task");
      return data;
    },

    async openLog(instance, stream) {
      this.log = { instanceId: instance.id, stream, text: "", loading: true };
      await this.$store.shell.guarded(() => this.readLog(null));
    },

    async earlier() {
      await this.$store.shell.guarded(() => this.readLog(this.log.start));
    },

    async readLog(before) {
      const { instanceId, stream } = this.log;
      const data = await query(TASK_LOG, {
        id: instanceId, stream: stream.toUpperCase(), before, maxBytes: LOG_PAGE,
      });
      const chunk = data.taskInstanceLog;
      if (chunk.__typename !== "LogChunk") {
        this.log = { instanceId, stream, unavailable: chunk.message, path: chunk.unavailablePath || "" };
        return;
      }
      const text = before == null ? chunk.text : chunk.text + this.log.text;
      const view = document.getElementById("log-text");
      const fromBottom = view ? view.scrollHeight - view.scrollTop : 0;
      this.log = {
        instanceId, stream, text, start: chunk.start, size: chunk.size, path: chunk.path,
        hasEarlier: chunk.hasEarlier, loading: false,
      };
      await this.$nextTick();
      const shown = document.getElementById("log-text");
      if (!shown) return;
      // The tail first (where the error is); after "Earlier", stay on the same lines.
      shown.scrollTop = before == null ? shown.scrollHeight : shown.scrollHeight - fromBottom;
    },
  };
}
