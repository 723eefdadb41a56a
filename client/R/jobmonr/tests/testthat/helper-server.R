# The workflow tests need a running Jobmon server with a worker, named by
# JOBMON_SERVER_URL (the Python test suite starts one and runs these tests against it).
# Without one they are skipped, and with CI=true they fail.
needs_server <- function() {
  if (nzchar(Sys.getenv("JOBMON_SERVER_URL"))) return(invisible(TRUE))
  if (identical(Sys.getenv("CI"), "true")) {
    stop("JOBMON_SERVER_URL is not set (CI=true: the workflow tests must run)")
  }
  testthat::skip("JOBMON_SERVER_URL is not set: start a server with 'jobmon up' and set it")
}

# A workflow_args no earlier run on the same server has used.
fresh_args <- function(label) paste0(label, "_", jobmonr:::random_uuid())

# Polls `condition` until it holds or `seconds` pass; fails with `what` when it never does.
wait_for <- function(condition, what, seconds = 60) {
  deadline <- Sys.time() + seconds
  while (Sys.time() < deadline) {
    if (isTRUE(condition())) return(invisible(TRUE))
    Sys.sleep(0.2)
  }
  stop("timed out waiting for ", what)
}
