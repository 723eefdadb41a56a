"""Every mutation of the schema has its refusal test here: a new mutation must say who may
send it (and be added to these tests) before this passes."""

from __future__ import annotations

from pathlib import Path

from graphql import build_schema

from tests.security.test_owner_writes import user_mutations
from tests.security.test_worker_identity import worker_mutations

SCHEMA = Path(__file__).resolve().parents[2] / "server" / "jobmon_server" / "schema.graphql"
# Shared by everyone, owned by no one: a tool and its templates are keyed by content, and
# binding them again answers the same ids.
SHARED = {"bindTool", "bindTaskTemplates"}
# Refused in tests of their own: the attack with another user's command, and another user
# binding the same workflow again.
OWN_TESTS = {"bindTasks", "bindWorkflow"}


def test_every_mutation_is_covered() -> None:
    mutation = build_schema(SCHEMA.read_text()).mutation_type
    assert mutation is not None
    fake_workflow = {
        "id": 1,
        "latestRun": {"id": 1},
        "tasks": {"items": [{"id": 1, "nodeArgs": {"n": 0}}, {"id": 2, "nodeArgs": {"n": 1}}]},
    }
    covered = (
        {name for name, _, _ in user_mutations(fake_workflow, {"id": 2})}
        | {name for name, _, _ in worker_mutations("w", "c", 1)}
        | SHARED
        | OWN_TESTS
    )
    assert set(mutation.fields) == covered
