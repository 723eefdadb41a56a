"""Parsed and validated documents, cached within a budget of bytes.

Workers send the same few documents thousands of times, so parsing and validating each
once pays. The cache is bounded by the memory its documents take (estimated from the
query's length: a parsed document takes about 120 bytes per character of text), not by
a count of entries: a count lets a stream of large distinct queries hold a lot of memory.
Documents too large to be worth keeping are not cached at all. The budget is small on
purpose: every cached node is an object the garbage collector walks in its full passes,
on whichever thread runs them (the event loop's, often).
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from graphql import DocumentNode, GraphQLError, GraphQLSchema, OperationType, parse, validate
from starlette.websockets import WebSocket
from strawberry.extensions import SchemaExtension
from strawberry.schema.validation_rules.maybe_null import MaybeNullValidationRule
from strawberry.schema.validation_rules.one_of import OneOfInputValidationRule

from jobmon_server.graphql.budget import Bounds, Refused, check

BYTES_PER_CHARACTER = 120
DEFAULT_BUDGET_BYTES = 8 * 2**20
LARGEST_CACHED_CHARACTERS = 8 * 2**10
MAX_VALIDATION_ERRORS = 10
"""Validation stops after this many errors: each costs a pass over the query's text (its
line and column), so a hostile query of a hundred errors held the event loop a quarter of
a second."""


@dataclass
class Entry:
    document: DocumentNode
    errors: list[GraphQLError] | None = None  # None: not validated yet


class DocumentCache:
    """An LRU of query text to its document and validation errors, bounded in bytes."""

    def __init__(self, budget_bytes: int = DEFAULT_BUDGET_BYTES) -> None:
        self.budget_bytes = budget_bytes
        self.used_bytes = 0
        self._entries: OrderedDict[str, Entry] = OrderedDict()
        self._lock = threading.Lock()

    @staticmethod
    def weight(query: str) -> int:
        return len(query) * BYTES_PER_CHARACTER

    def get(self, query: str) -> Entry | None:
        with self._lock:
            entry = self._entries.get(query)
            if entry is not None:
                self._entries.move_to_end(query)
            return entry

    def put(self, query: str, entry: Entry) -> None:
        if len(query) > LARGEST_CACHED_CHARACTERS:
            return
        with self._lock:
            if query in self._entries:
                self._entries[query] = entry
                self._entries.move_to_end(query)
                return
            self._entries[query] = entry
            self.used_bytes += self.weight(query)
            while self.used_bytes > self.budget_bytes and self._entries:
                old, _ = self._entries.popitem(last=False)
                self.used_bytes -= self.weight(old)

    def __len__(self) -> int:
        return len(self._entries)


class CheckedDocuments(SchemaExtension):
    """Parses through the cache, measures the operation against the bounds (``budget``),
    then validates through the cache. A request over a bound is refused before any
    validator runs."""

    def __init__(self, cache: DocumentCache, bounds: Bounds) -> None:
        super().__init__()
        self.cache = cache
        self.bounds = bounds

    def on_parse(self) -> Iterator[None]:
        context = self.execution_context
        query = context.query
        if query is not None and context.graphql_document is None:
            entry = self.cache.get(query)
            if entry is None:
                try:
                    entry = Entry(parse(query, **context.parse_options))
                except GraphQLError:  # Strawberry parses it again and answers the error
                    yield
                    return
                self.cache.put(query, entry)
            context.graphql_document = entry.document
        yield

    def on_validate(self) -> Iterator[None]:
        context = self.execution_context
        document = context.graphql_document
        if document is None or context.pre_execution_errors is not None:
            yield
            return
        try:
            operation = check(
                context.schema._schema,
                document,
                context.operation_name,
                context.variables,
                self.bounds,
            )
            if operation is not None and operation.operation == OperationType.SUBSCRIPTION:
                _refuse_over_http(context.context)
        except Refused as exc:
            context.pre_execution_errors = [GraphQLError(str(exc))]
            yield
            return
        query = context.query
        entry = self.cache.get(query) if query is not None else None
        if entry is not None and entry.document is document and entry.errors is not None:
            context.pre_execution_errors = list(entry.errors)
        else:
            errors = validate_document(
                context.schema._schema, document, tuple(context.validation_rules)
            )
            context.pre_execution_errors = errors
            if entry is not None and entry.document is document:
                entry.errors = list(errors)
        yield


def validate_document(
    schema: GraphQLSchema, document: DocumentNode, rules: tuple[Any, ...]
) -> list[GraphQLError]:
    """Strawberry's validation (its rules added to ours), stopped after
    ``MAX_VALIDATION_ERRORS``."""
    return validate(
        schema,
        document,
        (*rules, MaybeNullValidationRule, OneOfInputValidationRule),
        max_errors=MAX_VALIDATION_ERRORS,
    )


def _refuse_over_http(context: Any) -> None:
    request = context.get("request") if isinstance(context, dict) else None
    if request is not None and not isinstance(request, WebSocket):
        raise Refused(
            "subscriptions are served over the websocket at /graphql (protocol "
            "graphql-transport-ws); over HTTP send queries and mutations"
        )


def extension_factory(cache: DocumentCache, bounds: Bounds) -> Any:
    return lambda: CheckedDocuments(cache, bounds)
