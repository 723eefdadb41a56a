"""Portable bulk statements: insert-ignore and chunked IN lists."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Sequence
from typing import Any, TypeVar

from sqlalchemy import JSON, Table
from sqlalchemy.dialects import mysql, postgresql, sqlite
from sqlalchemy.orm import Session

T = TypeVar("T")

# Ids per IN (...) list: well under every backend's parameter limit.
IN_CHUNK = 5000


def chunks(items: Sequence[T], size: int = IN_CHUNK) -> Iterator[Sequence[T]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def insert_ignore(session: Session, table: Table, rows: Iterable[dict[str, Any]]) -> None:
    """Insert rows, skipping those that collide with a unique key (idempotent binds).

    Rows with the same keys go to the driver's executemany as plain tuples (JSON columns
    encoded here): for the hundreds of thousands of rows of a large bind, building
    SQLAlchemy parameters row by row costs more than the database does.
    """
    rows = list(rows)
    if not rows:
        return
    keys = rows[0].keys()
    if any(row.keys() != keys for row in rows):
        _insert_ignore_rows(session, table, rows)
        return
    columns = list(keys)
    dialect = session.get_bind().dialect
    quote = dialect.identifier_preparer.quote
    marker = "?" if dialect.paramstyle == "qmark" else "%s"
    names = ", ".join(quote(c) for c in columns)
    values = ", ".join(marker for _ in columns)
    target = quote(table.name)
    if dialect.name in ("mysql", "mariadb"):
        sql = f"INSERT IGNORE INTO {target} ({names}) VALUES ({values})"
    else:
        sql = f"INSERT INTO {target} ({names}) VALUES ({values}) ON CONFLICT DO NOTHING"
    encoders = [_encoder(table.c[c].type) for c in columns]
    connection = session.connection()
    for part in chunks(rows, 5000):
        params = [
            tuple(
                row[c] if e is None or row[c] is None else e(row[c])
                for c, e in zip(columns, encoders, strict=True)
            )
            for row in part
        ]
        connection.exec_driver_sql(sql, params)


def _encoder(column_type: Any) -> Any:
    if isinstance(column_type, JSON):
        return lambda value: json.dumps(value)
    return None


def _insert_ignore_rows(session: Session, table: Table, rows: list[dict[str, Any]]) -> None:
    """Rows of differing keys, through SQLAlchemy."""
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
