#' A tool: the program a workflow belongs to
#'
#' A tool groups the workflows and task templates of one project. Nothing is sent to the
#' server until a workflow is bound.
#'
#' @param name The tool's name.
#' @param active_tool_version_id Accepted for Jobmon's scripts: a tool here has one
#'   version, made when a workflow is bound.
#' @return A tool object (an environment: changing its defaults changes them for every
#'   template and workflow made from it).
#' @examples
#' tool <- jobmonr::tool(name = "quickstart_r")
#' @export
tool <- function(name = paste0("unknown-", current_user()), active_tool_version_id = "latest") {
  check_name(name, "tool")
  this <- new.env(parent = emptyenv())
  this$name <- name
  this$default_cluster_name <- NULL
  this$default_compute_resources <- list()
  this$default_max_attempts <- NULL
  this$templates <- new.env(parent = emptyenv())
  class(this) <- "jobmon_tool"
  this
}

#' @export
print.jobmon_tool <- function(x, ...) {
  cat(sprintf("<jobmon tool '%s'>\n", x$name))
  invisible(x)
}

#' Default compute resources of a tool or a task template
#'
#' Tasks take their resources, key by key, from the tool's defaults for their cluster, then
#' the template's defaults, then their own `compute_resources`.
#'
#' @param x A tool or a task template.
#' @param cluster_name The cluster these resources are for. For a task template, `NULL`
#'   means whichever cluster its tasks run on.
#' @param resources A named list: `cores`, `memory` (such as `"512M"` or `"1G"`; a bare
#'   number is GB), `runtime` (such as `"10m"`, `"2h"` or `"01:30:00"`; a bare number is
#'   seconds), `queue`, `project`, `constraints`, `gpus`, and `sbatch` (a named list of other
#'   sbatch options).
#' @return `x`, invisibly.
#' @export
set_default_compute_resources <- function(x, cluster_name, resources) {
  what <- describe(x)
  if (!is.null(cluster_name)) check_name(cluster_name, paste(what, "cluster"))
  if (is.null(cluster_name) && !inherits(x, "jobmon_task_template")) {
    definition_error(what, ": name the cluster these resources are for")
  }
  resources <- check_resources(resources, what)
  if (is.null(cluster_name)) {
    x$default_resources_any <- resources
  } else {
    x$default_compute_resources[[cluster_name]] <- resources
  }
  invisible(x)
}

#' @rdname set_default_compute_resources
#' @param tool A tool.
#' @param default_cluster_name The cluster these resources are for; it also becomes the
#'   default cluster.
#' @param path_to_yaml Instead of `resources`, a Jobmon resources file: the tool's come
#'   from its `tool_resources`, a template's from `task_template_resources` (needs the
#'   yaml package).
#' @export
set_default_tool_resources <- function(tool, default_cluster_name, resources = NULL,
                                       path_to_yaml = NULL) {
  resources <- resources_or_yaml(resources, path_to_yaml, list("tool_resources", default_cluster_name),
                                 describe(tool))
  set_default_cluster_name(tool, default_cluster_name)
  set_default_compute_resources(tool, default_cluster_name, resources)
}

#' @rdname set_default_compute_resources
#' @param task_template A task template.
#' @export
set_default_template_resources <- function(task_template, default_cluster_name, resources = NULL,
                                           path_to_yaml = NULL) {
  resources <- resources_or_yaml(
    resources, path_to_yaml,
    list("task_template_resources", task_template$template_name, default_cluster_name),
    describe(task_template))
  set_default_cluster_name(task_template, default_cluster_name)
  set_default_compute_resources(task_template, default_cluster_name, resources)
}

#' @rdname set_default_compute_resources
#' @param workflow A workflow: its defaults come between the tool's and the template's.
#' @export
set_default_workflow_resources <- function(workflow, default_cluster_name, resources = NULL,
                                           path_to_yaml = NULL) {
  resources <- resources_or_yaml(resources, path_to_yaml, list("tool_resources", default_cluster_name),
                                 describe(workflow))
  set_default_cluster_name(workflow, default_cluster_name)
  set_default_compute_resources(workflow, default_cluster_name, resources)
}

resources_or_yaml <- function(resources, path_to_yaml, keys, what) {
  if (is.null(path_to_yaml) == is.null(resources)) {
    definition_error(what, ": give either resources or path_to_yaml")
  }
  if (!is.null(resources)) return(resources)
  if (!requireNamespace("yaml", quietly = TRUE)) {
    definition_error(what, ": reading '", path_to_yaml, "' needs the yaml package ",
                     "(Debian: apt-get install r-cran-yaml)")
  }
  node <- tryCatch(yaml::read_yaml(path_to_yaml), error = function(e) {
    definition_error(what, ": cannot read '", path_to_yaml, "': ", conditionMessage(e))
  })
  for (depth in seq_along(keys)) {
    key <- keys[[depth]]
    if (!is.list(node) || is.null(node[[key]])) {
      definition_error(what, ": '", path_to_yaml, "' has no key '", key, "' under ",
                       if (depth == 1L) "the top level" else paste(keys[seq_len(depth - 1L)], collapse = ": "),
                       "; expected ", paste(keys, collapse = ": "), ": {cores: 1, memory: 1G, ...}")
    }
    node <- node[[key]]
  }
  node
}

#' Help on a Jobmon object
#'
#' Jobmon's R package shows the Python docstring; here the R help page of the function.
#'
#' @param object One of `"tool"`, `"task_template"`, `"task"`, `"workflow"` (or any of this
#'   package's functions).
#' @export
jobmon_help <- function(object) {
  utils::help(object, package = "jobmonr", help_type = "text")
}

#' The default cluster or number of attempts of a tool, template or workflow
#'
#' @param x A tool, task template or workflow.
#' @param cluster_name A cluster's name, such as `"multiprocess"` or `"slurm"`.
#' @param max_attempts How many times a task is tried before it fails for good.
#' @return `x`, invisibly.
#' @export
set_default_cluster_name <- function(x, cluster_name) {
  x$default_cluster_name <- check_name(cluster_name, paste(describe(x), "default cluster"))
  invisible(x)
}

#' @rdname set_default_cluster_name
#' @export
set_default_max_attempts <- function(x, max_attempts) {
  x$default_max_attempts <- check_whole(max_attempts, paste(describe(x), "max_attempts"))
  invisible(x)
}

describe <- function(x) {
  if (inherits(x, "jobmon_tool")) return(sprintf("tool '%s'", x$name))
  if (inherits(x, "jobmon_task_template")) return(sprintf("task template '%s'", x$template_name))
  if (inherits(x, "jobmon_workflow")) return(sprintf("workflow '%s'", x$name))
  definition_error("expected a tool, task template or workflow, got ",
                   paste(class(x), collapse = "/"))
}
