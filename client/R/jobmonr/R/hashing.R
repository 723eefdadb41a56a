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

# An arg value as the string a command and the hashes see, written as the Python client
# writes the same value: whole numbers without a decimal point or exponent (1e6 is
# "1000000", as a Python int), other numbers in the shortest form that reads back the same
# (0.1 + 0.2 is "0.30000000000000004", as Python's float repr). Logicals are refused:
# R's TRUE and Python's True would make different commands and hashes.
arg_strings <- function(value, what) {
  # Jobmon's R examples give node args as lists: location_id = as.list(1:5)
  if (is.list(value) && length(value) && all(vapply(value, function(v) is.atomic(v) && length(v) == 1L, TRUE))) {
    value <- unlist(value, use.names = FALSE)
  }
  if (is.factor(value)) value <- as.character(value)
  if (is.null(value) || !is.atomic(value) || !length(value)) {
    definition_error(what, ": needs a value (a string or a number), got ",
                     paste(deparse(value), collapse = " "))
  }
  if (anyNA(value)) definition_error(what, ": a value is NA; give every task a value")
  if (is.logical(value)) {
    definition_error(what, ": a logical (TRUE/FALSE) is written differently by R and Python; ",
                     "give the string the command expects, such as \"true\" or \"1\"")
  }
  if (is.numeric(value)) return(number_strings(value, what))
  as.character(value)
}

# formatC's "g" writes exponents as C and Python do ("1e-05", "1.5e+16"), and switches to
# them at the same points for the numbers that reach it (whole numbers are written first).
number_strings <- function(value, what) {
  if (any(!is.finite(value))) definition_error(what, ": a value is not finite (Inf or NaN)")
  value <- as.double(value)
  out <- character(length(value))
  whole <- value == round(value) & abs(value) < 2^53
  out[whole] <- sprintf("%.0f", value[whole] + 0)  # + 0 turns -0 into 0
  rest <- which(!whole)
  for (digits in 15:17) {  # the shortest form that reads back as the same number
    if (!length(rest)) break
    text <- trimws(formatC(value[rest], digits = digits, format = "g"))
    exact <- digits == 17 | as.double(text) == value[rest]
    out[rest[exact]] <- text[exact]
    rest <- rest[!exact]
  }
  out
}
