// Every status the dashboard knows, listed once: the five groups a person reads at a glance
// (colours in style.css), and which group each status of each state machine belongs to.

export const GROUPS = {
  pending: ["REGISTERING", "QUEUED", "ERROR_RECOVERABLE", "ADJUSTING_RESOURCES"],
  scheduled: ["INSTANTIATING", "LAUNCHED"],
  running: ["RUNNING"],
  done: ["DONE"],
  fatal: ["ERROR_FATAL"],
};
export const GROUP_NAMES = Object.keys(GROUPS);
export const TASK_STATUSES = Object.values(GROUPS).flat();
export const WORKFLOW_STATUSES = [
  "REGISTERING", "QUEUED", "RUNNING", "DONE", "HALTED", "FAILED", "ABORTED",
];
export const ACTIVE_WORKFLOW = ["QUEUED", "RUNNING"];

// Statuses of workflows, runs and attempts that are not task statuses.
const OTHER = {
  FAILED: "fatal", HALTED: "halted", ERROR: "fatal", RESOURCE_ERROR: "fatal",
  UNKNOWN_ERROR: "fatal", NO_HEARTBEAT: "fatal", NO_DISTRIBUTOR_ID: "fatal",
  KILL_SELF: "fatal", INSTANTIATED: "scheduled", ABORTED: "fatal", STOPPED: "halted",
  TERMINATED: "halted", BOUND: "pending", LINKING: "pending", REGISTERED: "pending",
  COLD_RESUME: "pending", HOT_RESUME: "pending",
};

export function statusClass(status) {
  for (const [group, members] of Object.entries(GROUPS)) if (members.includes(status)) return group;
  return OTHER[status] || "other";
}

export function groupCounts(counts) {
  const grouped = Object.fromEntries(GROUP_NAMES.map((g) => [g, 0]));
  for (const { status, count } of counts || []) grouped[statusClass(status)] += count;
  return grouped;
}

export function groupTotal(counts) {
  return (counts || []).reduce((sum, c) => sum + c.count, 0);
}
