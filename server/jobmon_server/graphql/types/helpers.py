"""What resolvers take from a request's context, and how times leave the database."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import overload

from strawberry.types import Info

from jobmon_server.context import Services
from jobmon_server.graphql.loaders import Loaders


def services(info: Info) -> Services:
    return info.context["services"]  # type: ignore[no-any-return]


def loaders(info: Info) -> Loaders:
    return info.context["loaders"]  # type: ignore[no-any-return]


@overload
def aware(value: datetime) -> datetime: ...
@overload
def aware(value: None) -> None: ...
def aware(value: datetime | None) -> datetime | None:
    """Database times are naive UTC; the API says so."""
    return value.replace(tzinfo=UTC) if value is not None else None
