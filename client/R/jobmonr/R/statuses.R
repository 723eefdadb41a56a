#' Jobmon's status codes
#'
#' The one-letter codes of Jobmon's `jobmon.core.constants`, by the names the server
#' uses: `WorkflowRunStatus$DONE` is `"D"`. [run()] answers one of `WorkflowRunStatus`.
#'
#' @format Named lists of one-letter strings.
#' @examples
#' jobmonr::WorkflowRunStatus$DONE == "D"
#' @export
WorkflowRunStatus <- list(REGISTERED = "G", LINKING = "L", BOUND = "B", RUNNING = "R",
                          DONE = "D", ERROR = "E", STOPPED = "S", COLD_RESUME = "C",
                          HOT_RESUME = "H", TERMINATED = "T", ABORTED = "A",
                          INSTANTIATED = "I", LAUNCHED = "O")

#' @rdname WorkflowRunStatus
#' @export
WorkflowStatus <- list(REGISTERING = "G", QUEUED = "Q", RUNNING = "R", DONE = "D",
                       HALTED = "H", FAILED = "F", ABORTED = "A", INSTANTIATING = "I",
                       LAUNCHED = "O")

#' @rdname WorkflowRunStatus
#' @export
TaskStatus <- list(REGISTERING = "G", QUEUED = "Q", INSTANTIATING = "I", LAUNCHED = "O",
                   RUNNING = "R", DONE = "D", ERROR_RECOVERABLE = "E",
                   ADJUSTING_RESOURCES = "A", ERROR_FATAL = "F")

#' @rdname WorkflowRunStatus
#' @export
TaskInstanceStatus <- list(QUEUED = "Q", INSTANTIATED = "I", LAUNCHED = "O", RUNNING = "R",
                           DONE = "D", ERROR = "E", RESOURCE_ERROR = "Z", UNKNOWN_ERROR = "U",
                           NO_HEARTBEAT = "X", NO_DISTRIBUTOR_ID = "W", KILL_SELF = "K",
                           ERROR_FATAL = "F", TRIAGING = "T",
                           SUBMITTED_TO_BATCH_DISTRIBUTOR = "B")

# A run in one of these has ended.
terminal_run_statuses <- c("DONE", "ERROR", "STOPPED", "TERMINATED", "ABORTED")
