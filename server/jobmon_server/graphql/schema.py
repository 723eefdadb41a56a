"""The schema: queries, mutations and subscriptions, with the request limits."""

from __future__ import annotations

import logging
from typing import Any

import strawberry
from graphql import ASTValidationRule, GraphQLError
from strawberry.extensions import (
    AddValidationRules,
    DisableIntrospection,
    MaxTokensLimiter,
)
from strawberry.extensions.max_aliases import create_validator as aliases_validator
from strawberry.extensions.query_depth_limiter import create_validator as depth_validator
from strawberry.tools import merge_types

from jobmon_server.graphql.budget import Bounds
from jobmon_server.graphql.caches import DocumentCache, extension_factory
from jobmon_server.graphql.history import HistoryQuery
from jobmon_server.graphql.masking import MaskUnexpected, should_mask
from jobmon_server.graphql.mutations import UserMutation
from jobmon_server.graphql.queries import Query
from jobmon_server.graphql.scalars import OVERRIDES
from jobmon_server.graphql.subscriptions import Subscription
from jobmon_server.graphql.worker_mutations import WorkerMutation
from jobmon_server.settings import Settings


class JobmonSchema(strawberry.Schema):
    """Logs an unexpected error once, with its traceback, where it is masked; an expected
    one (a bad variable, a refused bound) is the client's to read, logged in one line."""

    def process_errors(self, errors: list[GraphQLError], execution_context: Any = None) -> None:
        for error in errors:
            if not should_mask(error):
                log.info("refused: %s", error.message)


log = logging.getLogger(__name__)


def build_schema(settings: Settings | None = None) -> strawberry.Schema:
    """The schema with the request limits of ``settings``.

    Validation rules are made once per schema, not per request: the validation cache is
    keyed by the rules, and a new rule class per request would miss it every time.
    """
    settings = settings or Settings()
    rules: list[type[ASTValidationRule]] = [
        depth_validator(max_depth=settings.max_query_depth, should_ignore=None),
        aliases_validator(settings.max_aliases),
    ]
    extensions: list[Any] = [
        lambda: AddValidationRules(rules),
        lambda: MaxTokensLimiter(max_token_count=settings.max_tokens),
        # Parsing and validation through a cache bounded in bytes, with the request's
        # cost and size measured first (graphql/budget.py).
        extension_factory(
            DocumentCache(settings.document_cache_bytes),
            Bounds(max_fields=settings.max_fields, max_cost=settings.max_cost),
        ),
        lambda: MaskUnexpected(should_mask_error=should_mask),
    ]
    if not settings.introspection:
        extensions.append(DisableIntrospection)
    return JobmonSchema(
        query=merge_types("Query", (Query, HistoryQuery)),
        mutation=merge_types("Mutation", (UserMutation, WorkerMutation)),
        subscription=Subscription,
        extensions=extensions,
        scalar_overrides=OVERRIDES,
    )


schema = build_schema()
