# The bind protocol, as the Python client speaks it: bindTool, bindTaskTemplates, then
# bindWorkflow with the content hashes, bindTasks in columnar chunks, bindEdges as id
# pairs, and completeBind. Every step may be resent, so a bind interrupted at any point is
# completed by binding again.

task_chunk_size <- 10000L
edge_chunk_size <- 50000L

#' Store a workflow and its tasks on the server
#'
#' Checks the workflow (missing upstream tasks, cycles, tasks added twice differently),
#' then stores it, or finds the workflow stored before with the same identity. `run()`
#' binds first, so most scripts never call this.
#'
#' @param workflow A workflow.
#' @return The workflow, with `workflow$workflow_id` set and each task's `task_id`.
#' @export
bind <- function(workflow) {
  check_workflow(workflow)
  if (!is.null(workflow$workflow_id)) return(invisible(workflow))
  if (!sum(lengths(workflow$chunks))) {
    definition_error(sprintf("workflow '%s' has no tasks; add some with add_tasks()", workflow$name))
  }
  graph <- build_graph(workflow)
  tasks <- graph$tasks
  settings <- resolve_settings(workflow, tasks)
  templates <- lapply(tasks, function(t) t$template)
  template_keys <- vapply(templates, function(t) t$version_key, "")
  keys <- task_keys(vapply(templates, function(t) t$template_name, ""),
                    vapply(templates, function(t) t$command_template, ""),
                    vapply(tasks, function(t) t$node_canonical, ""),
                    vapply(tasks, function(t) t$task_canonical, ""))

  tool_version_id <- bind_tool(workflow$tool$name)
  distinct <- !duplicated(template_keys)
  template_ids <- bind_task_templates(tool_version_id, templates[distinct])
  names(template_ids) <- template_keys[distinct]
  attributes <- if (length(workflow$attributes)) {
    list(attributes = json_object(lapply(workflow$attributes, scalar)))
  }
  bound <- unwrap(graphql(bind_workflow_document, list(input = c(list(
    toolVersionId = scalar(tool_version_id),
    name = scalar(workflow$name),
    description = scalar(workflow$description),
    workflowArgs = scalar(workflow$workflow_args),
    taskHash = scalar(task_set_hash(keys)),
    dagHash = scalar(dag_hash(keys[graph$up], keys[graph$down])),
    user = scalar(workflow$user),
    maxConcurrentlyRunning = scalar(workflow$max_concurrently_running)
  ), attributes))), "bindWorkflow")
  workflow_id <- as.integer(bound$workflow$id)
  task_ids <- bind_tasks(workflow_id, tasks, unname(template_ids[template_keys]), settings)
  bind_edges(workflow_id, task_ids[graph$up], task_ids[graph$down])
  unwrap(graphql(complete_bind_document, list(workflowId = scalar(workflow_id),
                                              totalTasks = scalar(length(tasks)))), "completeBind")
  for (i in seq_along(tasks)) assign("task_id", task_ids[[i]], envir = tasks[[i]])
  for (i in seq_along(graph$aliases)) {
    assign("task_id", task_ids[[graph$alias_index[[i]]]], envir = graph$aliases[[i]])
  }
  workflow$workflow_id <- workflow_id
  if (as.integer(bound$workflow$maxConcurrentlyRunning) != workflow$max_concurrently_running) {
    apply_limit(workflow)
  }
  invisible(workflow)
}

bind_tool <- function(name) {
  result <- unwrap(graphql(
    "mutation BindTool($name: String!) { bindTool(name: $name) {
       __typename ... on ToolVersion { id } ... on Error { message } } }",
    list(name = scalar(name))), "bindTool")
  as.integer(result$id)
}

bind_task_templates <- function(tool_version_id, templates) {
  payload <- lapply(templates, function(t) list(
    name = scalar(t$template_name), commandTemplate = scalar(t$command_template),
    nodeArgs = t$node_args, taskArgs = t$task_args, opArgs = t$op_args))
  result <- unwrap(graphql(
    "mutation BindTaskTemplates($toolVersionId: Int!, $templates: [TaskTemplateInput!]!) {
       bindTaskTemplates(toolVersionId: $toolVersionId, templates: $templates) {
         __typename ... on TaskTemplateVersionList { items { id } } ... on Error { message } } }",
    list(toolVersionId = scalar(tool_version_id), templates = payload)), "bindTaskTemplates")
  ids <- vapply(result$items, function(item) as.integer(item$id), 0L)
  check_aligned("bindTaskTemplates", length(templates), length(ids))
  ids
}

bind_workflow_document <- "mutation BindWorkflow($input: WorkflowInput!) {
  bindWorkflow(input: $input) {
    __typename
    ... on BoundWorkflow { created boundTasks workflow { id status maxConcurrentlyRunning } }
    ... on Error { message } } }"

complete_bind_document <- "mutation CompleteBind($workflowId: Int!, $totalTasks: Int!) {
  completeBind(workflowId: $workflowId, totalTasks: $totalTasks) {
    __typename ... on Workflow { id status totalTasks } ... on Error { message } } }"

# Upserts the tasks in chunks, a column per field; answers their ids in task order.
bind_tasks <- function(workflow_id, tasks, template_ids, settings) {
  ids <- vector("list", ceiling(length(tasks) / task_chunk_size))
  for (chunk in seq_along(ids)) {
    rows <- seq.int((chunk - 1L) * task_chunk_size + 1L, min(chunk * task_chunk_size, length(tasks)))
    result <- unwrap(graphql(
      "mutation BindTasks($workflowId: Int!, $tasks: JSON!) {
         bindTasks(workflowId: $workflowId, tasks: $tasks) {
           __typename ... on BoundTasks { taskIds } ... on Error { message } } }",
      list(workflowId = scalar(workflow_id),
           tasks = task_batch(tasks[rows], template_ids[rows], settings, rows))), "bindTasks")
    ids[[chunk]] <- as.integer(unlist(result$taskIds))
    check_aligned("bindTasks", length(rows), length(ids[[chunk]]))
  }
  unlist(ids)
}

# One task batch for bindTasks; tasks that ask for the same resources share one resources entry.
task_batch <- function(tasks, template_ids, settings, rows) {
  used <- settings$index[rows]
  specs <- settings$spec_keys[used]
  kinds <- unique(specs)
  batch <- list(
    templateVersionIds = template_ids,
    names = vapply(tasks, function(t) t$name, ""),
    commands = vapply(tasks, function(t) t$command, ""),
    nodeArgs = args_json(tasks, "node_args"),
    taskArgs = args_json(tasks, "task_args"),
    maxAttempts = vapply(settings$entries[used], function(s) s$max_attempts, 0L),
    resourceIndexes = match(specs, kinds) - 1L,
    resources = lapply(settings$entries[match(kinds, settings$spec_keys)], function(s) {
      spec <- list(clusterName = scalar(s$cluster_name), resources = json_value(json_object(s$resources)))
      if (!is.null(s$resource_scales)) spec$resourceScales <- json_value(s$resource_scales)
      if (!is.null(s$fallback_queues)) spec$fallbackQueues <- s$fallback_queues
      spec
    })
  )
  if (any(vapply(tasks, function(t) length(t$attributes) > 0L, TRUE))) {
    batch$attributes <- lapply(tasks, function(t) {
      if (length(t$attributes)) json_object(lapply(t$attributes, scalar)) else NULL
    })
  }
  batch
}

# A JSON array with each task's args as an object, made by jsonlite in one pass: a data
# frame becomes an array of row objects, and a row leaves out the args its task lacks.
args_json <- function(tasks, field) {
  values <- lapply(tasks, function(t) t[[field]])
  columns <- unique(unlist(lapply(values, names), use.names = FALSE))
  frame <- data.frame(row.names = seq_along(tasks))
  for (name in columns) {
    frame[[name]] <- vapply(values, function(v) if (name %in% names(v)) v[[name]] else NA_character_, "")
  }
  jsonlite::toJSON(frame, dataframe = "rows")
}

bind_edges <- function(workflow_id, upstream_ids, downstream_ids) {
  if (!length(upstream_ids)) return(invisible())
  for (start in seq.int(1L, length(upstream_ids), by = edge_chunk_size)) {
    rows <- seq.int(start, min(start + edge_chunk_size - 1L, length(upstream_ids)))
    unwrap(graphql(
      "mutation BindEdges($workflowId: Int!, $up: JSON!, $down: JSON!) {
         bindEdges(workflowId: $workflowId, upstreamTaskIds: $up, downstreamTaskIds: $down) {
           __typename ... on BoundEdges { count } ... on Error { message } } }",
      list(workflowId = scalar(workflow_id), up = upstream_ids[rows], down = downstream_ids[rows])),
      "bindEdges")
  }
}

# Each task's cluster, merged resources and max_attempts; tasks whose template and options
# say the same share one entry (`index` gives each task's), and entries asking for the same
# resources share one `spec_keys` value.
resolve_settings <- function(workflow, tasks) {
  keys <- paste(vapply(tasks, function(t) t$options$key, ""),
                vapply(tasks, function(t) t$template$version_key, ""), sep = "\x1f")
  distinct <- !duplicated(keys)
  entries <- lapply(tasks[distinct], function(t) resolve_one(workflow, t))
  spec_keys <- vapply(entries, function(e) {
    paste(e$cluster_name, jsonlite::toJSON(list(json_object(e$resources), e$resource_scales,
                                                e$fallback_queues),
                                           auto_unbox = TRUE, null = "null", digits = NA))
  }, "")
  list(entries = entries, index = match(keys, keys[distinct]), spec_keys = spec_keys)
}

resolve_one <- function(workflow, task) {
  template <- task$template
  tool <- template$tool
  options <- task$options
  cluster <- options$cluster_name %||% template$default_cluster_name %||%
    workflow$default_cluster_name %||% tool$default_cluster_name %||%
    cluster_of_resources(workflow, task)
  list(
    cluster_name = cluster,
    resources = merge_resources(tool$default_compute_resources[[cluster]],
                                workflow$default_compute_resources[[cluster]],
                                template$default_resources_any,
                                template$default_compute_resources[[cluster]],
                                options$compute_resources),
    max_attempts = as.integer(options$max_attempts %||% template$default_max_attempts %||%
                                workflow$default_max_attempts %||% tool$default_max_attempts %||%
                                default_max_attempts),
    resource_scales = options$resource_scales,
    fallback_queues = options$fallback_queues
  )
}

check_aligned <- function(mutation, sent, received) {
  if (sent != received) server_error(sprintf("%s answered %d ids for %d inputs", mutation, received, sent))
}

# A task whose cluster is named nowhere: the one cluster its defaults are for, else an error.
cluster_of_resources <- function(workflow, task) {
  template <- task$template
  candidates <- sort(unique(c(names(template$default_compute_resources),
                              names(workflow$default_compute_resources),
                              names(template$tool$default_compute_resources))))
  if (length(candidates) == 1L) return(candidates)
  found <- if (length(candidates)) {
    paste0("default resources name the clusters ", paste(candidates, collapse = ", "))
  } else {
    "no cluster is named for it"
  }
  definition_error(sprintf("task '%s' (template '%s'): %s, so where it should run is not decided; ",
                           task$name, template$template_name, found),
                   "call set_default_cluster_name(tool, \"slurm\") (or the cluster you mean), or ",
                   "pass cluster_name to task() or array_tasks()", kind = "cluster")
}
