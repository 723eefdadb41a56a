// Steering from the page, through the mutations the CLI sends: each asks for confirmation
// naming what will change, and shows the server's answer (its message when it refuses).
import {
  RESUME_WORKFLOW, SET_CONCURRENCY, SET_TEMPLATE_CONCURRENCY, STOP_WORKFLOW, UPDATE_TASKS,
} from "./documents.js";
import { expect, query } from "./graphql.js";
import { groupCounts } from "./statuses.js";

function names(tasks) {
  const shown = tasks.slice(0, 8).map((t) => `${t.id} ${t.name}`).join(", ");
  return tasks.length > 8 ? `${shown} and ${tasks.length - 8} more` : shown;
}

export function stopWorkflow(wf) {
  const c = groupCounts(wf.taskCounts);
  return {
    title: `Stop workflow ${wf.id} (${wf.name})`,
    lines: [
      `Run ${wf.latestRun?.id ?? "–"} stops; its ${c.running} running and ${c.scheduled} ` +
        "launched tasks are cancelled.",
      "The workflow becomes HALTED; resume it to go on.",
    ],
    async run(user) {
      const data = await query(STOP_WORKFLOW, { id: wf.id, user });
      const run = expect(data.stopWorkflow, "WorkflowRun");
      return `Run ${run.id} is ${run.status}.`;
    },
  };
}

export function resumeWorkflow(wf, cold) {
  const c = groupCounts(wf.taskCounts);
  const notDone = wf.totalTasks - c.done;
  return {
    title: `Resume workflow ${wf.id} (${wf.name})`,
    lines: [
      `A new run reruns the ${notDone} tasks that are not DONE; the ${c.done} DONE tasks are kept.`,
      cold ? "Tasks still running are killed and rerun (cold resume)."
        : "Tasks still running are adopted (hot resume).",
      "A worker of each task's cluster runs them.",
    ],
    async run(user) {
      const data = await query(RESUME_WORKFLOW, { id: wf.id, user, cold });
      const run = expect(data.startWorkflowRun, "WorkflowRun");
      return `Run ${run.id} started (${run.status}).`;
    },
  };
}

export function setConcurrency(wf, limit) {
  return {
    title: `Concurrency of workflow ${wf.id}`,
    lines: [`At most ${limit} tasks run at once (now ${wf.maxConcurrentlyRunning}); applies at once.`],
    async run(user) {
      const data = await query(SET_CONCURRENCY, { id: wf.id, limit, user });
      const found = expect(data.setMaxConcurrentlyRunning, "Workflow");
      return `At most ${found.maxConcurrentlyRunning} tasks at once.`;
    },
  };
}

export function setTemplateConcurrency(wf, template, limit) {
  const now = template.maxConcurrentlyRunning ?? "no limit of its own";
  const next = limit ?? "no limit of its own (the workflow's applies)";
  return {
    title: `Concurrency of template ${template.templateName} in workflow ${wf.id}`,
    lines: [`Its tasks: at most ${next} at once (now ${now}); applies at once.`],
    async run(user) {
      const data = await query(SET_TEMPLATE_CONCURRENCY, {
        id: wf.id, template: template.templateName, limit, user,
      });
      const found = expect(data.setTemplateConcurrency, "WorkflowTemplate");
      return `${found.templateName}: at most ${found.maxConcurrentlyRunning ?? "the workflow's limit"} at once.`;
    },
  };
}

// Rerun (REGISTERING, with every task downstream, as `jobmon task update` does) or mark
// DONE (optionally with every task upstream).
export function updateTasks(wf, tasks, status, recursive) {
  const rerun = status === "REGISTERING";
  const lines = rerun
    ? [
        `Tasks ${names(tasks)} become REGISTERING, and so does every task downstream of them.`,
        `Resume workflow ${wf.id} to run them.`,
      ]
    : [
        `Tasks ${names(tasks)} are marked DONE` +
          (recursive ? ", and so is every task upstream of them." : "."),
      ];
  return {
    title: rerun ? `Rerun ${tasks.length} task(s) of workflow ${wf.id}` : `Mark ${tasks.length} task(s) DONE`,
    lines,
    async run(user) {
      const data = await query(UPDATE_TASKS, {
        id: wf.id, taskIds: tasks.map((t) => t.id), status, recursive: rerun || recursive, user,
      });
      const found = expect(data.updateTaskStatuses, "UpdatedTasks");
      return `${found.taskIds.length} task(s) are now ${status}.`;
    },
  };
}
