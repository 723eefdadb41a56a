"""Expected failures, raised by the domain functions and returned as GraphQL data."""

from __future__ import annotations


class DomainError(Exception):
    """An expected failure with a message that tells the user what to do.

    The message names the domain's things (a workflow, its upstream tasks), never the API's
    spelling of them; ``field``, when given, is the input the caller sent that is wrong.
    """

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


class NotFoundError(DomainError):
    pass


class ValidationFailed(DomainError):
    pass


class PermissionDeniedError(DomainError):
    pass


class ConflictError(DomainError):
    pass


class Unavailable(Exception):
    """The database cannot be used just now: the request may be sent again as it is.

    Not a domain error: clients see it as a retryable GraphQL error (code UNAVAILABLE,
    HTTP 503), never as a masked unexpected one.
    """

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message
