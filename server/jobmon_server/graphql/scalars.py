"""Scalars checked at the edge: a DateTime lies within the years every database and every
time zone conversion can hold (Floats: ``input_checks``; Float is a reserved name).

It replaces Strawberry's ``DateTime`` under the same name, so the schema does not change;
a refused value is an ``InvalidInput``, which graphql-core reports naming the variable
or argument, and which is not masked.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from graphql import value_from_ast_untyped
from strawberry.schema.types.base_scalars import DateTimeDefinition
from strawberry.types.scalar import ScalarDefinition

EARLIEST = dt.datetime(1900, 1, 1, tzinfo=dt.UTC)
LATEST = dt.datetime(9999, 1, 1, tzinfo=dt.UTC)


class InvalidInput(ValueError):
    """A value a scalar refuses; graphql-core puts the argument or variable in front."""


def _in_range(value: dt.datetime) -> dt.datetime:
    aware = value if value.tzinfo is not None else value.replace(tzinfo=dt.UTC)
    if not EARLIEST <= aware <= LATEST:
        raise InvalidInput(
            f"DateTime must lie between {EARLIEST:%Y-%m-%d} and {LATEST:%Y-%m-%d}, not "
            f"{value.isoformat()}"
        )
    return value


def _parse_datetime(value: Any) -> dt.datetime:
    parsed = DateTimeDefinition.parse_value(value)  # type: ignore[misc]
    return _in_range(parsed)


def _parse_datetime_literal(node: Any, variables: Any = None) -> dt.datetime:
    return _parse_datetime(value_from_ast_untyped(node, variables))


CheckedDateTime = ScalarDefinition(
    name=DateTimeDefinition.name,
    description=DateTimeDefinition.description,
    specified_by_url=DateTimeDefinition.specified_by_url,
    serialize=DateTimeDefinition.serialize,
    parse_value=_parse_datetime,
    parse_literal=_parse_datetime_literal,
)

OVERRIDES: dict[object, ScalarDefinition] = {dt.datetime: CheckedDateTime}
