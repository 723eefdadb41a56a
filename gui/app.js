// The dashboard's entry: the route (#/workflows?..., #/workflow/ID?..., #/task/ID), the
// shell (banner when the server is unreachable, token form, messages), the confirmation
// dialog for steering, and one Alpine component per page (gui/js/pages/).
import { NeedsToken, network, Unreachable } from "./js/graphql.js";
import { workflowPage } from "./js/pages/workflow.js";
import { workflowsPage } from "./js/pages/workflows.js";
import { taskPage } from "./js/pages/task.js";
import { setToken, setUser, token, user } from "./js/session.js";
import { GROUP_NAMES } from "./js/statuses.js";

window.workflowsPage = workflowsPage;
window.workflowPage = workflowPage;
window.taskPage = taskPage;

function parseRoute() {
  const hash = location.hash.replace(/^#\/?/, "") || "workflows";
  const [path, search] = hash.split("?");
  const [page, id] = path.split("/");
  const known = ["workflows", "workflow", "task"].includes(page) ? page : "workflows";
  return { page: known, id: id ? Number(id) : null, params: new URLSearchParams(search || "") };
}

const HEALTH = new URL("health", document.baseURI);

document.addEventListener("alpine:init", () => {
  const Alpine = window.Alpine;
  Alpine.store("route", parseRoute());
  window.addEventListener("hashchange", () => {
    const next = parseRoute();
    const store = Alpine.store("route");
    const samePage = store.page === next.page && store.id === next.id;
    Object.assign(store, next);
    // A new page is a new component (its init loads it); the same page is told to reload.
    if (samePage) window.dispatchEvent(new Event("route"));
    else store.key = `${next.page}/${next.id}`;
  });
  Alpine.store("route").key = `${Alpine.store("route").page}/${Alpine.store("route").id}`;

  Alpine.store("shell", {
    groups: GROUP_NAMES,
    error: "",
    unreachable: false,
    needsToken: false,
    tokenInput: "",
    probing: null,
    init() {
      network.listeners.add((down) => {
        this.unreachable = down;
        if (down) this.probe();
      });
    },
    // While the server is away, ask it every two seconds; the pages' live refreshes and
    // subscriptions retry on their own, and the first answer clears the banner.
    probe() {
      if (this.probing) return;
      this.probing = setInterval(async () => {
        try {
          const response = await fetch(HEALTH);
          if (response.ok) {
            clearInterval(this.probing);
            this.probing = null;
            network.set(false);
            this.error = "";
            window.dispatchEvent(new Event("route"));
          }
        } catch (exc) {
          /* still away */
        }
      }, 2000);
    },
    async guarded(work) {
      try {
        const result = await work();
        this.error = "";
        return result;
      } catch (exc) {
        if (exc instanceof NeedsToken) this.needsToken = true;
        else if (!(exc instanceof Unreachable)) this.error = String(exc.message || exc);
        return undefined;
      }
    },
    warn(message) {
      this.error = message;
    },
    saveToken() {
      setToken(this.tokenInput);
      this.needsToken = false;
      window.dispatchEvent(new Event("route"));
    },
  });

  // The confirmation of one steering action: what will change, who acts, the answer.
  Alpine.store("confirm", {
    open: false,
    title: "",
    lines: [],
    user: user(),
    withToken: Boolean(token()),
    busy: false,
    result: "",
    refused: false,
    action: null,
    after: null,
    ask(action, after) {
      Object.assign(this, {
        open: true, title: action.title, lines: action.lines, action, after, busy: false,
        result: "", refused: false, user: user(), withToken: Boolean(token()),
      });
    },
    async accept() {
      if (!this.withToken && !this.user.trim()) {
        this.refused = true;
        this.result = "Say who you are: the workflow's owner (or an admin) may change it.";
        return;
      }
      setUser(this.user);
      this.busy = true;
      try {
        this.result = await this.action.run(this.user.trim());
        this.refused = false;
        if (this.after) this.after();
      } catch (exc) {
        this.result = String(exc.message || exc);
        this.refused = true;
      }
      this.busy = false;
      this.action = null;
    },
    close() {
      this.open = false;
    },
  });
});
