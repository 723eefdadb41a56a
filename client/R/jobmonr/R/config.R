# Where the client finds the server, as the Python client does: an explicit URL, then
# JOBMON_SERVER_URL, then `server_url` in the config file (JOBMON_CONFIG or
# ~/.jobmon/config.toml), then the address `jobmon up` listens on. A shared server's token
# comes from JOBMON_TOKEN or `token` in the same file.

default_server_url <- "http://127.0.0.1:8070"

config_path <- function() {
  path <- Sys.getenv("JOBMON_CONFIG", "")
  if (nzchar(path)) path else file.path(path.expand("~"), ".jobmon", "config.toml")
}

# Reads one top-level string key of the TOML config file; NULL when absent. Only the
# `key = "value"` form is needed for the keys the client reads.
config_value <- function(key, path = config_path()) {
  if (!file.exists(path)) return(NULL)
  lines <- readLines(path, warn = FALSE, encoding = "UTF-8")
  section <- grepl("^\\s*\\[", lines)
  top <- if (any(section)) lines[seq_len(which(section)[1] - 1)] else lines
  pattern <- paste0("^\\s*", key, "\\s*=\\s*(\"([^\"]*)\"|'([^']*)')\\s*(#.*)?$")
  hit <- regmatches(top, regexec(pattern, top))
  hit <- Filter(length, hit)
  if (!length(hit)) return(NULL)
  found <- hit[[1]]
  if (nzchar(found[3])) found[3] else found[4]
}

#' The Jobmon server's address
#'
#' The address the client sends its requests to: `url` if given, else the environment
#' variable `JOBMON_SERVER_URL`, else `server_url` in the config file (`JOBMON_CONFIG` or
#' `~/.jobmon/config.toml`), else `http://127.0.0.1:8070`, where `jobmon up` listens.
#'
#' @param url An explicit address, or `NULL`.
#' @return The server's base address, without a trailing slash.
#' @export
server_url <- function(url = NULL) {
  if (is.null(url) || !nzchar(url)) url <- Sys.getenv("JOBMON_SERVER_URL", "")
  if (!nzchar(url)) url <- config_value("server_url") %||% default_server_url
  sub("/+$", "", url)
}

graphql_url <- function(url = NULL) {
  base <- server_url(url)
  if (grepl("/graphql$", base)) base else paste0(base, "/graphql")
}

auth_token <- function() {
  token <- Sys.getenv("JOBMON_TOKEN", "")
  if (nzchar(token)) token else config_value("token")
}

`%||%` <- function(a, b) if (is.null(a)) b else a
