"""SQL on the driver's cursor, for the statements every report and claim runs.

A worker's round trip runs a few dozen small statements; built as SQLAlchemy expressions,
compiled and wrapped in results, they cost several times what the database does. These
are written once as SQL text, in the transaction the session opened (its connection),
with ``?`` placeholders (turned into the driver's style) and double-quoted identifiers
(backticks on MariaDB). Values are passed as parameters, never formatted into the text.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

UNNEST_ROWS = 10_000  # rows per statement of insert_columns and add_to


class Raw:
    """The driver's cursor of a session's transaction."""

    __slots__ = ("dialect", "_dbapi", "_sqlite")

    def __init__(self, session: Session) -> None:
        connection = session.connection()
        self.dialect = connection.dialect.name
        self._dbapi = connection.connection.dbapi_connection
        self._sqlite = self.dialect == "sqlite"

    def rows(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        cursor = self._dbapi.cursor()  # type: ignore[union-attr]
        try:
            cursor.execute(_text(sql, self.dialect), self._params(params))
            return list(cursor.fetchall())
        finally:
            cursor.close()

    def execute(self, sql: str, params: Sequence[Any] = ()) -> int:
        cursor = self._dbapi.cursor()  # type: ignore[union-attr]
        try:
            cursor.execute(_text(sql, self.dialect), self._params(params))
            return int(cursor.rowcount)
        finally:
            cursor.close()

    def executemany(
        self, sql: str, params: Iterable[Sequence[Any]], *, encoded: bool = False
    ) -> None:
        """``encoded``: the parameters are already in the driver's form (times as text)."""
        batch = list(params) if encoded else [self._params(p) for p in params]
        if not batch:
            return
        cursor = self._dbapi.cursor()  # type: ignore[union-attr]
        try:
            cursor.executemany(_text(sql, self.dialect), batch)
        finally:
            cursor.close()

    def insert_columns(
        self,
        sql_head: str,
        types: Sequence[str],
        rows: Sequence[Sequence[Any]],
        tail: str = "",
    ) -> None:
        """PostgreSQL: ``INSERT INTO t (columns)`` of many rows as one statement per
        thousands of rows, each column sent as one array (``unnest``): an executemany
        would run a statement per row, and a multi-row VALUES list costs the driver more
        to parse than the database to run. ``types`` are the columns' SQL types."""
        arrays = ", ".join(f"%s::{t}[]" for t in types)
        sql = f"{sql_head} SELECT * FROM unnest({arrays}){tail}"
        cursor = self._dbapi.cursor()  # type: ignore[union-attr]
        try:
            for start in range(0, len(rows), UNNEST_ROWS):
                part = rows[start : start + UNNEST_ROWS]
                cursor.execute(sql, [list(column) for column in zip(*part, strict=True)])
        finally:
            cursor.close()

    def add_to(self, table: str, column: str, deltas: Sequence[tuple[int, int]]) -> None:
        """Add each delta to ``column`` of the row with that id: ``[(id, delta), ...]``,
        in the order given (callers sort ids, so that writers lock rows in one order).
        Each id once: joined to a list of ids, a row is changed once however often its id
        is there."""
        if not deltas:
            return
        if self.dialect != "postgresql":
            self.executemany(
                f'UPDATE "{table}" SET {column} = {column} + ? WHERE id = ?',
                [(n, row_id) for row_id, n in deltas],
            )
            return
        # One statement for them all, joined to two arrays, rather than one a row.
        cursor = self._dbapi.cursor()  # type: ignore[union-attr]
        try:
            for start in range(0, len(deltas), UNNEST_ROWS):
                part = deltas[start : start + UNNEST_ROWS]
                cursor.execute(
                    f'UPDATE "{table}" SET {column} = "{table}".{column} + v.n '
                    "FROM unnest(%s::bigint[], %s::bigint[]) AS v(id, n) "
                    f'WHERE "{table}".id = v.id',
                    [[row_id for row_id, _ in part], [n for _, n in part]],
                )
        finally:
            cursor.close()

    def in_ids(self, column: str, ids: Sequence[int]) -> tuple[str, list[Any]]:
        """``column IN (?, ...)`` for these ids, and its parameters. On PostgreSQL
        ``column = ANY(?)`` with one array: a short statement its driver parses once,
        where a list of thousands of placeholders is parsed again every time."""
        if self.dialect == "postgresql":
            return f"{column} = ANY(?)", [list(ids)]
        return f"{column} IN ({marks(len(ids))})", list(ids)

    def lock(self, skip_locked: bool = False, of: str | None = None) -> str:
        """The row-lock clause ending a SELECT: FOR NO KEY UPDATE on PostgreSQL (an insert
        that references a locked row does not wait), FOR UPDATE on MariaDB, nothing on
        SQLite (its writers are one at a time). ``of``: only that table's rows (PostgreSQL)."""
        if self._sqlite:
            return ""
        if self.dialect == "postgresql":
            clause = " FOR NO KEY UPDATE" + (f' OF "{of}"' if of else "")
        else:
            clause = " FOR UPDATE"
        return clause + (" SKIP LOCKED" if skip_locked else "")

    def _params(self, params: Sequence[Any]) -> tuple[Any, ...]:
        if not self._sqlite:
            return tuple(params)
        # SQLAlchemy's text form of a time, so that times compare as stored ones do.
        return tuple(
            p.strftime("%Y-%m-%d %H:%M:%S.%f") if isinstance(p, datetime) else p for p in params
        )


def raw(session: Session) -> Raw:
    """The session's ``Raw``, made once per transaction."""
    found = session.info.get("raw")
    if found is None or found._dbapi is not session.connection().connection.dbapi_connection:
        found = session.info["raw"] = Raw(session)
    return found  # type: ignore[no-any-return]


def marks(n: int) -> str:
    """``n`` placeholders for an IN list."""
    return ", ".join("?" * n)


_texts: dict[tuple[str, str], str] = {}


def _text(sql: str, dialect: str) -> str:
    key = (sql, dialect)
    text = _texts.get(key)
    if text is None:
        text = sql
        if dialect != "sqlite":
            text = text.replace("%", "%%").replace("?", "%s")
        if dialect in ("mysql", "mariadb"):
            text = text.replace('"', "`")
        if len(_texts) < 10_000:  # IN lists of every length would grow it without end
            _texts[key] = text
    return text
