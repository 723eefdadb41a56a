#' A task: one command made from a task template
#'
#' Give every node, task and op arg of the template a value, by name, in `...`. The other
#' arguments come after `...`, so they are matched only by their full names: an arg called
#' `max` or `name_suffix` is never taken for `max_attempts` or `name`.
#'
#' @param task_template A task template, from [task_template()].
#' @param name The task's name; by default made from the template's name and node args.
#' @param upstream_tasks A list of tasks that must finish before this one starts.
#' @param max_attempts How many times the task is tried before it fails for good.
#' @param compute_resources A named list of resources for this task, merged over the
#'   template's and the tool's defaults (see [set_default_compute_resources()]).
#' @param cluster_name The cluster to run on, if not the template's, workflow's or tool's.
#' @param resource_scales How a retry after running out of memory or runtime asks for
#'   more: a fraction to add (`list(memory = 0.5)`, the default is 0.5 for both) or the
#'   values of the retries in order (`list(runtime = c("2h", "4h"))`).
#' @param fallback_queues Queues to move to, in order, when a request exceeds its queue's
#'   limits.
#' @param task_attributes A named list of metadata stored with the task (values become
#'   strings), as Jobmon's `task_attributes`.
#' @param ... The args, by name: `message = "Hello"`.
#' @return A task.
#' @examples
#' tool <- jobmonr::tool(name = "quickstart_r")
#' tt <- jobmonr::task_template(tool = tool, template_name = "echo_template",
#'                              command_template = "echo {message}", node_args = list("message"))
#' t1 <- jobmonr::task(task_template = tt, name = "hello", message = "Hello")
#' @export
task <- function(task_template, ..., name = NULL, upstream_tasks = list(), max_attempts = NULL,
                 compute_resources = NULL, cluster_name = NULL, resource_scales = NULL,
                 fallback_queues = NULL, task_attributes = list()) {
  check_template(task_template)
  args <- list(...)
  what <- sprintf("task %sof template '%s'",
                  if (is.null(name)) "" else sprintf("'%s' ", name), task_template$template_name)
  if (!is.null(name)) check_name(name, what)
  values <- check_args(task_template, args, what)
  long <- names(values)[lengths(values) != 1L]
  if (length(long)) {
    definition_error(what, ": arg '", long[1], "' has ", length(values[[long[1]]]),
                     " values; a task takes one. Use array_tasks() for one task per value")
  }
  options <- task_options(what, cluster_name, compute_resources, max_attempts, resource_scales,
                          fallback_queues)
  made <- make_tasks(task_template, values, 1L, name, options, as_task_list(upstream_tasks, what))[[1]]
  made$attributes <- check_attributes(task_attributes, what)
  made
}

#' Many tasks of one template at once
#'
#' A node arg given several values is expanded: the tasks are every combination of the
#' distinct values of the node args, as in the Python client's `create_tasks` (a template
#' without node args makes one task). Task and op args, resources and upstream tasks are
#' the same for every task. Much faster than calling [task()] once per task.
#'
#' @inheritParams task
#' @return A list of tasks.
#' @examples
#' tool <- jobmonr::tool(name = "quickstart_r")
#' tt <- jobmonr::task_template(tool = tool, template_name = "model",
#'                              command_template = "echo {location_id} {year}",
#'                              node_args = c("location_id", "year"))
#' tasks <- jobmonr::array_tasks(task_template = tt, location_id = 1:50, year = 2026)
#' @export
array_tasks <- function(task_template, ..., upstream_tasks = list(), max_attempts = NULL,
                        compute_resources = NULL, cluster_name = NULL, resource_scales = NULL,
                        fallback_queues = NULL, task_attributes = list()) {
  check_template(task_template)
  args <- list(...)
  what <- sprintf("tasks of template '%s'", task_template$template_name)
  values <- check_args(task_template, args, what)
  fixed <- setdiff(names(values), task_template$node_args)
  long <- fixed[lengths(values[fixed]) != 1L]
  if (length(long)) {
    definition_error(what, ": '", long[1], "' is a task or op arg, so it takes one value, not ",
                     length(values[[long[1]]]), "; only node args are expanded")
  }
  options <- task_options(what, cluster_name, compute_resources, max_attempts, resource_scales,
                          fallback_queues)
  node <- task_template$node_args
  # every combination, the last node arg varying fastest (as Python's itertools.product)
  n <- 1L
  if (length(node)) {
    grid <- expand.grid(rev(lapply(values[node], unique)), KEEP.OUT.ATTRS = FALSE,
                        stringsAsFactors = FALSE)
    n <- nrow(grid)
    values[node] <- as.list(grid)[node]
  }
  made <- make_tasks(task_template, values, n, NULL, options, as_task_list(upstream_tasks, what))
  attributes <- check_attributes(task_attributes, what)
  if (length(attributes)) for (t in made) t$attributes <- attributes
  made
}

#' The tasks of a workflow with some node arg values
#'
#' As Jobmon's `get_tasks_by_node_args`: the tasks added to `workflow` from the template
#' named `task_template_name` whose node args have the values given in `...`.
#'
#' @param workflow A workflow.
#' @param task_template_name The template's name.
#' @param ... Node args and their values: `location_id = 1`.
#' @return A list of tasks.
#' @export
get_tasks_by_node_args <- function(workflow, task_template_name, ...) {
  check_workflow(workflow)
  wanted <- list(...)
  values <- lapply(names(wanted), function(arg) arg_strings(wanted[[arg]], arg))
  names(values) <- names(wanted)
  Filter(function(t) {
    identical(t$template$template_name, task_template_name) &&
      all(vapply(names(values), function(arg) identical(unname(t$node_args[arg]), values[[arg]]), TRUE))
  }, added_tasks(workflow)$tasks)
}

# Attributes as stored: a named list of strings.
check_attributes <- function(attributes, what) {
  if (!length(attributes)) return(list())
  if (!is.list(attributes) || is.null(names(attributes)) || any(!nzchar(names(attributes)))) {
    definition_error(what, ": attributes must be a named list, such as list(release_id = 3)")
  }
  lapply(attributes, function(v) arg_strings(v, paste(what, "attribute")))
}

#' Add dependencies to a task
#'
#' @param task The task that waits.
#' @param upstream_task The task it waits for, or a list of them.
#' @return `task`, invisibly.
#' @export
add_upstream <- function(task, upstream_task) {
  check_task(task, "add_upstream")
  ups <- as_task_list(upstream_task, sprintf("add_upstream of task '%s'", task$name))
  for (up in ups) {
    if (identical(task, up)) {
      definition_error(sprintf("task '%s' cannot depend on itself", task$name), kind = "cycle")
    }
  }
  task$upstream <- c(task$upstream, ups)
  invisible(task)
}

#' @export
print.jobmon_task <- function(x, ...) {
  cat(sprintf("<jobmon task '%s'%s: %s>\n", x$name,
              if (is.null(x$task_id)) "" else sprintf(" (id %d)", x$task_id), x$command))
  invisible(x)
}

check_template <- function(template) {
  if (!inherits(template, "jobmon_task_template")) {
    definition_error("`task_template` must come from jobmonr::task_template(), got ",
                     paste(class(template), collapse = "/"))
  }
}

check_task <- function(x, what) {
  if (!inherits(x, "jobmon_task")) {
    definition_error(what, ": expected a task from jobmonr::task() or array_tasks(), got ",
                     paste(class(x), collapse = "/"))
  }
}

as_task_list <- function(tasks, what) {
  if (inherits(tasks, "jobmon_task")) tasks <- list(tasks)
  if (is.null(tasks)) return(list())
  if (!is.list(tasks)) definition_error(what, ": expected a task or a list of tasks")
  for (t in tasks) check_task(t, what)
  unname(tasks)
}

# Every declared arg given, nothing else; the values as strings.
check_args <- function(template, args, what) {
  declared <- c(template$node_args, template$task_args, template$op_args)
  given <- names(args)
  if (length(args) && (is.null(given) || any(!nzchar(given)))) {
    definition_error(what, ": give every arg by name, such as ", declared[1] %||% "location_id", " = 1",
                     kind = "template_argument")
  }
  unknown <- setdiff(given, declared)
  if (length(unknown)) {
    definition_error(what, ": unknown arg(s) ", paste0("'", unknown, "'", collapse = ", "),
                     "; the template takes node_args (", paste(template$node_args, collapse = ", "),
                     "), task_args (", paste(template$task_args, collapse = ", "),
                     ") and op_args (", paste(template$op_args, collapse = ", "), ")",
                     kind = "template_argument")
  }
  missing <- setdiff(declared, given)
  if (length(missing)) {
    definition_error(what, ": missing arg(s) ", paste0("'", missing, "'", collapse = ", "),
                     "; pass a value for each", kind = "template_argument")
  }
  values <- lapply(declared, function(arg) arg_strings(args[[arg]], sprintf("%s: arg '%s'", what, arg)))
  names(values) <- declared
  values
}

task_options <- function(what, cluster_name, compute_resources, max_attempts, resource_scales,
                         fallback_queues) {
  options <- list(
    cluster_name = if (is.null(cluster_name)) NULL else check_name(cluster_name, paste(what, "cluster")),
    compute_resources = check_resources(compute_resources, what),
    max_attempts = if (is.null(max_attempts)) NULL else check_whole(max_attempts, paste(what, "max_attempts")),
    resource_scales = check_resource_scales(resource_scales, what),
    fallback_queues = check_fallback_queues(fallback_queues, what)
  )
  # what the options say, so that tasks made by separate calls share their settings
  options$key <- as.character(jsonlite::toJSON(options, auto_unbox = TRUE, null = "null", digits = NA))
  options
}

# Makes n tasks from per-arg string vectors (each of length 1 or n).
make_tasks <- function(template, values, n, name, options, upstream) {
  values <- lapply(values, rep_len, length.out = n)
  node <- values[template$node_args]
  task_values <- values[template$task_args]
  node_canonical <- canonical_args(node, n)
  if (is.null(name)) {
    name <- if (!length(node)) rep(paste0(template$template_name, "_"), n) else {
      pairs <- lapply(names(node), function(arg) paste0(arg, "-", node[[arg]]))
      storable_names(paste0(template$template_name, "_", do.call(paste, c(pairs, sep = "_"))))
    }
  }
  commands <- fill_command(template, values, n)
  node_keys <- paste0(template$version_key, "\x1e", node_canonical)
  task_canonical <- canonical_args(task_values, n)
  lapply(seq_len(n), function(i) {
    this <- new.env(parent = emptyenv())
    this$template <- template
    this$name <- name[[i]]
    this$command <- commands[[i]]
    this$node_args <- vapply(node, `[[`, "", i)
    this$task_args <- vapply(task_values, `[[`, "", i)
    this$node_canonical <- node_canonical[[i]]
    this$task_canonical <- task_canonical[[i]]
    this$node_key <- node_keys[[i]]
    this$options <- options
    this$upstream <- upstream
    this$task_id <- NULL
    class(this) <- "jobmon_task"
    this
  })
}
