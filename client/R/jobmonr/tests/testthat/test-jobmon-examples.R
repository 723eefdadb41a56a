# Jobmon's documented R examples (docsource/user_guide/r_client.rst and quickstart.rst),
# ported by changing the cluster names and paths only.

test_that("the Jobmon R quickstart answers D equal to the constants and the names", {
  needs_server()
  my_tool <- jobmonr::tool(name = "quickstart_tutorial")
  my_tool <- jobmonr::set_default_tool_resources(
    my_tool, default_cluster_name = "multiprocess",
    resources = list(memory = "1G", runtime = "10m", cores = 1L))
  template <- jobmonr::task_template(tool = my_tool, template_name = "echo_template",
                                     command_template = "echo {message}",
                                     node_args = list("message"))
  wf <- jobmonr::workflow(tool = my_tool, workflow_args = fresh_args("quickstart_v1"),
                          workflow_attributes = list(release_id = 123, description = "Q4"))
  task1 <- jobmonr::task(task_template = template, name = "say_hello",
                         message = "Hello from Jobmon!")
  task2 <- jobmonr::task(task_template = template, name = "say_goodbye",
                         message = "Goodbye from Jobmon!", upstream_tasks = list(task1))
  wf <- jobmonr::add_tasks(wf, list(task1, task2))
  status <- suppressMessages(jobmonr::run(wf, resume = FALSE, seconds_until_timeout = 300))
  expect_true(status == "D")
  expect_false(status != "D")
  expect_true(status == jobmonr::WorkflowRunStatus$DONE)
  expect_true(status == "DONE")
  expect_equal(as.character(status), "D")
  expect_match(paste("Workflow failed with status:", status), "status: D$")
  stored <- jobmonr::graphql(
    "query($id: Int!) { workflow(id: $id) { ... on Workflow { attributes } } }",
    list(id = jsonlite::unbox(wf$workflow_id)))
  expect_equal(stored$workflow$attributes, list(release_id = "123", description = "Q4"))
})

test_that("array_tasks takes node args as lists as in the Jobmon fork join example", {
  needs_server()
  my_tool <- jobmonr::tool(name = "fork_join_example")
  my_tool <- jobmonr::set_default_tool_resources(
    my_tool, default_cluster_name = "multiprocess",
    resources = list(memory = "1G", runtime = "10m", cores = 1L))
  model_tt <- jobmonr::task_template(
    tool = my_tool, template_name = "model",
    command_template = "echo --loc {location_id} --draw {draw_id} --version {version_id}",
    node_args = list("location_id", "draw_id"), task_args = list("version_id"), op_args = list())
  summary_tt <- jobmonr::task_template(
    tool = my_tool, template_name = "summarize",
    command_template = "echo summarize --version {version_id}",
    node_args = list(), task_args = list("version_id"), op_args = list())
  model_tasks <- jobmonr::array_tasks(task_template = model_tt,
                                      location_id = as.list(c(1, 2, 3)),
                                      draw_id = as.list(1:4), version_id = 42)
  expect_length(model_tasks, 12L)
  summary_task <- jobmonr::task(task_template = summary_tt, name = "summarize_all",
                                upstream_tasks = model_tasks, version_id = 42)
  wf <- jobmonr::workflow(tool = my_tool, workflow_args = fresh_args("v42"))
  wf <- jobmonr::add_tasks(wf, model_tasks)
  wf <- jobmonr::add_tasks(wf, list(summary_task))
  status <- suppressMessages(jobmonr::run(wf, resume = FALSE, seconds_until_timeout = 300))
  expect_true(status == "D")
  expect_equal(attr(status, "done"), 13L)
})

test_that("the functions of the Jobmon R reference work as documented", {
  needs_server()
  resources_file <- tempfile(fileext = ".yaml")
  writeLines(c("tool_resources:", "  multiprocess:", "    cores: 1", "    memory: 1G",
               "task_template_resources:", "  model_template:", "    multiprocess:",
               "      runtime: 10m"), resources_file)
  my_tool <- jobmonr::tool(name = "my_analysis", active_tool_version_id = "latest")
  my_tool <- jobmonr::set_default_tool_resources(my_tool, default_cluster_name = "multiprocess",
                                                 path_to_yaml = resources_file)
  expect_equal(my_tool$default_compute_resources$multiprocess, list(cores = 1L, memory = "1G"))
  model_template <- jobmonr::task_template(
    tool = my_tool, template_name = "model_template",
    command_template = "echo {location_id} {sex_id} {year_id}",
    node_args = list("location_id", "sex_id"), task_args = list("year_id"), op_args = list())
  model_template <- jobmonr::set_default_template_resources(
    model_template, default_cluster_name = "multiprocess", path_to_yaml = resources_file)
  tasks <- jobmonr::array_tasks(task_template = model_template,
                                location_id = list(1L, 2L, 3L), sex_id = list(1L, 2L),
                                year_id = 2024, task_attributes = list(model_version = "2.1"))
  expect_length(tasks, 6L)
  wf <- jobmonr::workflow(tool = my_tool, workflow_args = fresh_args("reference"),
                          max_concurrently_running = 500)
  wf <- jobmonr::set_default_workflow_resources(wf, default_cluster_name = "multiprocess",
                                                resources = list(memory = "512M"))
  big_task <- jobmonr::task(task_template = model_template, name = "big_location",
                            compute_resources = list(m_mem_free = "2G", max_runtime_seconds = 60),
                            task_attributes = list(note = "big"),
                            location_id = 999, sex_id = 1, year_id = 2024)
  wf <- jobmonr::add_tasks(wf, c(tasks, list(big_task)))
  loc1_tasks <- jobmonr::get_tasks_by_node_args(wf, "model_template", location_id = 1)
  expect_length(loc1_tasks, 2L)
  specific <- jobmonr::get_tasks_by_node_args(wf, "model_template", location_id = 1, sex_id = 1)
  expect_length(specific, 1L)
  status <- suppressMessages(jobmonr::run(wf, resume = FALSE, seconds_until_timeout = 300))
  expect_true(status == "D")
  stored <- jobmonr::graphql(
    "query($a: Int!, $b: Int!) {
       a: task(id: $a) { ... on Task { attributes computeResources } }
       b: task(id: $b) { ... on Task { attributes computeResources } } }",
    list(a = jsonlite::unbox(specific[[1]]$task_id), b = jsonlite::unbox(big_task$task_id)))
  expect_equal(stored$a$attributes, list(model_version = "2.1"))
  expect_equal(stored$a$computeResources, list(cores = 1L, memory = "512M", runtime = "10m"))
  expect_equal(stored$b$attributes, list(note = "big"))
  expect_equal(stored$b$computeResources, list(cores = 1L, memory = "2G", runtime = 60L))
})

test_that("the Jobmon R health example runs its three phases", {
  needs_server()
  python_exec <- Sys.getenv("JOBMON_TEST_PYTHON")
  tasks_dir <- Sys.getenv("JOBMON_TEST_TASKS")
  if (!nzchar(python_exec) || !nzchar(tasks_dir)) {
    if (identical(Sys.getenv("CI"), "true")) stop("JOBMON_TEST_PYTHON and JOBMON_TEST_TASKS are not set")
    testthat::skip("JOBMON_TEST_PYTHON and JOBMON_TEST_TASKS name the Python task scripts")
  }
  root_data_dir <- Sys.getenv("JOBMON_TEST_DATA", tempfile("quickstart"))
  location_set_id <- as.integer(5)
  location_ids <- as.list(seq(from = 0, to = location_set_id - 1))
  my_tool <- jobmonr::tool(name = "r_quickstart_tool")
  my_tool <- jobmonr::set_default_tool_resources(
    tool = my_tool, default_cluster_name = "multiprocess",
    resources = list(cores = 1L, runtime = "2m", memory = "1G"))
  wf <- jobmonr::workflow(tool = my_tool, workflow_args = fresh_args("quickstart_workflow"))
  data_prep_template <- jobmonr::task_template(
    tool = my_tool, template_name = "quickstart_data_prep_template",
    command_template = paste("{python_exec}", file.path(tasks_dir, "data_prep.py"),
                             "--location_set_id {location_set_id}",
                             "--root_data_dir {root_data_dir}", "--log_level {log_level}", sep = " "),
    task_args = list("location_set_id", "root_data_dir"),
    op_args = list("python_exec", "log_level"))
  data_prep_template <- jobmonr::set_default_template_resources(
    task_template = data_prep_template, default_cluster_name = "multiprocess",
    resources = list(memory = "512M"))
  location_template <- jobmonr::task_template(
    tool = my_tool, template_name = "quickstart_location_template",
    command_template = paste("{python_exec}", file.path(tasks_dir, "one_location.py"),
                             "--location_id {location_id}", "--root_data_dir {root_data_dir}",
                             "--log_level {log_level}", sep = " "),
    node_args = list("location_id"), task_args = list("root_data_dir"),
    op_args = list("python_exec", "log_level"))
  summarization_template <- jobmonr::task_template(
    tool = my_tool, template_name = "quickstart_summarization_template",
    command_template = paste("{python_exec}", file.path(tasks_dir, "summarization.py"),
                             "--root_data_dir {root_data_dir}", "--log_level {log_level}", sep = " "),
    task_args = list("root_data_dir"), op_args = list("python_exec", "log_level"))
  data_prep_task <- jobmonr::task(task_template = data_prep_template, name = "data_prep_task",
                                  root_data_dir = root_data_dir, location_set_id = location_set_id,
                                  python_exec = python_exec, log_level = "DEBUG")
  wf <- jobmonr::add_tasks(wf, list(data_prep_task))
  location_tasks <- jobmonr::array_tasks(
    task_template = location_template, upstream_tasks = list(data_prep_task),
    location_id = location_ids, root_data_dir = root_data_dir, python_exec = python_exec,
    log_level = "DEBUG")
  wf <- jobmonr::add_tasks(wf, location_tasks)
  summarization_task <- jobmonr::task(
    task_template = summarization_template, name = "summarization_task",
    upstream_tasks = location_tasks, root_data_dir = root_data_dir,
    python_exec = python_exec, log_level = "DEBUG")
  wf <- jobmonr::add_tasks(wf, list(summarization_task))
  status <- suppressMessages(jobmonr::run(workflow = wf, resume = FALSE, seconds_until_timeout = 300))
  expect_true(status == "D")
  out <- file.path(root_data_dir, "jobmon_quickstart_example")
  expect_true(file.exists(file.path(out, "summaries.txt")))
  expect_length(list.files(out, pattern = "^location_result_"), 5L)
})

test_that("the Jobmon R create_tasks example is refused without a cluster and runs with one", {
  needs_server()
  example_tool <- jobmonr::tool(name = "example_project")
  example_task_template <- jobmonr::task_template(
    tool = example_tool, template_name = "my_example_task_template",
    command_template = "echo model_script.py --loc_id {location_id}",
    node_args = list("location_id"))
  wf <- jobmonr::workflow(tool = example_tool, workflow_args = fresh_args("example"))
  example_tasks <- jobmonr::array_tasks(task_template = example_task_template,
                                        location_id = as.list(1:3))
  wf <- jobmonr::add_tasks(wf, example_tasks)
  # Jobmon's example names no cluster: nothing decides where its tasks run
  expect_error(jobmonr::run(workflow = wf, resume = FALSE, seconds_until_timeout = 3600),
               "no cluster is named for it", class = "jobmon_cluster_error")
  jobmonr::set_default_cluster_name(example_tool, "multiprocess")
  status <- suppressMessages(jobmonr::run(workflow = wf, resume = FALSE, seconds_until_timeout = 300))
  expect_true(status == "D")
})
