"""Expected failures, raised by the domain functions and returned as GraphQL data."""

from __future__ import annotations


class DomainError(Exception):
    """An expected failure with a message that tells the user what to do."""

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
