# Checks on names and commands, made before anything is sent. Each error names the
# template or task that is wrong and how to fix it.

max_name_length <- 255L
control_characters <- "[\\x{01}-\\x{1f}\\x{7f}-\\x{9f}]"

check_name <- function(name, what) {
  if (!is.character(name) || length(name) != 1L || is.na(name) || !nzchar(name)) {
    definition_error(what, ": the name must be one non-empty string, got ",
                     paste(deparse(name), collapse = " "))
  }
  if (nchar(name, type = "chars") > max_name_length) {
    definition_error(what, ": the name is ", nchar(name, type = "chars"), " characters long ('",
                     substr(name, 1, 40), "...'); use at most ", max_name_length)
  }
  if (grepl(control_characters, name, perl = TRUE)) {
    definition_error(what, ": the name ", deparse(name), " contains control characters; remove them")
  }
  name
}

check_whole <- function(value, what, minimum = 1) {
  ok <- is.numeric(value) && length(value) == 1L && !is.na(value) &&
    value == round(value) && value >= minimum && value <= .Machine$integer.max
  if (!ok) {
    definition_error(what, " must be a whole number of at least ", minimum, ", got ",
                     paste(deparse(value), collapse = " "))
  }
  as.integer(value)
}

# Generated names: control characters become "_"; long names are cut and end with a short
# digest of the full name, so distinct long names stay distinct.
storable_names <- function(names) {
  names <- gsub(control_characters, "_", names, perl = TRUE)
  long <- nchar(names, type = "chars") > max_name_length
  if (any(long)) {
    names[long] <- paste0(substr(names[long], 1, max_name_length - 9L), "_",
                          substr(sha1_hex(names[long]), 1, 8))
  }
  names
}
