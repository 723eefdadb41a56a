"""One page of a list, and how a page's size is checked."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Generic, Self, TypeVar

import strawberry
from strawberry.types import Info

from jobmon_server import reads
from jobmon_server.graphql.types.helpers import services

T = TypeVar("T")


# Strawberry names ``Page[Task]`` "TaskPage" in the schema.
@strawberry.type
class Page(Generic[T]):
    end_cursor: str | None
    has_next_page: bool
    items: list[T]

    @classmethod
    def of(cls, page: reads.Page[Any], item: Callable[[Any], T]) -> Self:
        """A page of rows, each row made an item by ``item``."""
        return cls(
            items=[item(r) for r in page.items],
            end_cursor=page.end_cursor,
            has_next_page=page.has_next_page,
        )


def page_size(info: Info, first: int) -> int:
    """``first``, refused by name unless between 1 and the server's largest page."""
    return reads.check_page_size(first, services(info).settings.max_page_size)
