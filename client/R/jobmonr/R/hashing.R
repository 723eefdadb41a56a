# Content hashes that give a workflow its identity, computed exactly as the Python client
# does (see jobmon_client/hashing.py for the specification): the same tool,
# workflow_args, tasks and edges bind to the same workflow, whichever client bound it.

sha1_hex <- function(text) as.character(openssl::sha1(enc2utf8(text)))

# Sort by code point: radix sort compares UTF-8 bytes, which orders code points.
sort_codepoints <- function(x) sort(x, method = "radix")

# Length-prefixed, name-sorted encoding of an arg mapping, for many tasks at once.
# `args` is a named list of character vectors, one vector per arg, one element per task.
canonical_args <- function(args, n) {
  if (!length(args)) return(rep("", n))
  parts <- lapply(sort_codepoints(names(args)), function(name) {
    value <- args[[name]]
    paste0(nchar(name, type = "chars"), ":", name, nchar(value, type = "chars"), ":", value)
  })
  do.call(paste0, parts)
}

task_keys <- function(template_names, command_templates, node_canonical, task_canonical) {
  sha1_hex(paste(template_names, command_templates, node_canonical, task_canonical, sep = "\x1f"))
}

task_set_hash <- function(keys) sha1_hex(paste(sort_codepoints(keys), collapse = "\n"))

dag_hash <- function(upstream_keys, downstream_keys) {
  if (!length(upstream_keys)) return(sha1_hex(""))
  sha1_hex(paste(sort_codepoints(paste0(upstream_keys, ">", downstream_keys)), collapse = "\n"))
}

# An arg value as the string a command and the hashes see. Whole numbers are written
# without a decimal point or exponent (1e6 becomes "1000000", as a Python int would);
# everything else as `as.character()` writes it.
arg_strings <- function(value, what) {
  if (is.factor(value)) value <- as.character(value)
  if (is.null(value) || !is.atomic(value) || !length(value)) {
    definition_error(what, ": needs a value (a string or a number), got ",
                     paste(deparse(value), collapse = " "))
  }
  if (anyNA(value)) definition_error(what, ": a value is NA; give every task a value")
  if (is.numeric(value)) {
    whole <- is.finite(value) & value == round(value) & abs(value) < 1e15
    out <- as.character(value)
    out[whole] <- sprintf("%.0f", value[whole])
    return(out)
  }
  as.character(value)
}
