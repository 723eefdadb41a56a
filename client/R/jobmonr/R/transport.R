# GraphQL over HTTP: one POST per request, answered as R lists. Connection failures and
# 5xx answers are retried with exponential backoff (every mutation the client sends is
# idempotent, so a resend is safe); GraphQL errors become R errors with the server's message.

scalar <- function(x) jsonlite::unbox(x)

# A JSON object from a named list, `{}` when empty.
json_object <- function(x) {
  if (!length(x)) return(structure(list(), names = character(0)))
  x
}

encode_request <- function(document, variables) {
  jsonlite::toJSON(
    list(query = scalar(document), variables = json_object(variables)),
    null = "null", na = "null", digits = NA, auto_unbox = FALSE, json_verbatim = TRUE
  )
}

#' Send one GraphQL request to the Jobmon server
#'
#' Most users never call this: the other functions do. It is exported for scripts that
#' need a query the package has no function for.
#'
#' @param document The GraphQL document.
#' @param variables A named list of variables; wrap single values that the schema takes as
#'   one value (not a list) in [jsonlite::unbox()].
#' @param url The server's address; see [server_url()].
#' @param retries How many times a failed connection is tried again.
#' @param timeout Seconds to wait for one answer.
#' @return The `data` of the answer, as nested lists.
#' @export
graphql <- function(document, variables = list(), url = NULL, retries = 8, timeout = 120) {
  endpoint <- graphql_url(url)
  body <- encode_request(document, variables)
  headers <- c("Content-Type" = "application/json", Accept = "application/json")
  token <- auth_token()
  if (!is.null(token)) headers <- c(headers, Authorization = paste("Bearer", token))
  delay <- 0.2
  for (attempt in 0:retries) {
    response <- tryCatch(
      httr::POST(endpoint, body = body, httr::add_headers(.headers = headers),
                 httr::timeout(timeout)),
      error = function(e) e
    )
    failure <- if (inherits(response, "error")) {
      conditionMessage(response)
    } else if (httr::status_code(response) >= 500) {
      paste("HTTP", httr::status_code(response))
    }
    if (is.null(failure)) return(decode_response(response, endpoint))
    if (attempt == retries) {
      unreachable_error(sprintf(
        "cannot reach the Jobmon server at %s (%s); start it with 'jobmon up' or set JOBMON_SERVER_URL",
        endpoint, failure
      ))
    }
    Sys.sleep(delay)
    delay <- min(delay * 2, 10)
  }
}

decode_response <- function(response, endpoint) {
  text <- httr::content(response, as = "text", encoding = "UTF-8")
  payload <- tryCatch(jsonlite::fromJSON(text, simplifyVector = FALSE), error = function(e) NULL)
  if (is.null(payload) || !is.list(payload)) {
    server_error(sprintf("the server at %s answered HTTP %d with no GraphQL result: %s",
                         endpoint, httr::status_code(response), substr(text, 1, 300)))
  }
  if (length(payload$errors)) {
    messages <- vapply(payload$errors, function(e) as.character(e$message %||% "error"), "")
    server_error(paste(messages, collapse = "; "))
  }
  if (httr::status_code(response) >= 400) {
    server_error(sprintf("the server at %s answered HTTP %d", endpoint, httr::status_code(response)))
  }
  payload$data
}

# A union result's success payload; its error member becomes an R error of its kind.
unwrap <- function(data, field) {
  payload <- data[[field]]
  if (is.null(payload)) server_error(sprintf("the server returned no %s", field))
  kind <- payload[["__typename"]] %||% ""
  if (kind %in% c("NotFound", "ValidationError", "PermissionDenied", "Conflict")) {
    server_error(payload$message %||% kind, kind)
  }
  payload
}
