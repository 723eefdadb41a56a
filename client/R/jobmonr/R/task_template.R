reserved_arg_names <- c("name", "upstream_tasks", "compute_resources", "max_attempts",
                        "cluster_name", "resource_scales", "fallback_queues", "task_template")

#' A task template: a command with named holes
#'
#' `node_args` say what distinguishes the tasks of a template (a location, say);
#' `task_args` are the same for every task of a workflow and belong to its identity;
#' `op_args` change how a command runs without changing what it computes (an output
#' directory, say) and belong to no identity. Every `{hole}` of the command must be
#' declared as one of them; write a literal brace as `{{` or `}}`.
#'
#' @param tool A tool, from [tool()].
#' @param template_name The template's name, unique within the tool.
#' @param command_template The command, such as `"Rscript model.R --location {location_id}"`.
#' @param node_args,task_args,op_args Character vectors (or lists) of arg names.
#' @return A task template. Asking again with the same definition returns the same object.
#' @examples
#' tool <- jobmonr::tool(name = "quickstart_r")
#' tt <- jobmonr::task_template(tool = tool, template_name = "echo_template",
#'                              command_template = "echo {message}", node_args = list("message"))
#' @export
task_template <- function(tool, template_name, command_template, node_args = character(),
                          task_args = character(), op_args = character()) {
  if (!inherits(tool, "jobmon_tool")) definition_error("task_template: `tool` must come from jobmonr::tool()")
  check_name(template_name, "task template")
  what <- sprintf("task template '%s'", template_name)
  if (!is.character(command_template) || length(command_template) != 1L || is.na(command_template)) {
    definition_error(what, ": command_template must be one string")
  }
  declared <- list(node_args = arg_names(node_args, what, "node_args"),
                   task_args = arg_names(task_args, what, "task_args"),
                   op_args = arg_names(op_args, what, "op_args"))
  parts <- parse_command_template(command_template, what)
  check_declared(declared, parts$fields, what)
  version_key <- paste(c(template_name, command_template,
                         vapply(declared, function(a) paste(sort_codepoints(a), collapse = "\x1f"), "")),
                       collapse = "\x1e")
  existing <- tool$templates[[version_key]]
  if (!is.null(existing)) return(existing)
  this <- new.env(parent = emptyenv())
  this$tool <- tool
  this$template_name <- template_name
  this$command_template <- command_template
  this$node_args <- declared$node_args
  this$task_args <- declared$task_args
  this$op_args <- declared$op_args
  this$parts <- parts
  this$version_key <- version_key
  this$default_cluster_name <- NULL
  this$default_compute_resources <- list()
  this$default_resources_any <- NULL
  this$default_max_attempts <- NULL
  class(this) <- "jobmon_task_template"
  tool$templates[[version_key]] <- this
  this
}

#' @export
print.jobmon_task_template <- function(x, ...) {
  cat(sprintf("<jobmon task template '%s': %s>\n", x$template_name, x$command_template))
  invisible(x)
}

arg_names <- function(names, what, kind) {
  if (is.list(names)) names <- unlist(names, use.names = FALSE)
  if (is.null(names)) return(character())
  if (!is.character(names) || anyNA(names) || any(!nzchar(names))) {
    definition_error(what, ": ", kind, " must be a character vector of arg names, such as ",
                     "c(\"location_id\")")
  }
  names
}

# Splits a command template into literal text and `{field}` holes, as Python's
# str.format reads it: `{{` and `}}` are literal braces.
parse_command_template <- function(command_template, what) {
  tokens <- regmatches(command_template,
                       gregexpr("\\{\\{|\\}\\}|\\{[^{}]*\\}|[{}]|[^{}]+", command_template, perl = TRUE))[[1]]
  texts <- character()
  fields <- character()
  pieces <- list()
  for (token in tokens) {
    if (token == "{{" || token == "}}") {
      pieces[[length(pieces) + 1L]] <- list(text = substr(token, 1, 1))
    } else if (token == "{" || token == "}") {
      definition_error(what, ": the command template has a single '", token,
                       "'; write a literal brace as '{{' or '}}'")
    } else if (startsWith(token, "{")) {
      field <- substr(token, 2, nchar(token) - 1L)
      if (!nzchar(field) || grepl("^[0-9]+$", field) || grepl("[].[:!]", field, perl = TRUE)) {
        definition_error(what, ": '", token, "' is not a named arg; use names such as {location_id}")
      }
      pieces[[length(pieces) + 1L]] <- list(field = field)
      fields <- c(fields, field)
    } else {
      pieces[[length(pieces) + 1L]] <- list(text = token)
    }
  }
  list(pieces = pieces, fields = unique(fields))
}

check_declared <- function(declared, used, what) {
  all <- unlist(declared, use.names = FALSE)
  kinds <- rep(names(declared), lengths(declared))
  reserved <- intersect(all, reserved_arg_names)
  if (length(reserved)) {
    definition_error(what, ": '", reserved[1], "' is an argument of task(); rename the arg ",
                     "(reserved: ", paste(reserved_arg_names, collapse = ", "), ")")
  }
  twice <- all[duplicated(all)]
  if (length(twice)) {
    definition_error(what, ": arg '", twice[1], "' is declared in both ",
                     paste(unique(kinds[all == twice[1]]), collapse = " and "), "; declare it once")
  }
  undeclared <- setdiff(used, all)
  if (length(undeclared)) {
    definition_error(what, ": the command template uses '{", undeclared[1], "}', which is not a ",
                     "node, task or op arg; add '", undeclared[1], "' to node_args, task_args or op_args")
  }
  unused <- setdiff(all, used)
  if (length(unused)) {
    kind <- kinds[match(unused[1], all)]
    definition_error(what, ": ", kind, " declares '", unused[1], "', which the command template ",
                     "does not use; add '{", unused[1], "}' to the command template or remove it from ", kind)
  }
}

# The commands of many tasks: `values` is a named list of character vectors of length n.
fill_command <- function(template, values, n) {
  pieces <- lapply(template$parts$pieces, function(p) if (is.null(p$field)) p$text else values[[p$field]])
  if (!length(pieces)) return(rep("", n))
  rep_len(do.call(paste0, pieces), n)
}
