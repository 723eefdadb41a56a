#' A workflow: tasks and their dependencies, run as a whole
#'
#' The tool, `workflow_args` and the set of tasks and dependencies make a workflow's
#' identity: binding the same again (from R or Python) finds the workflow stored before,
#' which `run(resume = TRUE)` continues. Without `workflow_args` every workflow is new.
#'
#' @param tool A tool, from [tool()].
#' @param workflow_args What makes this workflow different from the tool's others, such as
#'   a version or a date.
#' @param name A name to show; by default `workflow_args`.
#' @param description Free text.
#' @param max_concurrently_running How many of its tasks may run at once.
#' @param default_cluster_name,default_max_attempts Defaults for its tasks, between the
#'   template's and the tool's.
#' @param workflow_attributes A named list of metadata stored with the workflow (values
#'   become strings), as Jobmon's `workflow_attributes`.
#' @return A workflow (an environment: [add_tasks()] and [bind()] change it in place and
#'   also return it).
#' @export
workflow <- function(tool, workflow_args = NULL, name = NULL, description = "",
                     max_concurrently_running = 10000L, default_cluster_name = NULL,
                     default_max_attempts = NULL, workflow_attributes = list()) {
  if (!inherits(tool, "jobmon_tool")) definition_error("workflow: `tool` must come from jobmonr::tool()")
  if (is.null(workflow_args) || !nzchar(workflow_args)) {
    workflow_args <- random_uuid()
    message("no workflow_args given; this workflow cannot be resumed by a new R session")
  }
  this <- new.env(parent = emptyenv())
  class(this) <- "jobmon_workflow"
  this$tool <- tool
  this$workflow_args <- arg_strings(workflow_args, "workflow_args")
  if (length(this$workflow_args) != 1L) definition_error("workflow_args must be one string")
  this$name <- check_name(name %||% this$workflow_args, "workflow")
  if (!is.character(description %||% "") || length(description %||% "") != 1L || anyNA(description)) {
    definition_error(sprintf("workflow '%s': description must be one string", this$name))
  }
  this$description <- description %||% ""
  this$max_concurrently_running <- check_whole(max_concurrently_running,
                                               sprintf("workflow '%s': max_concurrently_running", this$name))
  this$default_cluster_name <- NULL
  this$default_compute_resources <- list()
  this$default_max_attempts <- NULL
  if (!is.null(default_cluster_name)) set_default_cluster_name(this, default_cluster_name)
  if (!is.null(default_max_attempts)) set_default_max_attempts(this, default_max_attempts)
  if (length(workflow_attributes) && (is.null(names(workflow_attributes)) ||
                                      any(!nzchar(names(workflow_attributes))))) {
    definition_error(sprintf("workflow '%s': workflow_attributes must be a named list", this$name))
  }
  this$attributes <- check_attributes(workflow_attributes, sprintf("workflow '%s'", this$name))
  this$user <- current_user()
  this$chunks <- list()  # what add_tasks() was given, joined at bind (appending is quadratic)
  this$workflow_id <- NULL
  this$workflow_run_id <- NULL
  this
}

#' @export
print.jobmon_workflow <- function(x, ...) {
  cat(sprintf("<jobmon workflow '%s': %d tasks added%s>\n", x$name, sum(lengths(x$chunks)),
              if (is.null(x$workflow_id)) ", not bound" else sprintf(", id %d", x$workflow_id)))
  invisible(x)
}

#' Add tasks to a workflow
#'
#' Adding the same task again is harmless; a different task with the same template and node
#' args is refused when the workflow is bound.
#'
#' @param workflow A workflow, from [workflow()].
#' @param tasks A task or a list of tasks.
#' @return The workflow.
#' @export
add_tasks <- function(workflow, tasks) {
  check_workflow(workflow)
  tasks <- as_task_list(tasks, sprintf("add_tasks to workflow '%s'", workflow$name))
  if (!is.null(workflow$workflow_id)) {
    definition_error(sprintf("workflow '%s' is bound already; add tasks to a new workflow instead",
                             workflow$name))
  }
  workflow$chunks[[length(workflow$chunks) + 1L]] <- tasks
  invisible(workflow)
}

# The tasks added so far, in order, with their node keys.
added_tasks <- function(workflow) {
  if (length(workflow$chunks) != 1L) {
    workflow$chunks <- list(unlist(workflow$chunks, recursive = FALSE, use.names = FALSE) %||% list())
  }
  tasks <- workflow$chunks[[1]]
  list(tasks = tasks, keys = vapply(tasks, function(t) t$node_key, ""))
}

#' @rdname add_tasks
#' @param task One task.
#' @export
add_task <- function(workflow, task) add_tasks(workflow, list(task))

#' Limit how many of a workflow's tasks run at once
#'
#' Applies at once to a bound workflow, also while it runs.
#'
#' @param workflow A workflow.
#' @param limit The most tasks that may run at once.
#' @return The workflow, invisibly.
#' @export
set_max_concurrently_running <- function(workflow, limit) {
  check_workflow(workflow)
  workflow$max_concurrently_running <- check_whole(limit, "max_concurrently_running")
  if (!is.null(workflow$workflow_id)) apply_limit(workflow)
  invisible(workflow)
}

apply_limit <- function(workflow) {
  unwrap(graphql(
    "mutation SetLimit($workflowId: Int!, $limit: Int!) {
       setMaxConcurrentlyRunning(workflowId: $workflowId, limit: $limit) {
         __typename ... on Workflow { maxConcurrentlyRunning } ... on Error { message } } }",
    list(workflowId = scalar(workflow$workflow_id), limit = scalar(workflow$max_concurrently_running))
  ), "setMaxConcurrentlyRunning")
}

check_workflow <- function(workflow) {
  if (!inherits(workflow, "jobmon_workflow")) {
    definition_error("expected a workflow from jobmonr::workflow(), got ",
                     paste(class(workflow), collapse = "/"))
  }
}

# The login name, found as Python's getpass.getuser() finds it.
current_user <- function() {
  for (name in c("LOGNAME", "USER", "LNAME", "USERNAME")) {
    value <- Sys.getenv(name, "")
    if (nzchar(value)) return(value)
  }
  Sys.info()[["user"]]
}

random_uuid <- function() {
  hex <- paste(as.character(openssl::rand_bytes(16)), collapse = "")
  paste(substr(hex, 1, 8), substr(hex, 9, 12), paste0("4", substr(hex, 14, 16)),
        substr(hex, 17, 20), substr(hex, 21, 32), sep = "-")
}
