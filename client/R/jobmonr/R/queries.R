# Reading a workflow's state from R, for scripts that watch their workflows.

page_size <- 1000L

workflow_id_of <- function(workflow) {
  if (inherits(workflow, "jobmon_workflow")) {
    if (is.null(workflow$workflow_id)) {
      definition_error(sprintf("workflow '%s' is not bound; call bind() or run() first", workflow$name))
    }
    return(workflow$workflow_id)
  }
  if (is.numeric(workflow) && length(workflow) == 1L && !is.na(workflow)) return(as.integer(workflow))
  definition_error("expected a workflow or a workflow id, got ", paste(deparse(workflow), collapse = " "))
}

#' A workflow's status and its tasks' counts
#'
#' @param workflow A bound workflow, or a workflow id.
#' @return A list: `workflow_id`, `name`, `status`, `user`, `total_tasks`, and
#'   `task_counts`, a named integer vector of tasks per status.
#' @export
workflow_status <- function(workflow) {
  id <- workflow_id_of(workflow)
  wf <- unwrap(graphql(
    "query Status($id: Int!) { workflow(id: $id) { __typename
       ... on Workflow { id name status user totalTasks taskCounts { status count } }
       ... on Error { message } } }", list(id = scalar(id))), "workflow")
  counts <- status_counts(wf$taskCounts)
  list(workflow_id = as.integer(wf$id), name = wf$name, status = wf$status, user = wf$user,
       total_tasks = as.integer(wf$totalTasks), task_counts = counts)
}

#' The tasks of a workflow and their statuses
#'
#' Read a page of 1,000 tasks at a time, in id order.
#'
#' @param workflow A bound workflow, or a workflow id.
#' @param statuses Only tasks in these statuses (such as `"ERROR_FATAL"`), or all.
#' @param template_name Only tasks of this template, or all.
#' @param limit The most tasks to read.
#' @return A data frame: `task_id`, `name`, `template`, `status`, `num_attempts`,
#'   `max_attempts`, `latest_exit_code`.
#' @export
task_status <- function(workflow, statuses = NULL, template_name = NULL, limit = Inf) {
  id <- workflow_id_of(workflow)
  if (!is.null(statuses)) {
    statuses <- toupper(statuses)
    known <- names(TaskStatus)
    bad <- setdiff(statuses, known)
    if (length(bad)) {
      definition_error("unknown task status '", bad[1], "'; use one of ", paste(known, collapse = ", "))
    }
  }
  items <- read_pages(
    "query Tasks($id: Int!, $statuses: [TaskStatus!], $template: String, $first: Int!, $after: String) {
       workflow(id: $id) { __typename
         ... on Workflow { page: tasks(statuses: $statuses, templateName: $template, first: $first, after: $after) {
           items { id name templateName status numAttempts maxAttempts latestExitCode }
           endCursor hasNextPage } }
         ... on Error { message } } }",
    list(id = scalar(id), statuses = statuses,
         template = if (is.null(template_name)) NULL else scalar(template_name)),
    limit)
  columns(items, c(task_id = "id", name = "name", template = "templateName", status = "status",
                   num_attempts = "numAttempts", max_attempts = "maxAttempts",
                   latest_exit_code = "latestExitCode"))
}

#' The errors of a workflow's task attempts
#'
#' @param workflow A bound workflow, or a workflow id.
#' @param limit The most errors to read, oldest first.
#' @return A data frame: `task_id`, `task_name`, `task_instance_id`, `status`, `exit_code`,
#'   `time`, `description` (the tail of the attempt's stderr, or why it ended).
#' @export
get_errors <- function(workflow, limit = 1000) {
  id <- workflow_id_of(workflow)
  items <- read_pages(
    "query Errors($id: Int!, $first: Int!, $after: String) { workflow(id: $id) { __typename
       ... on Workflow { page: errors(first: $first, after: $after) {
         items { taskInstanceId taskId taskName description time status exitCode }
         endCursor hasNextPage } }
       ... on Error { message } } }",
    list(id = scalar(id)), limit)
  columns(items, c(task_id = "taskId", task_name = "taskName", task_instance_id = "taskInstanceId",
                   status = "status", exit_code = "exitCode", time = "time", description = "description"))
}

# Every item of a workflow's paginated list (selected as `page`), up to `limit`.
read_pages <- function(document, variables, limit) {
  pages <- list()
  got <- 0
  repeat {
    variables$first <- scalar(as.integer(min(page_size, limit - got)))
    page <- unwrap(graphql(document, variables), "workflow")$page
    pages[[length(pages) + 1L]] <- page$items
    got <- got + length(page$items)
    if (!isTRUE(page$hasNextPage) || got >= limit) break
    variables$after <- scalar(page$endCursor)
  }
  unlist(pages, recursive = FALSE)
}

# A data frame from a list of items: a column per field, named as in `fields`' names.
columns <- function(items, fields) {
  out <- lapply(fields, function(field) {
    values <- lapply(items, function(item) item[[field]])
    values[vapply(values, is.null, TRUE)] <- NA
    unlist(values)
  })
  if (!length(items)) out <- lapply(out, function(x) logical())
  as.data.frame(out, stringsAsFactors = FALSE)
}
