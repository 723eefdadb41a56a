"""Range checks on inputs before coercion: Floats finite and at most 2^53 in size, literal
strings without NUL.

graphql-core lets a Float literal such as ``1e400`` through as infinity, and any Float
beyond 2^53 overflows the integer and time columns it ends in. ``Float`` is a reserved
name and cannot be replaced, so the operation's Float values (literals, and variables by
their declared types, through lists and input objects) are checked here instead, each
refusal naming the argument or variable.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from graphql import (
    FloatValueNode,
    GraphQLInputObjectType,
    GraphQLInputType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLSchema,
    IntValueNode,
    ListValueNode,
    ObjectValueNode,
    OperationDefinitionNode,
    StringValueNode,
    get_named_type,
    get_nullable_type,
    type_from_ast,
)

FLOAT_LIMIT = float(2**53)


class OutOfRange(ValueError):
    pass


def check_float(value: Any, where: str) -> None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return  # not a number: coercion refuses it with graphql-core's message
    if isinstance(value, float) and not math.isfinite(value) or abs(value) > FLOAT_LIMIT:
        raise OutOfRange(f"{where} must be a finite Float of at most 2^53 in size, not {value:.6g}")


def check_variables(
    schema: GraphQLSchema, operation: OperationDefinitionNode, variables: Mapping[str, Any]
) -> None:
    """Float values in the variables, by the types the operation declares for them."""
    for definition in operation.variable_definitions or ():
        name = definition.variable.name.value
        if name not in variables:
            continue
        kind = type_from_ast(schema, definition.type)
        if kind is not None and _holds_float(kind, set()):
            _value(kind, variables[name], f"variable ${name}")  # type: ignore[arg-type]


MAX_TYPED_ITEMS = 20_000
"""List items in a request's typed variables, nested lists included (JSON is not typed)."""


def check_typed_items(
    schema: GraphQLSchema, operation: OperationDefinitionNode, variables: Mapping[str, Any]
) -> None:
    """Refuse variables whose typed lists hold more than ``MAX_TYPED_ITEMS`` items in all:
    graphql-core coerces them one by one on the event loop. Stops counting at the bound."""
    budget = [MAX_TYPED_ITEMS]
    for definition in operation.variable_definitions or ():
        name = definition.variable.name.value
        kind = type_from_ast(schema, definition.type)
        if name in variables and kind is not None:
            _items(kind, variables[name], budget, f"variable ${name}")


def _items(kind: Any, value: Any, budget: list[int], where: str) -> None:
    if isinstance(kind, GraphQLNonNull):
        kind = kind.of_type
    if isinstance(kind, GraphQLList) and isinstance(value, list):
        budget[0] -= len(value)
        if budget[0] < 0:
            raise OutOfRange(
                f"{where} brings the request's typed list items past {MAX_TYPED_ITEMS:,} (each "
                "is coerced one by one); send them in batches"
            )
        inner = kind.of_type
        if not isinstance(get_named_type(inner), GraphQLInputObjectType) and not isinstance(
            get_nullable_type(inner), GraphQLList
        ):
            return
        for i, item in enumerate(value):
            _items(inner, item, budget, f"{where}[{i}]")
    elif isinstance(kind, GraphQLInputObjectType) and isinstance(value, dict):
        for name, field in kind.fields.items():
            if name in value:
                _items(field.type, value[name], budget, f"{where}.{name}")


def _holds_float(kind: Any, seen: set[str]) -> bool:
    """Whether a value of ``kind`` can hold a Float anywhere (input types may recurse)."""
    named = get_named_type(kind)
    if named.name == "Float":
        return True
    if not isinstance(named, GraphQLInputObjectType) or named.name in seen:
        return False
    seen.add(named.name)
    return any(_holds_float(f.type, seen) for f in named.fields.values())


def _value(kind: GraphQLInputType, value: Any, where: str) -> None:
    if isinstance(kind, GraphQLNonNull):
        kind = kind.of_type
    if value is None:
        return
    if isinstance(kind, GraphQLList):
        if isinstance(value, list):
            for i, item in enumerate(value):
                _value(kind.of_type, item, f"{where}[{i}]")
        else:
            _value(kind.of_type, value, where)
    elif isinstance(kind, GraphQLInputObjectType):
        if isinstance(value, dict):
            for name, field in kind.fields.items():
                if name in value:
                    _value(field.type, value[name], f"{where}.{name}")
    elif getattr(kind, "name", None) == "Float":
        check_float(value, where)


def check_literal(kind: GraphQLInputType, node: Any, where: str) -> None:
    """An argument's literal value: its strings hold no NUL (GraphQL's ``\\u0000`` escape
    makes one, which PostgreSQL cannot store), its Floats are in range. Variables are
    checked by their types, and their text with the request's body."""
    _literal_text(node, where)
    _literal_floats(kind, node, where)


def _literal_text(node: Any, where: str) -> None:
    stack = [node]
    while stack:
        item = stack.pop()
        if isinstance(item, StringValueNode):
            if "\x00" in item.value:
                raise OutOfRange(f"{where} is not valid text: it holds a NUL character")
        elif isinstance(item, ListValueNode):
            stack.extend(item.values)
        elif isinstance(item, ObjectValueNode):
            stack.extend(f.value for f in item.fields)


def _literal_floats(kind: GraphQLInputType, node: Any, where: str) -> None:
    if isinstance(kind, GraphQLNonNull):
        kind = kind.of_type
    if isinstance(kind, GraphQLList):
        if isinstance(node, ListValueNode):
            for i, item in enumerate(node.values):
                _literal_floats(kind.of_type, item, f"{where}[{i}]")
        else:
            _literal_floats(kind.of_type, node, where)
    elif isinstance(kind, GraphQLInputObjectType):
        if isinstance(node, ObjectValueNode):
            for field_node in node.fields:
                field = kind.fields.get(field_node.name.value)
                if field is not None:
                    _literal_floats(
                        field.type, field_node.value, f"{where}.{field_node.name.value}"
                    )
    elif getattr(kind, "name", None) == "Float" and isinstance(node, FloatValueNode | IntValueNode):
        check_float(float(node.value), where)
