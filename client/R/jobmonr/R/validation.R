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

# Default task names as Jobmon makes them: /, \\, ', " and spaces (and control characters)
# become "_", and names are cut at 249 characters.
storable_names <- function(names) {
  names <- gsub(control_characters, "_", names, perl = TRUE)
  names <- gsub("[/\\\\'\" ]", "_", names, perl = TRUE)
  long <- nchar(names, type = "chars") > 249L
  names[long] <- substr(names[long], 1L, 249L)
  names
}
