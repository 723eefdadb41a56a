# Refusals made before anything is sent: each names what is wrong and how to fix it.

tool <- jobmonr::tool(name = "definitions")
jobmonr::set_default_cluster_name(tool, "multiprocess")

test_that("a command template and its declared args must agree", {
  expect_error(task_template(tool, "t1", "echo {a} {b}", node_args = "a"),
               "uses '\\{b\\}', which is not a node, task or op arg", class = "jobmon_definition_error")
  expect_error(task_template(tool, "t2", "echo {a}", node_args = c("a", "c")),
               "node_args declares 'c', which the command template does not use")
  expect_error(task_template(tool, "t3", "echo {a}", node_args = "a", task_args = "a"),
               "declared in both node_args and task_args")
  expect_error(task_template(tool, "t4", "echo {name}", node_args = "name"), "'name' is an argument of task\\(\\)")
  expect_error(task_template(tool, "t5", "echo {a", node_args = "a"), "single '\\{'")
  expect_error(task_template(tool, "t6", "echo {0}"), "'\\{0\\}' is not a named arg")
})

test_that("literal braces are written doubled, and tasks fill the holes", {
  tt <- task_template(tool, "braces", "awk '{{print ${col}}}' {path}", node_args = "col", op_args = "path")
  t <- task(tt, col = 2, path = "/tmp/x")
  expect_equal(t$command, "awk '{print $2}' /tmp/x")
  expect_equal(t$name, "braces_col-2")
  expect_identical(task_template(tool, "braces", "awk '{{print ${col}}}' {path}",
                                 node_args = "col", op_args = "path"), tt)
})

test_that("args named like task()'s own arguments are args", {
  tt <- task_template(tool, "prefixes", "run {n} {max} {res}", node_args = c("n", "max"), op_args = "res")
  t <- task(tt, n = 5, max = 2, res = "low")
  expect_equal(t$command, "run 5 2 low")
  expect_null(t$options$max_attempts)
  expect_length(array_tasks(tt, n = 1:2, max = 3, res = "x", max_attempts = 4), 2)
  single <- array_tasks(task_template(tool, "no_args", "true"))
  expect_length(single, 1)
  expect_equal(single[[1]]$name, "no_args_")
})

test_that("a task needs every arg by name and one value each", {
  tt <- task_template(tool, "args", "run {loc} {year}", node_args = "loc", task_args = "year")
  expect_error(task(tt, loc = 1), "missing arg\\(s\\) 'year'; pass a value for each",
               class = "jobmon_template_argument_error")
  expect_error(task(tt, loc = 1, year = 2020, extra = 3), "unknown arg\\(s\\) 'extra'")
  expect_error(task(tt, loc = 1:2, year = 2020), "arg 'loc' has 2 values; a task takes one. Use array_tasks\\(\\)")
  expect_error(array_tasks(tt, loc = 1:2, year = 2020:2021), "'year' is a task or op arg, so it takes one value")
})

test_that("array_tasks makes one task per combination of node args", {
  tt <- task_template(tool, "grid", "run {loc} {sex} {year}", node_args = c("loc", "sex"), task_args = "year")
  tasks <- array_tasks(tt, loc = 1:3, sex = c("f", "m"), year = 2026)
  expect_length(tasks, 6)
  expect_setequal(vapply(tasks, function(t) t$command, ""),
                  as.vector(outer(1:3, c("f", "m"), function(l, s) paste("run", l, s, "2026"))))
  expect_equal(tasks[[1]]$name, "grid_loc-1_sex-f")
})

test_that("resources are checked where they are given", {
  tt <- task_template(tool, "res", "echo {x}", node_args = "x")
  expect_error(task(tt, x = 1, compute_resources = list(cores = 0)),
               "compute resource 'cores' must be a whole number of at least 1")
  expect_error(task(tt, x = 1, compute_resources = list(mem = "1G")),
               "unknown compute resource 'mem'; the known ones are cores, memory")
  expect_error(set_default_compute_resources(tool, "multiprocess", list(queue = "")),
               "tool 'definitions': compute resource 'queue' must be a non-empty string")
  expect_error(task(tt, x = 1, resource_scales = list(cores = 0.5)),
               "resource_scales must be a named list over memory and runtime")
  expect_error(task(tt, x = 1, max_attempts = 0), "max_attempts must be a whole number of at least 1")
})

test_that("the graph is checked at bind, before anything is sent", {
  withr_url <- Sys.getenv("JOBMON_SERVER_URL")
  Sys.setenv(JOBMON_SERVER_URL = "http://127.0.0.1:9")  # nothing listens: nothing may be sent
  on.exit(Sys.setenv(JOBMON_SERVER_URL = withr_url))
  tt <- task_template(tool, "graph", "echo {x}", node_args = "x")
  a <- task(tt, x = "a")
  b <- task(tt, x = "b", upstream_tasks = list(a))
  c <- task(tt, x = "c", upstream_tasks = list(b))
  add_upstream(a, c)
  wf <- add_tasks(workflow(tool, "cycle"), list(a, b, c))
  err <- expect_error(bind(wf), "the task dependencies form a cycle through task", class = "jobmon_cycle_error")
  rotations <- c("graph_x-a -> graph_x-b -> graph_x-c -> graph_x-a", "graph_x-b -> graph_x-c -> graph_x-a -> graph_x-b",
                 "graph_x-c -> graph_x-a -> graph_x-b -> graph_x-c")
  expect_true(any(vapply(rotations, grepl, TRUE, x = conditionMessage(err), fixed = TRUE)))

  lone <- task(tt, x = "lone", upstream_tasks = list(task(tt, x = "elsewhere")))
  expect_error(bind(add_tasks(workflow(tool, "missing"), list(lone))),
               "depends on task 'graph_x-elsewhere', which is not in workflow 'missing'",
               class = "jobmon_missing_upstream_error")

  twice <- add_tasks(workflow(tool, "twice"), list(task(tt, x = "d", name = "one"), task(tt, x = "d", name = "two")))
  expect_error(bind(twice), "task 'one' \\(template 'graph'\\) was added twice with different name",
               class = "jobmon_duplicate_task_error")
  # the same object added twice, or an equal task named as an upstream, is one task
  d <- task(tt, x = "d")
  e <- task(tt, x = "e", upstream_tasks = list(task(tt, x = "d")))
  graph <- jobmonr:::build_graph(add_tasks(workflow(tool, "same"), list(d, d, e)))
  expect_length(graph$tasks, 2)
  expect_equal(c(graph$up, graph$down), c(1L, 2L))
  expect_length(graph$aliases, 1)
  expect_error(bind(workflow(tool, "empty")), "has no tasks; add some with add_tasks\\(\\)")
  expect_error(add_upstream(a, a), "cannot depend on itself")
})

test_that("the server is found as the Python client finds it", {
  old <- Sys.getenv(c("JOBMON_SERVER_URL", "JOBMON_CONFIG", "JOBMON_TOKEN"))
  on.exit(do.call(Sys.setenv, as.list(old)))
  Sys.setenv(JOBMON_TOKEN = "")
  config <- tempfile(fileext = ".toml")
  writeLines(c("# written by a test", "server_url = \"http://jobmon.example:9000/\"", "token = 'abc'"), config)
  Sys.setenv(JOBMON_SERVER_URL = "", JOBMON_CONFIG = config)
  expect_equal(server_url(), "http://jobmon.example:9000")
  expect_equal(jobmonr:::auth_token(), "abc")
  Sys.setenv(JOBMON_SERVER_URL = "http://127.0.0.1:8123")
  expect_equal(server_url(), "http://127.0.0.1:8123")
  Sys.setenv(JOBMON_SERVER_URL = "", JOBMON_CONFIG = tempfile())
  expect_equal(server_url(), "http://127.0.0.1:8070")
})

test_that("an unreachable server is named, with what to do", {
  expect_error(jobmonr::graphql("{ __typename }", url = "http://127.0.0.1:9", retries = 0),
               "cannot reach the Jobmon server at http://127.0.0.1:9/graphql .*start it with 'jobmon up'",
               class = "jobmon_unreachable")
})

test_that("a batch of tasks has the JSON shape the server takes, one task or many", {
  shape <- function(tasks) {
    wf <- add_tasks(workflow(tool, "shape"), tasks)
    graph <- jobmonr:::build_graph(wf)
    settings <- jobmonr:::resolve_settings(wf, graph$tasks)
    batch <- jobmonr:::task_batch(graph$tasks, seq_along(graph$tasks), settings, seq_along(graph$tasks))
    jsonlite::fromJSON(jobmonr:::encode_request("q", list(tasks = batch)), simplifyVector = FALSE)$variables$tasks
  }
  tt <- task_template(tool, "shaped", "run {loc} {year}", node_args = "loc", task_args = "year")
  one <- shape(list(task(tt, loc = 1, year = 2026, fallback_queues = "long",
                         resource_scales = list(memory = "4G"), compute_resources = list(cores = 2))))
  expect_equal(one$templateVersionIds, list(1L))
  expect_equal(one$names, list("shaped_loc-1"))
  expect_equal(one$nodeArgs, list(list(loc = "1")))
  expect_equal(one$taskArgs, list(list(year = "2026")))
  expect_equal(one$resourceIndexes, list(0L))
  expect_equal(one$resources[[1]]$resources, list(cores = 2L))
  expect_equal(one$resources[[1]]$resourceScales, list(memory = list("4G")))
  expect_equal(one$resources[[1]]$fallbackQueues, list("long"))
  bare <- shape(list(task(task_template(tool, "bare", "true"))))
  expect_equal(bare$nodeArgs, list(setNames(list(), character())))
  expect_equal(bare$resources[[1]]$resources, setNames(list(), character()))
  # tasks made by separate calls with equal settings share one resources entry
  many <- shape(lapply(1:50, function(i) task(tt, loc = i, year = 2026, compute_resources = list(cores = 2))))
  expect_length(many$resources, 1)
  expect_equal(unique(unlist(many$resourceIndexes)), 0L)
})

test_that("a task whose cluster is named nowhere runs on the one its resources are for", {
  lone <- jobmonr::tool(name = "slurm_only")
  tt <- task_template(lone, "t", "echo {x}", node_args = "x")
  wf <- add_tasks(workflow(lone, "nowhere"), list(task(tt, x = 1)))
  expect_error(jobmonr:::resolve_settings(wf, list(task(tt, x = 1))),
               "task 't_x-1' \\(template 't'\\): no cluster is named for it", class = "jobmon_cluster_error")
  set_default_compute_resources(lone, "slurm", list(queue = "all.q", num_cores = 2))
  settings <- jobmonr:::resolve_settings(wf, list(task(tt, x = 1)))
  expect_equal(settings$entries[[1]]$cluster_name, "slurm")
  expect_equal(settings$entries[[1]]$resources, list(queue = "all.q", cores = 2L))
})
