"""Portable bulk statements: insert-ignore and chunked IN lists."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from typing import Any, TypeVar

from sqlalchemy import Table
from sqlalchemy.dialects import mysql, postgresql, sqlite
from sqlalchemy.orm import Session

T = TypeVar("T")

# Ids per IN (...) list: well under every backend's parameter limit.
IN_CHUNK = 5000


def chunks(items: Sequence[T], size: int = IN_CHUNK) -> Iterator[Sequence[T]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def insert_ignore(session: Session, table: Table, rows: Iterable[dict[str, Any]]) -> None:
    """Insert rows, skipping those that collide with a unique key (idempotent binds)."""
    rows = list(rows)
    if not rows:
        return
    dialect = session.get_bind().dialect.name
    stmt: Any
    if dialect == "postgresql":
        stmt = postgresql.insert(table).on_conflict_do_nothing()
    elif dialect == "sqlite":
        stmt = sqlite.insert(table).on_conflict_do_nothing()
    elif dialect in ("mysql", "mariadb"):
        stmt = mysql.insert(table).prefix_with("IGNORE")
    else:  # pragma: no cover - only the three supported backends reach here
        raise NotImplementedError(dialect)
    for part in chunks(rows, 2000):
        session.execute(stmt, list(part))
