# The expected hashes are those of tests/data/hash_vectors.json, which the Python client's
# tests read too (jobmon_client.hashing specifies the hashes): equal values mean the two
# clients bind the same workflow.
hash_vectors <- function() {
  path <- testthat::test_path("..", "..", "..", "..", "..", "tests", "data", "hash_vectors.json")
  if (!file.exists(path)) testthat::skip("tests/data/hash_vectors.json is not beside this package")
  jsonlite::fromJSON(path, simplifyVector = FALSE)
}

args_list <- function(args) {
  if (!length(args)) list() else lapply(args, as.character)
}

test_that("arg mappings are encoded as the Python client encodes them", {
  for (vector in hash_vectors()$canonical) {
    expect_equal(jobmonr:::canonical_args(args_list(vector$args), 1L), vector$canonical)
  }
  expect_equal(jobmonr:::canonical_args(list(), 2L), c("", ""))
})

test_that("task, task-set and DAG hashes match the Python client's", {
  vectors <- hash_vectors()
  tasks <- vectors$task_keys
  field <- function(name) vapply(tasks, function(t) t[[name]], "")
  canonical <- function(name) {
    vapply(tasks, function(t) jobmonr:::canonical_args(args_list(t[[name]]), 1L), "")
  }
  keys <- jobmonr:::task_keys(field("template"), field("command_template"),
                              canonical("node_args"), canonical("task_args"))
  expect_equal(keys, field("task_key"))
  for (set in vectors$task_hash) {
    expect_equal(jobmonr:::task_set_hash(keys[unlist(set$tasks) + 1L]), set$task_hash)
  }
  for (dag in vectors$dag_hash) {
    up <- vapply(dag$edges, function(e) keys[[e[[1]] + 1L]], "")
    down <- vapply(dag$edges, function(e) keys[[e[[2]] + 1L]], "")
    expect_equal(jobmonr:::dag_hash(up, down), dag$dag_hash)
  }
})

test_that("arg values become the strings a Python client would send", {
  # as Python's str() of the int or float: str(1/3), str(0.1 + 0.2), str(1e-05), ...
  expect_equal(jobmonr:::arg_strings(c(1, 1e6, 2.5, -3, -0, 1e15, 1/3, 0.1 + 0.2, 1e-5, 1e-4), "x"),
               c("1", "1000000", "2.5", "-3", "0", "1000000000000000", "0.3333333333333333",
                 "0.30000000000000004", "1e-05", "0.0001"))
  expect_equal(jobmonr:::arg_strings(7L, "x"), "7")
  expect_error(jobmonr:::arg_strings(TRUE, "arg 'flag'"), "arg 'flag': a logical \\(TRUE/FALSE\\)")
  expect_error(jobmonr:::arg_strings(Inf, "arg 'x'"), "not finite")
  expect_equal(jobmonr:::arg_strings(factor("a"), "x"), "a")
  expect_error(jobmonr:::arg_strings(NA, "task 'x': arg 'y'"), "task 'x': arg 'y': a value is NA",
               class = "jobmon_definition_error")
  expect_error(jobmonr:::arg_strings(NULL, "arg 'y'"), "arg 'y': needs a value")
})
