# The conditions the client signals. Every one is an R error of class `jobmon_error`, so
# `tryCatch(..., jobmon_error = ...)` catches them all; the subclasses say what went wrong.

jobmon_condition <- function(message, class, call = NULL) {
  structure(
    class = c(class, "jobmon_error", "error", "condition"),
    list(message = message, call = call)
  )
}

# A tool, template, task or workflow that cannot be bound as written; nothing was sent.
# `kind` names a narrower class: "cycle", "missing_upstream", "duplicate_task" or
# "template_argument" (as the Python client's CycleError, MissingUpstreamError, ...).
definition_error <- function(..., kind = NULL) {
  classes <- c(if (!is.null(kind)) paste0("jobmon_", kind, "_error"), "jobmon_definition_error")
  stop(jobmon_condition(paste0(...), classes))
}

# The server refused a request; the message is the server's.
server_error <- function(message, kind = "ServerError") {
  class <- switch(kind,
    NotFound = "jobmon_not_found",
    ValidationError = "jobmon_validation_error",
    PermissionDenied = "jobmon_permission_denied",
    Conflict = "jobmon_conflict",
    "jobmon_server_error_other"
  )
  stop(jobmon_condition(message, c(class, "jobmon_server_error")))
}

unreachable_error <- function(message) {
  stop(jobmon_condition(message, "jobmon_unreachable"))
}
