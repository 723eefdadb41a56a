# Compute resources: where a task runs, with what, and how many attempts it gets.
#
# Precedence, first set wins: task, then template, then workflow, then tool. A task whose
# cluster is named nowhere runs on the one cluster its template or tool has default
# resources for; with none, or several, it is refused at bind (it never runs where its
# author did not ask). Resources are merged key by key for the task's cluster: the tool's
# defaults for that cluster, then the template's defaults for any cluster, then the
# template's for that cluster, then the task's.

default_max_attempts <- 3L
resource_keys <- c("cores", "memory", "runtime", "queue", "project", "constraints", "gpus",
                   "sbatch", "stdout", "stderr")
# Jobmon's older names of compute resources, taken as today's.
legacy_resource_names <- c(num_cores = "cores", m_mem_free = "memory",
                           max_runtime_seconds = "runtime")

# Returns `resources` as a named list if every key is known and every value usable.
# Memory and runtime strings ("1G", "10m", "01:30:00") are parsed by the server, which
# refuses a bad one with the task's name.
check_resources <- function(resources, what) {
  if (is.null(resources)) return(NULL)
  if (!is.list(resources) || (length(resources) && (is.null(names(resources)) ||
                                                    any(!nzchar(names(resources)))))) {
    definition_error(what, ": compute resources must be a named list, such as ",
                     "list(cores = 1, memory = \"1G\", runtime = \"10m\")")
  }
  legacy <- names(resources) %in% names(legacy_resource_names)
  names(resources)[legacy] <- legacy_resource_names[names(resources)[legacy]]
  if (anyDuplicated(names(resources))) {
    definition_error(what, ": compute resources give '", names(resources)[anyDuplicated(names(resources))],
                     "' twice (num_cores, m_mem_free and max_runtime_seconds are Jobmon's older ",
                     "names of cores, memory and runtime); keep one")
  }
  for (key in names(resources)) {
    value <- resources[[key]]
    if (!key %in% resource_keys) {
      definition_error(what, ": unknown compute resource '", key, "'; the known ones are ",
                       paste(resource_keys, collapse = ", "),
                       ". Give other sbatch options under sbatch, such as ",
                       "list(sbatch = list(", key, " = ...))")
    }
    label <- paste0(what, ": compute resource '", key, "'")
    if (key == "cores") resources[[key]] <- check_whole(value, label, 1)
    if (key == "gpus") resources[[key]] <- check_whole(value, label, 0)
    if (key %in% c("queue", "project", "constraints", "stdout", "stderr") &&
        !(is.character(value) && length(value) == 1L && !is.na(value) && nzchar(trimws(value)))) {
      definition_error(label, " must be a non-empty string, got ", paste(deparse(value), collapse = " "))
    }
    if (key %in% c("memory", "runtime") &&
        !((is.character(value) || is.numeric(value)) && length(value) == 1L && !is.na(value))) {
      definition_error(label, " must be one string such as \"",
                       if (key == "memory") "4G" else "2h", "\" or a number, got ",
                       paste(deparse(value), collapse = " "))
    }
    if (key == "sbatch" && !(is.list(value) && !is.null(names(value)))) {
      definition_error(label, " must be a named list of sbatch options, such as ",
                       "list(sbatch = list(mail_type = \"END\"))")
    }
  }
  resources
}

merge_resources <- function(...) {
  merged <- list()
  for (layer in list(...)) {
    for (key in names(layer)) merged[[key]] <- layer[[key]]
  }
  merged
}

# How a retry after running out of memory or runtime asks for more: a fraction to add
# (list(memory = 0.5)) or the values of the retries in order (list(memory = c("2G", "4G"))).
check_resource_scales <- function(scales, what) {
  if (is.null(scales)) return(NULL)
  if (!is.list(scales) || is.null(names(scales)) || !all(names(scales) %in% c("memory", "runtime"))) {
    definition_error(what, ": resource_scales must be a named list over memory and runtime, ",
                     "such as list(memory = 0.5, runtime = c(\"2h\", \"4h\"))")
  }
  for (key in names(scales)) {
    value <- scales[[key]]
    fraction <- is.numeric(value) && length(value) == 1L && !is.na(value) && value >= 0
    values <- (is.character(value) || is.numeric(value)) && length(value) >= 1L && !anyNA(value)
    if (!fraction && !values) {
      definition_error(what, ": resource_scales$", key, " must be a fraction to add (such as 0.5) ",
                       "or the values of the retries (such as c(\"2G\", \"4G\"))")
    }
    # a character vector is a list of values even when it holds one
    if (is.character(value)) scales[[key]] <- I(value)
  }
  scales
}

check_fallback_queues <- function(queues, what) {
  if (is.null(queues)) return(NULL)
  if (!is.character(queues) || anyNA(queues) || !all(nzchar(queues))) {
    definition_error(what, ": fallback_queues must be a character vector of queue names")
  }
  queues
}

# The JSON form of a resources list: scalars stay scalars, named lists become objects.
json_value <- function(x) {
  if (inherits(x, "AsIs")) return(unclass(x))
  if (is.list(x)) {
    if (!is.null(names(x))) return(json_object(lapply(x, json_value)))
    return(lapply(x, json_value))
  }
  if (length(x) == 1L) return(scalar(x))
  x
}
