"""A stand-in for the server in unit tests: every document is checked against the schema.

``MockClient(handler)`` has the ``execute(document, variables)`` of
``jobmon_client.transport.GraphQLClient``. Each document is parsed and validated against
server/jobmon_server/schema.graphql, its variables are coerced by the schema's rules, and
the handler is called with the name of the root field and its arguments; what the handler
returns is the field's value (dicts with the schema's camelCase names, ``__typename`` for
unions), which is then executed against the document's selection by graphql-core. So a
document the real server would refuse, or an answer it could not give, fails the test
where it happens. Modelled on httpx's ``MockTransport``.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from functools import cache
from pathlib import Path
from typing import Any

from graphql import (
    GraphQLSchema,
    build_schema,
    execute,
    get_operation_ast,
    parse,
    validate,
)

SCHEMA_FILE = Path(__file__).resolve().parent.parent / "server" / "jobmon_server" / "schema.graphql"

Handler = Callable[[str, dict[str, Any]], Any]


@cache
def schema() -> GraphQLSchema:
    return build_schema(SCHEMA_FILE.read_text())


class SchemaViolation(AssertionError):
    """A document or an answer that the schema does not allow."""


def check_document(document: str) -> None:
    """Raise SchemaViolation unless ``document`` is valid against the schema."""
    errors = validate(schema(), parse(document))
    if errors:
        raise SchemaViolation("; ".join(e.message for e in errors))


class MockClient:
    """Answers GraphQL documents through ``handler(field, arguments)``."""

    def __init__(self, handler: Handler) -> None:
        self.handler = handler
        self.calls: list[tuple[str, dict[str, Any]]] = []
        self._lock = threading.Lock()

    def execute(self, document: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
        ast = parse(document)
        errors = validate(schema(), ast)
        if errors:
            raise SchemaViolation("; ".join(e.message for e in errors))
        operation = get_operation_ast(ast)
        assert operation is not None, "a document with one operation"
        root_type = {
            "query": schema().query_type,
            "mutation": schema().mutation_type,
            "subscription": schema().subscription_type,
        }[operation.operation.value]
        assert root_type is not None

        def resolver(field: str) -> Callable[..., Any]:
            def resolve(_root: Any, _info: Any, **arguments: Any) -> Any:
                with self._lock:
                    self.calls.append((field, arguments))
                return self.handler(field, arguments)

            return resolve

        root = {name: resolver(name) for name in root_type.fields}
        result = execute(schema(), ast, root_value=_Root(root), variable_values=variables or {})
        if result.errors:
            original = result.errors[0].original_error
            if original is not None and not isinstance(original, SchemaViolation):
                raise original
            raise SchemaViolation("; ".join(e.message for e in result.errors))
        assert result.data is not None
        return dict(result.data)

    def fields_called(self) -> list[str]:
        with self._lock:
            return [field for field, _ in self.calls]


class _Root:
    """A root value whose fields call the handler (graphql-core's default resolver calls
    a callable attribute with the info and the field's arguments)."""

    def __init__(self, fields: dict[str, Callable[..., Any]]) -> None:
        self._fields = fields

    def __getattr__(self, name: str) -> Any:
        try:
            resolve = self._fields[name]
        except KeyError:
            raise AttributeError(name) from None
        return lambda info, **arguments: resolve(None, info, **arguments)
