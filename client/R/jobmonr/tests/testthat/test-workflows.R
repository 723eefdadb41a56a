# Workflows run by a real server and worker (see helper-server.R).

quiet <- function(expr) suppressMessages(expr)

test_that("the quickstart runs to DONE, in dependency order", {
  needs_server()
  out <- tempfile("quickstart")
  tool <- jobmonr::tool(name = "quickstart_r")
  jobmonr::set_default_compute_resources(tool, cluster_name = "multiprocess",
                                         resources = list(cores = 1, memory = "1G", runtime = "10m"))
  tt <- jobmonr::task_template(tool = tool, template_name = "echo_template",
                               command_template = "echo {message} >> {out}",
                               node_args = list("message"), op_args = list("out"))
  wf <- jobmonr::workflow(tool = tool, workflow_args = fresh_args("quickstart_r"), name = "r_first")
  t1 <- jobmonr::task(task_template = tt, name = "hello", message = "Hello", out = out)
  t2 <- jobmonr::task(task_template = tt, name = "bye", message = "Bye", out = out, upstream_tasks = list(t1))
  wf <- jobmonr::add_tasks(wf, list(t1, t2))
  expect_message(status <- jobmonr::run(wf, resume = FALSE, seconds_until_timeout = 300),
                 "2 of 2 done, 0 running, 0 failed")
  expect_true(status == "DONE" && status == "D")
  expect_equal(attr(status, "done"), 2L)
  expect_equal(readLines(out), c("Hello", "Bye"))
  expect_false(is.null(t1$task_id))

  state <- jobmonr::workflow_status(wf)
  expect_equal(state$status, "DONE")
  expect_equal(state$task_counts[["DONE"]], 2L)
  tasks <- jobmonr::task_status(wf)
  expect_equal(tasks$task_id, c(t1$task_id, t2$task_id))
  expect_equal(tasks$status, c("DONE", "DONE"))
  expect_equal(tasks$num_attempts, c(1L, 1L))

  # the server's refusal comes back as an R error with the server's message
  again <- jobmonr::add_tasks(jobmonr::workflow(tool, wf$workflow_args, name = "r_first"), list(
    jobmonr::task(tt, name = "hello", message = "Hello", out = out),
    jobmonr::task(tt, name = "bye", message = "Bye", out = out,
                  upstream_tasks = list(jobmonr::task(tt, name = "hello", message = "Hello", out = out)))))
  expect_error(quiet(jobmonr::run(again)), sprintf("cannot start a run of workflow %d 'r_first': .*resume",
                                                   wf$workflow_id), class = "jobmon_validation_error")
  expect_equal(again$workflow_id, wf$workflow_id)
})

test_that("a 50-task array and one downstream task bind in one batch and run", {
  needs_server()
  dir <- tempfile("array")
  dir.create(dir)
  tool <- jobmonr::tool(name = "r_array")
  jobmonr::set_default_cluster_name(tool, "multiprocess")
  model <- jobmonr::task_template(tool, "model", "echo {location_id} > {dir}/{location_id}.txt",
                                  node_args = "location_id", op_args = "dir")
  summary <- jobmonr::task_template(tool, "summarise", "ls {dir}/*.txt | wc -l > {dir}/count", op_args = "dir")
  tasks <- jobmonr::array_tasks(model, location_id = 1:50, dir = dir, max_attempts = 2,
                                compute_resources = list(memory = "256M", runtime = "5m"))
  last <- jobmonr::task(summary, dir = dir, upstream_tasks = tasks)
  wf <- jobmonr::add_tasks(jobmonr::workflow(tool, fresh_args("array"), max_concurrently_running = 8),
                           c(tasks, list(last)))
  status <- quiet(jobmonr::run(wf, seconds_until_timeout = 300))
  expect_true(status == "DONE" && status == "D")
  expect_equal(attr(status, "total_tasks"), 51L)
  expect_equal(trimws(readLines(file.path(dir, "count"))), "50")
  expect_setequal(list.files(dir, pattern = "txt$"), paste0(1:50, ".txt"))
  tasks_read <- jobmonr::task_status(wf, template_name = "model")
  expect_equal(nrow(tasks_read), 50L)
  expect_true(all(tasks_read$max_attempts == 2L))
  expect_equal(nrow(jobmonr::task_status(wf, limit = 10)), 10L)
})

test_that("a failing task is retried, fails the workflow, and resumes once fixed", {
  needs_server()
  flag <- tempfile("fixed")
  log <- tempfile("ran")
  define <- function(args) {
    tool <- jobmonr::tool(name = "r_retries")
    jobmonr::set_default_cluster_name(tool, "multiprocess")
    step <- jobmonr::task_template(tool, "step", "echo {label} >> {log} && {check}",
                                   node_args = "label", task_args = "check", op_args = "log")
    first <- jobmonr::task(step, label = "first", check = "true", log = log)
    flaky <- jobmonr::task(step, label = "flaky", log = log, max_attempts = 2,
                           check = sprintf("test -f %s || (echo '%s is missing' >&2; exit 3)", flag, flag),
                           upstream_tasks = list(first))
    after <- jobmonr::task(step, label = "after", check = "true", log = log, upstream_tasks = list(flaky))
    jobmonr::add_tasks(jobmonr::workflow(tool, args), list(first, flaky, after))
  }
  args <- fresh_args("retries")
  wf <- define(args)
  status <- quiet(jobmonr::run(wf, seconds_until_timeout = 300))
  expect_true(status == "FAILED" && status == "E")
  expect_equal(attr(status, "failed"), 1L)
  expect_equal(readLines(log), c("first", "flaky", "flaky"))
  errors <- jobmonr::get_errors(wf)
  expect_equal(nrow(errors), 2L)
  expect_equal(errors$task_name, c("step_label-flaky", "step_label-flaky"))
  expect_equal(errors$exit_code, c(3L, 3L))
  expect_match(errors$description, "is missing")
  fatal <- jobmonr::task_status(wf, statuses = "ERROR_FATAL")
  expect_equal(fatal$name, "step_label-flaky")
  expect_equal(fatal$num_attempts, 2L)

  # resumed by id, as from another script, before the fix: it fails again
  status <- quiet(jobmonr::resume_workflow(wf$workflow_id, seconds_until_timeout = 300))
  expect_true(status == "FAILED" && status == "E")
  expect_equal(readLines(log), c("first", rep("flaky", 4)))

  file.create(flag)
  again <- define(args)  # as a new R session would: the same definition finds the same workflow
  status <- quiet(jobmonr::run(again, resume = TRUE, seconds_until_timeout = 300))
  expect_equal(again$workflow_id, wf$workflow_id)
  expect_true(status == "DONE" && status == "D")
  expect_equal(readLines(log), c("first", rep("flaky", 5), "after"))
  expect_equal(jobmonr::task_status(again)$status, c("DONE", "DONE", "DONE"))
})

test_that("a run that outlives seconds_until_timeout is halted; a detached run goes on alone", {
  needs_server()
  tool <- jobmonr::tool(name = "r_timeout")
  jobmonr::set_default_cluster_name(tool, "multiprocess")
  tt <- jobmonr::task_template(tool, "sleeper", "sleep {seconds}", node_args = "seconds")
  wf <- jobmonr::add_tasks(jobmonr::workflow(tool, fresh_args("timeout")), list(jobmonr::task(tt, seconds = 60)))
  status <- quiet(jobmonr::run(wf, seconds_until_timeout = 2))
  expect_true(status == "HALTED" && status == "S")

  quick <- jobmonr::add_tasks(jobmonr::workflow(tool, fresh_args("detached")), list(jobmonr::task(tt, seconds = 0)))
  status <- quiet(jobmonr::run(quick, detach = TRUE))
  expect_true(status == "RUNNING" || status == "DONE")
  wait_for(function() jobmonr::workflow_status(quick$workflow_id)$status == "DONE", "the detached run")
  expect_error(jobmonr::workflow_status(999999999L), "999999999", class = "jobmon_not_found")
})
