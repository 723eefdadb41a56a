"""How unexpected errors are masked, and an unavailable database answered as such."""

from __future__ import annotations

import logging
from typing import Any

from graphql import GraphQLError
from strawberry.extensions import (
    MaskErrors,
)
from strawberry.schema.exceptions import CannotGetOperationTypeError, InvalidOperationTypeError

from jobmon_server.errors import (
    DomainError,
    Unavailable,
)
from jobmon_server.graphql.scalars import InvalidInput
from jobmon_server.transitions import IllegalTransition

log = logging.getLogger(__name__)


def should_mask(error: GraphQLError) -> bool:
    """Expected errors keep their message; anything unexpected is masked (and logged).

    graphql-core's own errors are expected: a variable of the wrong type, null for a
    non-null, an Int out of range, an unparsable scalar (Strawberry's DateTime says so with
    a GraphQLError too). They wrap another GraphQLError, and their messages are the spec's.
    """
    original = error.original_error
    return original is not None and not isinstance(original, _EXPECTED)


# Strawberry's refusals of an unknown operation name or a wrong operation type say so.
_EXPECTED = (
    GraphQLError,
    InvalidInput,
    CannotGetOperationTypeError,
    InvalidOperationTypeError,
    DomainError,
    IllegalTransition,
    Unavailable,
)


UNAVAILABLE = "UNAVAILABLE"
RETRY_AFTER_SECONDS = 1


class MaskUnexpected(MaskErrors):
    """Masks unexpected errors with the request's id, which the server log names too.

    An unavailable database is not unexpected: its error says so with the code
    UNAVAILABLE (clients send the request again), and over HTTP the answer is a 503.
    """

    def _process_errors(self, errors: list[GraphQLError]) -> list[GraphQLError]:
        processed = super()._process_errors(errors)
        if any(isinstance(e.original_error, Unavailable) for e in processed):
            response = _context_response(self.execution_context.context)
            if response is not None:
                response.status_code = 503
                response.headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
        return [_typed_unavailable(e) for e in processed]

    def anonymise_error(self, error: GraphQLError) -> GraphQLError:
        request_id = request_id_of(self.execution_context.context)
        log.error("request %s failed", request_id, exc_info=error.original_error)
        masked = super().anonymise_error(error)
        masked.message = (
            f"Unexpected error (request {request_id}); the server's log has the details"
        )
        return masked


def _typed_unavailable(error: GraphQLError) -> GraphQLError:
    if not isinstance(error.original_error, Unavailable):
        return error
    log.warning("answered UNAVAILABLE: %s", error.message)
    return GraphQLError(
        message=error.message,
        nodes=error.nodes,
        source=error.source,
        positions=error.positions,
        path=error.path,
        original_error=error.original_error,
        extensions={"code": UNAVAILABLE, "retryable": True},
    )


def _context_response(context: Any) -> Any:
    return context.get("response") if isinstance(context, dict) else None


def request_id_of(context: Any) -> str:
    request = context.get("request") if isinstance(context, dict) else None
    scope = getattr(request, "scope", None) or {}
    return str(scope.get("state", {}).get("request_id", "unknown"))
