"""The error types: expected failures a result union answers with, each with a message."""

from __future__ import annotations

import strawberry


@strawberry.interface(description="An expected failure, with a message saying what to do.")
class Error:
    message: str


@strawberry.type
class NotFound(Error):
    pass


@strawberry.type
class ValidationError(Error):
    field: str | None = None


@strawberry.type
class PermissionDenied(Error):
    pass


@strawberry.type
class Conflict(Error):
    pass
