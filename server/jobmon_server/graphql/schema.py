"""The schema: queries, mutations and subscriptions, with the request limits."""

from __future__ import annotations

from typing import Any

import strawberry
from graphql import ASTValidationRule
from strawberry.extensions import (
    AddValidationRules,
    DisableIntrospection,
    MaxTokensLimiter,
    ParserCache,
    ValidationCache,
)
from strawberry.extensions.max_aliases import create_validator as aliases_validator
from strawberry.extensions.query_depth_limiter import create_validator as depth_validator
from strawberry.tools import merge_types

from jobmon_server.graphql.history import HistoryQuery
from jobmon_server.graphql.masking import MaskUnexpected, should_mask
from jobmon_server.graphql.mutations import UserMutation
from jobmon_server.graphql.queries import Query
from jobmon_server.graphql.subscriptions import Subscription
from jobmon_server.graphql.worker_mutations import WorkerMutation
from jobmon_server.settings import Settings


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
        # Workers send the same few documents thousands of times.
        lambda: ParserCache(maxsize=256),
        lambda: ValidationCache(maxsize=256),
        lambda: MaskUnexpected(should_mask_error=should_mask),
    ]
    if not settings.introspection:
        extensions.append(DisableIntrospection)
    return strawberry.Schema(
        query=merge_types("Query", (Query, HistoryQuery)),
        mutation=merge_types("Mutation", (UserMutation, WorkerMutation)),
        subscription=Subscription,
        extensions=extensions,
    )


schema = build_schema()
