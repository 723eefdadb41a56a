"""What a request may ask for, measured before validation so that no request stalls others.

Three bounds, each checked in one pass over the document before any validator recurses:

- fragment expansion: the number of fields the operation has once its fragments are
  spread. Counted with one memo per fragment, so a "fragment bomb" (fragments that each
  spread the previous one twice) is measured in microseconds and refused, where validators
  that follow every spread would take seconds per level;
- cost, like GitHub's node limit: every field counts once per object it is asked of, and a
  page of ``first: n`` multiplies what is below it by n;
- list arguments: no list argument holds more than its bound (typed lists are coerced item
  by item on the event loop).

Variables are read as sent (coercion comes later and refuses what is malformed).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLInputObjectType,
    GraphQLList,
    GraphQLObjectType,
    GraphQLSchema,
    InlineFragmentNode,
    IntValueNode,
    ListValueNode,
    OperationDefinitionNode,
    SelectionSetNode,
    VariableNode,
    get_named_type,
    get_nullable_type,
)

from jobmon_server.graphql import input_checks

PAGE_ARGUMENT = "first"


@dataclass(frozen=True)
class Bounds:
    max_fields: int = 3000
    """Fields of one operation with its fragments spread."""
    max_cost: int = 500_000
    """Fields times the page sizes above them."""
    # Typed lists are coerced item by item on the event loop: about 2 us an Int and
    # 30 us an input object, so these bounds keep any request's coercion to some 20-30 ms.
    max_list_items: int = 10_000
    """Items of a list argument of scalars (ids, names)."""
    max_input_objects: int = 1_000
    """Items of a list argument of input objects (reports, queues)."""
    per_argument: Mapping[str, int] = field(
        default_factory=lambda: {"bindTaskTemplates.templates": 500}
    )


class Refused(Exception):
    """The request is over a bound; the message names it."""


def check(
    schema: GraphQLSchema,
    document: DocumentNode,
    operation_name: str | None,
    variables: Mapping[str, Any] | None,
    bounds: Bounds,
) -> OperationDefinitionNode | None:
    """Raise ``Refused`` when the operation is over a bound; answer the operation."""
    fragments = {
        d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
    }
    # Validators visit every operation of the document, whichever one is to run.
    sizes: dict[str, int] = {}
    fields = sum(
        _expanded_size(d.selection_set, fragments, sizes, set())
        for d in document.definitions
        if isinstance(d, OperationDefinitionNode)
    )
    if fields > bounds.max_fields:
        raise Refused(
            f"the operation has {fields:,} fields once its fragments are spread, over the "
            f"limit of {bounds.max_fields:,}; ask for fewer fields or aliases"
        )
    operation = _operation(document, operation_name)
    if operation is None:
        return None  # graphql-core says which operation is missing
    root = schema.get_root_type(operation.operation)
    if root is None:
        return operation
    defaults = {
        v.variable.name.value: v.default_value for v in operation.variable_definitions or ()
    }
    walk = _Walk(schema, fragments, variables or {}, defaults, bounds)
    try:
        cost = walk.selections(operation.selection_set, root, 1)  # lists are bounded first
        input_checks.check_typed_items(schema, operation, variables or {})
        input_checks.check_variables(schema, operation, variables or {})
    except input_checks.OutOfRange as exc:
        raise Refused(str(exc)) from None
    if cost > bounds.max_cost:
        raise Refused(
            f"the operation's cost is {cost:,} (each field once per object asked for, "
            f"pages multiplying what is below them) over the limit of {bounds.max_cost:,}; "
            "ask for smaller pages (first) or fewer aliases"
        )
    return operation


def _operation(document: DocumentNode, name: str | None) -> OperationDefinitionNode | None:
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    if name is None:
        return operations[0] if len(operations) == 1 else None
    return next((o for o in operations if o.name and o.name.value == name), None)


def _expanded_size(
    selection_set: SelectionSetNode | None,
    fragments: Mapping[str, FragmentDefinitionNode],
    sizes: dict[str, int],
    spreading: set[str],
) -> int:
    """Fields under ``selection_set`` with every spread expanded; one memo per fragment."""
    if selection_set is None:
        return 0
    total = 0
    for selection in selection_set.selections:
        if isinstance(selection, FieldNode):
            total += 1 + _expanded_size(selection.selection_set, fragments, sizes, spreading)
        elif isinstance(selection, InlineFragmentNode):
            total += _expanded_size(selection.selection_set, fragments, sizes, spreading)
        elif isinstance(selection, FragmentSpreadNode):
            name = selection.name.value
            if name in spreading:
                raise Refused(f"fragment {name} spreads itself (a cycle of fragments)")
            if name not in sizes:
                fragment = fragments.get(name)
                spreading.add(name)
                sizes[name] = (
                    0
                    if fragment is None
                    else _expanded_size(fragment.selection_set, fragments, sizes, spreading)
                )
                spreading.discard(name)
            total += sizes[name]
    return total


class _Walk:
    """Cost and list bounds of an operation whose expansion is known to be small."""

    def __init__(
        self,
        schema: GraphQLSchema,
        fragments: Mapping[str, FragmentDefinitionNode],
        variables: Mapping[str, Any],
        defaults: Mapping[str, Any],
        bounds: Bounds,
    ) -> None:
        self.schema = schema
        self.fragments = fragments
        self.variables = variables
        self.defaults = defaults
        self.bounds = bounds

    def selections(self, selection_set: SelectionSetNode | None, parent: Any, times: int) -> int:
        if selection_set is None:
            return 0
        cost = 0
        for selection in selection_set.selections:
            if isinstance(selection, FieldNode):
                cost += self.field(selection, parent, times)
            elif isinstance(selection, InlineFragmentNode):
                cost += self.selections(
                    selection.selection_set, self._type(selection, parent), times
                )
            elif isinstance(selection, FragmentSpreadNode):
                fragment = self.fragments.get(selection.name.value)
                if fragment is not None:
                    cost += self.selections(
                        fragment.selection_set, self._type(fragment, parent), times
                    )
        return cost

    def _type(self, node: InlineFragmentNode | FragmentDefinitionNode, parent: Any) -> Any:
        condition = node.type_condition
        if condition is None:
            return parent
        return self.schema.get_type(condition.name.value) or parent

    def field(self, node: FieldNode, parent: Any, times: int) -> int:
        definition = (
            parent.fields.get(node.name.value) if isinstance(parent, GraphQLObjectType) else None
        )
        if definition is None:  # unknown or on an abstract type: validation will say
            return times + self.selections(node.selection_set, None, times)
        given = {a.name.value: a.value for a in node.arguments or ()}
        for name, argument in definition.args.items():
            if name in given:
                self._check_list(f"{parent.name}.{node.name.value}", name, argument, given[name])
                input_checks.check_literal(
                    argument.type, given[name], f"argument {name} of {node.name.value}"
                )
        below = times
        if PAGE_ARGUMENT in definition.args:
            page = self._int(given.get(PAGE_ARGUMENT), definition.args[PAGE_ARGUMENT])
            below = times * max(page, 1)
        child = get_named_type(definition.type)
        return below + self.selections(node.selection_set, child, below)

    def _value(self, node: Any) -> Any:
        if isinstance(node, VariableNode):
            name = node.name.value
            if name in self.variables:
                return self.variables[name]
            default = self.defaults.get(name)
            return self._literal(default) if default is not None else None
        return self._literal(node)

    @staticmethod
    def _literal(node: Any) -> Any:
        if isinstance(node, IntValueNode):
            try:
                return int(node.value)
            except ValueError:
                return None
        if isinstance(node, ListValueNode):
            return node.values
        return node

    def _int(self, node: Any, argument: Any) -> int:
        value = self._value(node) if node is not None else argument.default_value
        return value if isinstance(value, int) and not isinstance(value, bool) else 1

    def _check_list(self, field_name: str, name: str, argument: Any, node: Any) -> None:
        kind = get_nullable_type(argument.type)
        if not isinstance(kind, GraphQLList):
            return
        value = self._value(node)
        if not isinstance(value, list | tuple):
            return
        item = get_named_type(kind.of_type)
        key = f"{field_name.split('.', 1)[1]}.{name}"
        bound = self.bounds.per_argument.get(key) or (
            self.bounds.max_input_objects
            if isinstance(item, GraphQLInputObjectType)
            else self.bounds.max_list_items
        )
        if len(value) > bound:
            raise Refused(
                f"{name} of {field_name.split('.', 1)[1]} has {len(value):,} items, over the "
                f"limit of {bound:,} a request; send them in batches"
            )
