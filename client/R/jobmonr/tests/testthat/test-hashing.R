# The expected values were computed by the Python client's jobmon_client.hashing, which
# specifies the hashes; equal values mean the two clients bind the same workflow.

test_that("arg mappings are encoded as the Python client encodes them", {
  args <- list(year = "2026", location_id = "\u00e9\u4e2d", b = "")
  expect_equal(jobmonr:::canonical_args(args, 1L), "1:b0:11:location_id2:\u00e9\u4e2d4:year4:2026")
  expect_equal(jobmonr:::canonical_args(list(), 2L), c("", ""))
})

test_that("task, task-set and DAG hashes match the Python client's", {
  keys <- jobmonr:::task_keys(
    c("echo_template", "echo_template", "model"),
    c("echo {message}", "echo {message}", "m {loc} {year}"),
    c(jobmonr:::canonical_args(list(message = c("Hello", "Bye")), 2L),
      jobmonr:::canonical_args(list(loc = "1000000"), 1L)),
    c("", "", jobmonr:::canonical_args(list(year = "2026"), 1L))
  )
  expect_equal(keys, c("dfc43ea17c9880c4e7417a813ed518756046bf84",
                       "7fb5ae91264e10e3e49c0b2a6bf4bf874832bfa3",
                       "d5990695a1c6f2e667bfdf5a1d57f0d843f9d644"))
  expect_equal(jobmonr:::task_set_hash(keys[c(3, 1, 2)]), "8f6f54ecf40caadfe083da469334eb2c2e5fa343")
  expect_equal(jobmonr:::dag_hash(keys[c(1, 1)], keys[c(3, 2)]), "8cf953f44e19c0f711655d53c4e8f9fc264cdb76")
  expect_equal(jobmonr:::dag_hash(character(), character()), "da39a3ee5e6b4b0d3255bfef95601890afd80709")
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
