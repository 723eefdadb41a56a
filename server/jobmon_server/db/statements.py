"""Portable bulk statements: insert-ignore and chunked IN lists."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator, Sequence
from operator import itemgetter
from typing import Any, TypeVar

from sqlalchemy import JSON, DateTime, Table, any_, bindparam
from sqlalchemy.dialects import mysql, postgresql, sqlite
from sqlalchemy.orm import Session

from jobmon_server.db.raw import raw

T = TypeVar("T")

# Ids per IN (...) list: well under every backend's parameter limit.
IN_CHUNK = 5000


def chunks(items: Sequence[T], size: int = IN_CHUNK) -> Iterator[Sequence[T]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def one_of(session: Session, column: Any, values: Sequence[Any]) -> Any:
    """``column IN values`` as SQLAlchemy builds it; on PostgreSQL ``column = ANY(array)``,
    one parameter instead of thousands for the driver to parse."""
    if session.get_bind().dialect.name == "postgresql":
        return column == any_(bindparam(None, list(values), type_=postgresql.ARRAY(column.type)))
    return column.in_(values)


def insert_ignore(session: Session, table: Table, rows: Iterable[dict[str, Any]]) -> None:
    """Insert rows, skipping those that collide with a unique key (idempotent binds)."""
    _insert(session, table, list(rows), ignore=True)


def bulk_insert(session: Session, table: Table, rows: Iterable[dict[str, Any]]) -> None:
    """Insert rows (events, error logs) without the ORM."""
    _insert(session, table, list(rows), ignore=False)


def _insert(session: Session, table: Table, rows: list[dict[str, Any]], *, ignore: bool) -> None:
    """Rows with the same keys go to the driver's executemany as plain tuples (JSON columns
    encoded here): for the hundreds of thousands of rows of a large bind, or the events of
    every report, building SQLAlchemy parameters row by row costs more than the database
    does."""
    if not rows:
        return
    keys = rows[0].keys()
    if any(row.keys() != keys for row in rows):
        _insert_rows(session, table, rows, ignore)
        return
    columns = list(keys)
    dialect = session.get_bind().dialect
    quote = dialect.identifier_preparer.quote
    names = ", ".join(quote(c) for c in columns)
    values = ", ".join("?" for _ in columns)
    target = quote(table.name)
    if not ignore:
        sql = f"INSERT INTO {target} ({names}) VALUES ({values})"
    elif dialect.name in ("mysql", "mariadb"):
        sql = f"INSERT IGNORE INTO {target} ({names}) VALUES ({values})"
    else:
        sql = f"INSERT INTO {target} ({names}) VALUES ({values}) ON CONFLICT DO NOTHING"
    db = raw(session)
    tuples = _tuples(rows, columns, [_encoder(table.c[c].type, dialect.name) for c in columns])
    if dialect.name == "postgresql":
        # VARCHAR without its length: a cast would cut a long value, the insert refuses it.
        types = [re.sub(r"\(\d+\)", "", table.c[c].type.compile(dialect=dialect)) for c in columns]
        tail = " ON CONFLICT DO NOTHING" if ignore else ""
        db.insert_columns(f"INSERT INTO {target} ({names})", types, list(tuples), tail)
        return
    for part in chunks(tuples, 5000):
        db.executemany(sql, part, encoded=True)


def _tuples(
    rows: list[dict[str, Any]], columns: list[str], encoders: list[Any]
) -> list[tuple[Any, ...]]:
    """Each row's values in column order, the encoded columns encoded (None stays None).
    Values come out of a row in one C call; only the few encoded columns go through Python,
    and the same object as the row before's (a bind's one time) is encoded once."""
    values = itemgetter(*columns)
    if len(columns) == 1:
        tuples = [(values(row),) for row in rows]
    else:
        tuples = [values(row) for row in rows]
    encoded = [(i, e) for i, e in enumerate(encoders) if e is not None]
    if not encoded:
        return tuples
    out = []
    last = [(object(), None) for _ in encoded]
    for t in tuples:
        row = list(t)
        for n, (i, encode) in enumerate(encoded):
            value = row[i]
            if value is not None:
                before, text = last[n]
                if value is not before:
                    text = encode(value)
                    last[n] = (value, text)
                row[i] = text
        out.append(tuple(row))
    return out


def _encoder(column_type: Any, dialect: str) -> Any:
    """How a value goes to the driver as SQLAlchemy would have sent it (None: as it is)."""
    if isinstance(column_type, JSON):
        return json.dumps
    if isinstance(column_type, DateTime) and dialect == "sqlite":
        # SQLAlchemy's text form, so that times compare as stored ones do.
        return lambda value: value.strftime("%Y-%m-%d %H:%M:%S.%f")
    return None


def _insert_rows(session: Session, table: Table, rows: list[dict[str, Any]], ignore: bool) -> None:
    """Rows of differing keys, through SQLAlchemy."""
    dialect = session.get_bind().dialect.name
    stmt: Any
    if not ignore:
        stmt = table.insert()
    elif dialect == "postgresql":
        stmt = postgresql.insert(table).on_conflict_do_nothing()
    elif dialect == "sqlite":
        stmt = sqlite.insert(table).on_conflict_do_nothing()
    elif dialect in ("mysql", "mariadb"):
        stmt = mysql.insert(table).prefix_with("IGNORE")
    else:  # pragma: no cover - only the three supported backends reach here
        raise NotImplementedError(dialect)
    for part in chunks(rows, 2000):
        session.execute(stmt, list(part))
