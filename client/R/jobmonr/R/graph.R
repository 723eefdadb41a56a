# The workflow's task graph, checked before binding: duplicates, missing upstreams, cycles.
# Tasks are indexed 1..n; edges are two parallel integer vectors.

build_graph <- function(workflow) {
  added <- added_tasks(workflow)
  keys <- added$keys
  first <- !duplicated(keys)
  tasks <- added$tasks[first]
  task_keys <- keys[first]
  n <- length(tasks)
  # other task objects that are the same task as one in `tasks`: added twice, or named as
  # an upstream without being added
  candidates <- added$tasks[!first]
  candidate_index <- match(keys[!first], task_keys)
  # every dependency at once: one match over all upstream keys, not one per task
  ups <- lapply(tasks, function(t) t$upstream)
  down <- rep.int(seq_len(n), lengths(ups))
  ups <- unlist(ups, recursive = FALSE, use.names = FALSE)
  up <- match(vapply(ups, function(u) u$node_key, ""), task_keys)
  if (anyNA(up)) {
    first_missing <- which(is.na(up))[1]
    definition_error(sprintf(
      "task '%s' depends on task '%s', which is not in workflow '%s'; add it with add_tasks()",
      tasks[[down[[first_missing]]]]$name, ups[[first_missing]]$name, workflow$name),
      kind = "missing_upstream")
  }
  candidates <- c(candidates, ups)
  candidate_index <- c(candidate_index, up)
  same <- vapply(seq_along(candidates),
                 function(j) identical(candidates[[j]], tasks[[candidate_index[[j]]]]), TRUE)
  candidates <- candidates[!same]
  candidate_index <- candidate_index[!same]
  once <- !duplicated(candidates)
  aliases <- candidates[once]
  alias_index <- candidate_index[once]
  for (i in seq_along(aliases)) check_same_task(tasks[[alias_index[[i]]]], aliases[[i]])
  # a task named twice as an upstream of one task (or through two aliases) is one edge
  distinct_edge <- !duplicated(up + (down - 1) * as.double(n))
  up <- up[distinct_edge]
  down <- down[distinct_edge]
  check_acyclic(tasks, up, down)
  list(tasks = tasks, up = up, down = down, aliases = aliases, alias_index = alias_index)
}

check_same_task <- function(first, other) {
  fields <- list(
    name = c(first$name, other$name),
    command = c(first$command, other$command),
    task_args = c(first$task_canonical, other$task_canonical),
    `compute resources, cluster or max_attempts` = c(first$options$key, other$options$key),
    `upstream tasks` = c(upstream_set(first), upstream_set(other))
  )
  for (field in names(fields)) {
    pair <- fields[[field]]
    if (pair[[1]] != pair[[2]]) {
      definition_error(sprintf(
        "task '%s' (template '%s') was added twice with different %s; give the two tasks different node args, or add only one",
        first$name, first$template$template_name, field), kind = "duplicate_task")
    }
  }
}

upstream_set <- function(task) {
  paste(sort_codepoints(unique(vapply(task$upstream, function(u) u$node_key, ""))), collapse = "\n")
}

# Kahn's algorithm a layer at a time; on failure, name one cycle.
check_acyclic <- function(tasks, up, down) {
  n <- length(tasks)
  if (!length(up)) return(invisible())
  waiting <- tabulate(down, n)
  downstream <- split(down, factor(up, levels = seq_len(n)))
  ready <- which(waiting == 0L)
  while (length(ready)) {
    reached <- unlist(downstream[ready], use.names = FALSE)
    if (!length(reached)) break
    once <- unique(reached)  # only the tasks reached: a long chain stays linear
    waiting[once] <- waiting[once] - tabulate(match(reached, once), length(once))
    ready <- once[waiting[once] == 0L]
  }
  if (all(waiting == 0L)) return(invisible())
  upstream <- split(up, factor(down, levels = seq_len(n)))
  path <- which(waiting > 0L)[1]
  repeat {
    ups <- upstream[[path[length(path)]]]
    nxt <- ups[waiting[ups] > 0L][1]
    if (nxt %in% path) {
      cycle <- rev(path[match(nxt, path):length(path)])
      break
    }
    path <- c(path, nxt)
  }
  names <- vapply(tasks[cycle], function(t) t$name, "")
  if (length(names) > 20L) names <- c(names[1:20], sprintf("... (%d more)", length(names) - 20L))
  definition_error(sprintf("the task dependencies form a cycle through task '%s': %s; remove one of these dependencies",
                           names[1], paste(c(names, names[1]), collapse = " -> ")), kind = "cycle")
}
