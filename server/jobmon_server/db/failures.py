"""Which database errors are transient: a deadlock to retry, or a database that is away.

Everything else a driver raises is a bug or bad data and stays unexpected.
"""

from __future__ import annotations

import sqlite3
from enum import Enum

from sqlalchemy import exc as sa_exc


class Failure(Enum):
    DEADLOCK = "deadlock"  # the transaction lost a lock race: run it again
    UNAVAILABLE = "unavailable"  # the database cannot be reached or is shutting down


# MariaDB/MySQL error numbers.
_MYSQL_DEADLOCK = {1213, 1205}  # deadlock found; lock wait timeout
_MYSQL_AWAY = {1040, 1053, 1077, 2002, 2003, 2006, 2013, 2055}
# PostgreSQL SQLSTATE classes: 08 connection exception, 57P0x operator intervention.
_PG_AWAY_PREFIXES = ("08", "57P01", "57P02", "57P03")
_PG_DEADLOCK = {"40001", "40P01"}  # serialization failure; deadlock detected
_SQLITE_BUSY = ("database is locked", "database table is locked", "database is busy")


def classify(error: BaseException) -> Failure | None:
    """How a database error should be handled; None when it is not transient."""
    if isinstance(error, sa_exc.TimeoutError):  # no connection free in the pool
        return Failure.UNAVAILABLE
    if not isinstance(error, sa_exc.DBAPIError):
        return None
    if error.connection_invalidated:
        return Failure.UNAVAILABLE
    return _classify_driver_error(error.orig)


def _classify_driver_error(orig: BaseException | None) -> Failure | None:
    if orig is None:
        return None
    if isinstance(orig, sqlite3.OperationalError):
        message = str(orig).lower()
        return Failure.UNAVAILABLE if message.startswith(_SQLITE_BUSY) else None
    module = type(orig).__module__
    if module.startswith("psycopg"):
        import psycopg

        sqlstate = getattr(orig, "sqlstate", None)
        if sqlstate in _PG_DEADLOCK:
            return Failure.DEADLOCK
        if sqlstate is None and isinstance(orig, psycopg.OperationalError):
            return Failure.UNAVAILABLE  # the connection failed before any answer
        if sqlstate is not None and sqlstate.startswith(_PG_AWAY_PREFIXES):
            return Failure.UNAVAILABLE
        return None
    if module.startswith("pymysql"):
        code = orig.args[0] if orig.args and isinstance(orig.args[0], int) else None
        if code in _MYSQL_DEADLOCK:
            return Failure.DEADLOCK
        if code in _MYSQL_AWAY:
            return Failure.UNAVAILABLE
    return None
