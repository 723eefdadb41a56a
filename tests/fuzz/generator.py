"""Requests generated from the schema (``server/jobmon_server/schema.graphql``), seeded.

Every root field is asked with arguments drawn from boundary, hostile and wrong-typed
values (as literals or as variables, declared rightly or wrongly), with selections of its
result's fields, aliases and fragments; a share of the bodies are malformed on purpose.
The same seed makes the same requests, so a failure can be replayed.
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from graphql import (
    GraphQLEnumType,
    GraphQLField,
    GraphQLInputObjectType,
    GraphQLInterfaceType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLScalarType,
    GraphQLSchema,
    GraphQLUnionType,
    build_schema,
    get_named_type,
)

SCHEMA_PATH = Path(__file__).resolve().parents[2] / "server" / "jobmon_server" / "schema.graphql"
LONE = "\ud800"

INTS: list[Any] = [
    0,
    1,
    2,
    3,
    -1,
    7,
    2**31 - 1,
    2**31,
    -(2**31) - 1,
    2**63,
    10**30,
    1.5,
    "3",
    True,
    None,
    float("nan"),
    10**400,
]
FLOATS: list[Any] = [
    0,
    0.5,
    1,
    30,
    -1,
    1e300,
    float("inf"),
    float("-inf"),
    float("nan"),
    2**53 + 1,
    "x",
    True,
    None,
    1e-300,
]
WAITS: list[Any] = [0, 0.01, -1, "x", float("inf"), float("nan"), 1e300, None]
STRINGS: list[Any] = [
    "",
    "a",
    "x" * 300,
    "x" * 5000,
    LONE,
    f"ok{LONE}",
    "a\x00b",
    "é💥",
    "'; drop table workflow; --",
    "../../etc/passwd",
    "$(rm -rf /)",
    "  ",
    "0",
    "-1",
    "9" * 30,
    "sequential",
    "multiprocess",
    "1-2",
    "nul\\u0000",
    17,
    None,
    ["a"],
]
DATES: list[Any] = [
    "2024-01-01T00:00:00Z",
    "0001-01-01T00:00:00+05:00",
    "9999-12-31T23:59:59-05:00",
    "garbage",
    "2024-13-45T00:00:00",
    5,
    "2024-01-01",
    None,
    "1899-12-31T23:59:59Z",
]
BOOLEANS: list[Any] = [True, False, "true", 0, None]


def deep(levels: int) -> Any:
    value: Any = 1
    for _ in range(levels):
        value = [value]
    return value


def jsons(rng: random.Random) -> Any:
    n = rng.choice([0, 1, 2, 3])
    batch = {
        "templateVersionIds": [rng.choice([1, 2, -1, 2**60])] * n,
        "names": [rng.choice(STRINGS[:8])] * n,
        "commands": [rng.choice(["true", "echo x", LONE, "x" * 1000])] * n,
        "nodeArgs": [{"a": rng.choice([1, "x", 1.5, None])}] * n,
        "taskArgs": [{}] * n,
        "maxAttempts": [rng.choice([1, 3, 0, -5, 2**70])] * n,
        "resourceIndexes": [rng.choice([0, 1, -1])] * n,
        "resources": [
            {
                "clusterName": rng.choice(["sequential", "", 5]),
                "resources": rng.choice([{}, {"memory": "1G"}, []]),
            }
        ],
    }
    reports = [
        {
            "taskInstanceId": rng.choice(INTS[:8]),
            "status": rng.choice(["RUNNING", "DONE", "ERROR", "NOPE", 3]),
            "maxRssBytes": rng.choice(FLOATS[:8]),
            "exitCode": rng.choice(INTS[:8]),
            "hostname": rng.choice(STRINGS[:6]),
        }
    ]
    return rng.choice(
        [
            {},
            [],
            None,
            1,
            "x",
            {"a": LONE},
            deep(70),
            deep(10),
            batch,
            reports,
            [1, 2, 3],
            list(range(rng.choice([1, 5, 100]))),
            {"k": {"v": [1, {}]}},
            {"location_id": ["1", "2"]},
            {"release": "3", "x": None},
        ]
    )


CONTENT_TYPES = [
    "application/json",
    "application/json; charset=utf-8",
    "application/json-seq",
    "text/plain",
    "application/graphql",
    "multipart/form-data; boundary=x",
    "",
]


@dataclass
class Request:
    kind: str
    body: bytes
    description: str
    content_type: str = "application/json"


class Fuzzer:
    def __init__(self, seed: int, sdl: str | None = None) -> None:
        self.rng = random.Random(seed)
        self.schema: GraphQLSchema = build_schema(sdl or SCHEMA_PATH.read_text())

    # -- whole requests ------------------------------------------------------------------

    def request(self) -> Request:
        if self.rng.random() < 0.12:
            return self.malformed()
        query, variables, name = self.operation()
        body = {"query": query, "variables": variables}
        if self.rng.random() < 0.05:
            body["operationName"] = self.rng.choice(["Nope", None, "", 5, LONE])
        return Request("operation", json.dumps(body).encode(), name)

    def operation(self, root_name: str | None = None) -> tuple[str, dict[str, Any], str]:
        rng = self.rng
        root_name = (
            root_name or rng.choices(["Query", "Mutation", "Subscription"], weights=[50, 46, 4])[0]
        )
        root = self.schema.get_type(root_name)
        assert isinstance(root, GraphQLObjectType)
        name = rng.choice(sorted(root.fields))
        field = root.fields[name]
        definitions: list[str] = []
        variables: dict[str, Any] = {}
        copies = rng.choices([1, 2, 3, 101], weights=[85, 8, 5, 2])[0]
        parts = []
        for i in range(copies):
            arguments = self.arguments(name, field, definitions, variables, prefix=f"v{i}_")
            selection = self.selection(field.type, 0)
            alias = f"a{i}: " if copies > 1 else ""
            parts.append(f"{alias}{name}{arguments} {selection}")
        keyword = {"Query": "query", "Mutation": "mutation", "Subscription": "subscription"}
        header = f"({', '.join(definitions)})" if definitions else ""
        body = " ".join(parts)
        fragments = ""
        if rng.random() < 0.1 and root_name != "Subscription":
            fragments = f" fragment Wrapped on {root_name} {{ {body} }}"
            body = "...Wrapped"
        return f"{keyword[root_name]} Fuzz{header} {{ {body} }}{fragments}", variables, name

    def malformed(self) -> Request:
        rng = self.rng
        valid = json.dumps({"query": "{ __typename }"}).encode()
        choices = [
            b"null",
            b"true",
            b"12",
            b'"text"',
            b"[]",
            b"[" + valid + b"]",
            b"{",
            b"",
            valid[: rng.randrange(1, len(valid))],
            b'{"query": "{ __typename \xff }"}',
            b'{"query": "{ __typename }", "variables": ' + b"[" * 3000 + b"]" * 3000 + b"}",
            b'{"query": "{ __typename }", "variables": {"a": ' + b"9" * 5000 + b"}}",
            b'{"query": "{ __typename }", "variables": {"a": "\\udfff"}}',
            b'{"query": 5}',
            b'{"query": "{ __typename }", "variables": 5}',
            b'{"query": "{ __typename }", "extensions": []}',
            b'{"query": null}',
            b'{"query": "' + b"{ a " * 2000 + b'"}',
            b'{"query": "{ __typename }", "variables": {"a": NaN, "b": Infinity}}',
        ]
        body = rng.choice(choices)
        if rng.random() < 0.2 and len(body) > 2:  # flip a byte somewhere
            at = rng.randrange(len(body))
            body = body[:at] + bytes([rng.randrange(256)]) + body[at + 1 :]
        content_type = rng.choice(CONTENT_TYPES) if rng.random() < 0.3 else "application/json"
        return Request("malformed", body, f"{content_type} {body[:60]!r}", content_type)

    # -- arguments and values ------------------------------------------------------------

    def arguments(
        self,
        field_name: str,
        field: GraphQLField,
        definitions: list[str],
        variables: dict[str, Any],
        prefix: str,
    ) -> str:
        rng = self.rng
        given = []
        for name, argument in field.args.items():
            required = isinstance(argument.type, GraphQLNonNull)
            if not required and rng.random() < 0.5:
                continue
            if required and rng.random() < 0.03:
                continue  # a missing required argument
            value = self.value(argument.type, name)
            if rng.random() < 0.6:
                variable = f"{prefix}{name}"
                declared = str(argument.type)
                if rng.random() < 0.08:
                    declared = rng.choice(["String", "Int!", "[Int]", "Float", "JSON", "Nope"])
                definitions.append(f"${variable}: {declared}")
                if rng.random() > 0.03:  # sometimes declared and never given
                    variables[variable] = value
                given.append(f"{name}: ${variable}")
            else:
                given.append(f"{name}: {self.literal(argument.type, value)}")
        if rng.random() < 0.02:
            given.append("unknownArgument: 1")
        return f"({', '.join(given)})" if given else ""

    def value(self, kind: Any, name: str = "") -> Any:
        rng = self.rng
        if isinstance(kind, GraphQLNonNull):
            return None if rng.random() < 0.04 else self.value(kind.of_type, name)
        if isinstance(kind, GraphQLList):
            if rng.random() < 0.05:
                return self.value(kind.of_type, name)  # a single value for a list
            if rng.random() < 0.004:
                return [1] * 10_001  # past the bound of a list argument
            return [self.value(kind.of_type, name) for _ in range(rng.choice([0, 1, 1, 2, 3]))]
        if isinstance(kind, GraphQLEnumType):
            values = sorted(kind.values)
            return rng.choice(values) if rng.random() < 0.8 else rng.choice(["NOPE", 1, ""])
        if isinstance(kind, GraphQLInputObjectType):
            if rng.random() < 0.04:
                return rng.choice(["x", 1, [], None])
            result = {}
            for field_name, field in kind.fields.items():
                if isinstance(field.type, GraphQLNonNull) or rng.random() < 0.5:
                    result[field_name] = self.value(field.type, field_name)
            if rng.random() < 0.05:
                result["unknownField"] = 1
            return result
        if isinstance(kind, GraphQLScalarType):
            return self.scalar(kind.name, name)
        return None

    def scalar(self, kind: str, name: str) -> Any:
        rng = self.rng
        if name.lower().endswith("waitseconds"):
            return rng.choice(WAITS)
        if kind == "Int":
            if name in ("first", "limit", "claimLimit"):
                return rng.choice([1, 10, 100, 1000, 10_000, 0, -1, 2**31])
            return rng.choice(INTS)
        if kind == "Float":
            return rng.choice(FLOATS)
        if kind == "Boolean":
            return rng.choice(BOOLEANS)
        if kind == "DateTime":
            return rng.choice(DATES)
        if kind == "JSON":
            return jsons(rng)
        if name == "after":
            return rng.choice(["", "0", "5", str(2**63), "-1", "1-2", "x", "1" * 30, None])
        return rng.choice(STRINGS)

    def literal(self, kind: Any, value: Any) -> str:
        if isinstance(kind, GraphQLNonNull):
            kind = kind.of_type
        if value is None:
            return "null"
        named = get_named_type(kind)
        if isinstance(value, bool):
            return "true" if value else "false"
        if isinstance(value, int):
            return str(value) if len(str(value)) < 1000 else "9" * 1000
        if isinstance(value, float):
            if value != value:
                return "NaN"  # not GraphQL: a syntax error
            if value in (float("inf"), float("-inf")):
                return "1e400" if value > 0 else "-1e400"
            return repr(value)
        if isinstance(value, str):
            if isinstance(named, GraphQLEnumType) and value.isidentifier():
                return value
            return json.dumps(value)
        if isinstance(value, list):
            inner = kind.of_type if isinstance(kind, GraphQLList) else named
            return "[" + ", ".join(self.literal(inner, v) for v in value[:50]) + "]"
        if isinstance(value, dict):
            fields = named.fields if isinstance(named, GraphQLInputObjectType) else {}
            items = []
            for key, item in value.items():
                field_type = fields[key].type if key in fields else named
                key_text = key if key.isidentifier() else "bad_key"
                items.append(f"{key_text}: {self.literal(field_type, item)}")
            return "{" + ", ".join(items) + "}"
        return json.dumps(str(value))

    # -- selections ----------------------------------------------------------------------

    def selection(self, kind: Any, depth: int) -> str:
        named = get_named_type(kind)
        if isinstance(named, GraphQLScalarType | GraphQLEnumType):
            return ""
        if isinstance(named, GraphQLUnionType):
            members = " ".join(
                f"... on {member.name} {self.fields_of(member, depth + 1)}"
                for member in named.types
                if self.rng.random() < 0.8
            )
            return f"{{ __typename {members} }}"
        if isinstance(named, GraphQLObjectType | GraphQLInterfaceType):
            return self.fields_of(named, depth + 1)
        return ""

    def fields_of(self, kind: GraphQLObjectType | GraphQLInterfaceType, depth: int) -> str:
        rng = self.rng
        names = sorted(kind.fields)
        chosen = ["__typename"]
        for name in rng.sample(names, min(len(names), rng.choice([1, 2, 4]))):
            field = kind.fields[name]
            named = get_named_type(field.type)
            leaf = isinstance(named, GraphQLScalarType | GraphQLEnumType)
            if not leaf and depth >= 3:
                continue
            arguments = ""
            if field.args and (
                any(isinstance(a.type, GraphQLNonNull) for a in field.args.values())
                or rng.random() < 0.4
            ):
                literals = []
                for arg_name, argument in field.args.items():
                    if isinstance(argument.type, GraphQLNonNull) or rng.random() < 0.5:
                        value = self.value(argument.type, arg_name)
                        literals.append(f"{arg_name}: {self.literal(argument.type, value)}")
                arguments = f"({', '.join(literals)})" if literals else ""
            chosen.append(f"{name}{arguments} {self.selection(field.type, depth)}".strip())
        return "{ " + " ".join(chosen) + " }"
