# Starting a run, following it to its end, and reading what happened.

# How long after the timeout the client waits for the server to stop the run itself.
timeout_grace_seconds <- 10

run_fields <- "__typename
  ... on WorkflowRun { id status workflow { id status totalTasks taskCounts { status count } } }
  ... on Error { message }"

#' Run a workflow
#'
#' Binds the workflow, starts a run and, unless `detach`, waits for it to end, reporting
#' progress as messages (silence them with [suppressMessages()]).
#'
#' @param workflow A workflow.
#' @param resume Continue a workflow that ran before: what is DONE is kept. Without it, a
#'   workflow that ran before is refused with a message saying so.
#' @param seconds_until_timeout After this long the server stops the run (the workflow
#'   becomes HALTED, and can be resumed).
#' @param fail_fast Stop at the first task that fails for good.
#' @param reset_running_jobs With `resume`, kill what still runs from an earlier run
#'   (`TRUE`, cold) or adopt it (`FALSE`, hot).
#' @param detach Return as soon as the run has started; it goes on without the script.
#' @return The run's status as Jobmon writes it: `"D"` when done, `"E"` on error, `"S"`
#'   when stopped (see [WorkflowRunStatus]). It also compares equal to the run's and the
#'   workflow's status names, so `status == "D"`, `status == "DONE"` and, for a failed run,
#'   `status == "FAILED"` hold. The names and the run's figures are in its attributes
#'   (`run_status`, `workflow_status`, `workflow_id`, `workflow_run_id`, `total_tasks`,
#'   `done`, `failed`, `elapsed`).
#' @export
run <- function(workflow, resume = FALSE, seconds_until_timeout = 36000, fail_fast = FALSE,
                reset_running_jobs = TRUE, detach = FALSE) {
  check_workflow(workflow)
  started <- Sys.time()
  bind(workflow)
  snapshot <- start_run(workflow$workflow_id, workflow$name, workflow$user, resume,
                        seconds_until_timeout, fail_fast, reset_running_jobs)
  workflow$workflow_run_id <- snapshot$run_id
  run_outcome(snapshot, detach, seconds_until_timeout, started)
}

#' Resume a workflow by its id
#'
#' Starts a new run of a workflow stored before, without its script: what is DONE is kept
#' and the rest runs again. As `jobmon workflow resume`, and as [run()] with
#' `resume = TRUE` for a workflow defined in this session.
#'
#' @param workflow_id The workflow's id.
#' @inheritParams run
#' @return As [run()].
#' @export
resume_workflow <- function(workflow_id, seconds_until_timeout = 36000, fail_fast = FALSE,
                            reset_running_jobs = TRUE, detach = FALSE) {
  started <- Sys.time()
  id <- check_whole(workflow_id, "resume_workflow: workflow_id")
  name <- workflow_status(id)$name
  snapshot <- start_run(id, name, current_user(), TRUE, seconds_until_timeout, fail_fast,
                        reset_running_jobs)
  run_outcome(snapshot, detach, seconds_until_timeout, started)
}

start_run <- function(workflow_id, name, user, resume, seconds_until_timeout, fail_fast,
                      reset_running_jobs) {
  snapshot <- run_snapshot(tryCatch(
    unwrap(graphql(paste0(
      "mutation Start($workflowId: Int!, $user: String!, $resume: Boolean!,
         $resetRunningJobs: Boolean!, $failFast: Boolean!, $secondsUntilTimeout: Int) {
         startWorkflowRun(workflowId: $workflowId, user: $user, resume: $resume,
           resetRunningJobs: $resetRunningJobs, failFast: $failFast,
           secondsUntilTimeout: $secondsUntilTimeout) { ", run_fields, " } }"),
      list(workflowId = scalar(workflow_id), user = scalar(user),
           resume = scalar(isTRUE(resume)), resetRunningJobs = scalar(isTRUE(reset_running_jobs)),
           failFast = scalar(isTRUE(fail_fast)),
           secondsUntilTimeout = scalar(as.integer(seconds_until_timeout)))),
      "startWorkflowRun"),
    jobmon_validation_error = function(e) {
      server_error(sprintf("cannot start a run of workflow %d '%s': %s", workflow_id, name,
                           conditionMessage(e)), "ValidationError")
    }))
  message(sprintf("workflow %d '%s': run %d started (%d tasks)", snapshot$workflow_id, name,
                  snapshot$run_id, snapshot$total))
  snapshot
}

# Follows the run unless detached; answers the workflow's status with the run's figures.
run_outcome <- function(snapshot, detach, seconds_until_timeout, started) {
  if (!isTRUE(detach)) snapshot <- follow_run(snapshot, seconds_until_timeout)
  structure(unname(WorkflowRunStatus[[snapshot$run_status]]),
            class = c("jobmon_run_status", "character"),
            run_status = snapshot$run_status, workflow_status = snapshot$workflow_status,
            workflow_id = snapshot$workflow_id, workflow_run_id = snapshot$run_id,
            total_tasks = snapshot$total, done = snapshot$done, failed = snapshot$failed,
            elapsed = as.numeric(difftime(Sys.time(), started, units = "secs")))
}

#' @export
Ops.jobmon_run_status <- function(e1, e2) {
  names_of <- function(x) {
    if (inherits(x, "jobmon_run_status")) {
      c(as.character(unclass(x)), attr(x, "run_status"), attr(x, "workflow_status"))
    } else {
      as.character(x)
    }
  }
  if (!.Generic %in% c("==", "!=")) {
    return(get(.Generic)(as.character(unclass(e1)), as.character(unclass(e2))))
  }
  equal <- any(names_of(e1) %in% names_of(e2))
  if (.Generic == "==") equal else !equal
}

#' @export
as.character.jobmon_run_status <- function(x, ...) as.character(unclass(x))

#' @export
print.jobmon_run_status <- function(x, ...) {
  print(sprintf("%s (%s, workflow %s)", as.character(unclass(x)), attr(x, "run_status"),
                attr(x, "workflow_status")))
  cat(sprintf("workflow %d, run %d: %d of %d tasks done, %d failed, %.1f s\n",
              attr(x, "workflow_id"), attr(x, "workflow_run_id"), attr(x, "done"),
              attr(x, "total_tasks"), attr(x, "failed"), attr(x, "elapsed")))
  invisible(x)
}

run_snapshot <- function(payload) {
  wf <- payload$workflow
  counts <- status_counts(wf$taskCounts)
  count <- function(statuses) sum(counts[names(counts) %in% statuses])
  list(run_id = as.integer(payload$id), run_status = payload$status,
       workflow_id = as.integer(wf$id), workflow_status = wf$status,
       total = as.integer(wf$totalTasks), counts = counts,
       done = count("DONE"), running = count(c("LAUNCHED", "RUNNING")),
       failed = count("ERROR_FATAL"))
}

read_run <- function(run_id) {
  run_snapshot(unwrap(graphql(paste0("query Run($id: Int!) { workflowRun(id: $id) { ", run_fields, " } }"),
                              list(id = scalar(run_id))), "workflowRun"))
}

# Polls the run (0.5 s at first, slower while nothing changes, at most every 5 s) and
# reports each change of its counts. The server stops an overdue run itself; the client
# stops it only if the server has not a grace period later.
follow_run <- function(snapshot, seconds_until_timeout) {
  deadline <- Sys.time() + seconds_until_timeout + timeout_grace_seconds
  interval <- 0.5
  shown <- ""
  repeat {
    line <- sprintf("workflow %d: %d of %d done, %d running, %d failed", snapshot$workflow_id,
                    snapshot$done, snapshot$total, snapshot$running, snapshot$failed)
    if (line != shown) {
      message(line)
      shown <- line
      interval <- 0.5
    } else {
      interval <- min(interval * 1.5, 5)
    }
    if (snapshot$run_status %in% terminal_run_statuses) {
      message(sprintf("workflow %d: %s", snapshot$workflow_id, snapshot$workflow_status))
      return(snapshot)
    }
    remaining <- as.numeric(difftime(deadline, Sys.time(), units = "secs"))
    if (remaining <= 0) return(stop_overdue(snapshot, seconds_until_timeout))
    Sys.sleep(min(interval, remaining))
    snapshot <- read_run(snapshot$run_id)
  }
}

stop_overdue <- function(snapshot, seconds_until_timeout) {
  warning(sprintf("workflow %d: run %d did not finish within %s s; stopping it",
                  snapshot$workflow_id, snapshot$run_id, seconds_until_timeout), call. = FALSE)
  tryCatch(
    run_snapshot(unwrap(graphql(paste0("mutation Stop($id: Int!) { stopWorkflowRun(workflowRunId: $id) { ",
                                       run_fields, " } }"), list(id = scalar(snapshot$run_id))),
                        "stopWorkflowRun")),
    jobmon_validation_error = function(e) read_run(snapshot$run_id)  # it ended meanwhile
  )
}

# Tasks per status, as a named integer vector, from a `taskCounts` selection.
status_counts <- function(task_counts) {
  counts <- vapply(task_counts, function(c) as.integer(c$count), 0L)
  names(counts) <- vapply(task_counts, function(c) c$status, "")
  counts
}
