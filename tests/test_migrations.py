"""Upgrading a database made by an earlier release keeps its rows, on every database."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest
from jobmon_server.db import models
from jobmon_server.db.engine import normalize_url
from jobmon_server.db.migrate import upgrade
from jobmon_server.error_groups import signature
from sqlalchemy import MetaData, create_engine, insert, select

from tests.conftest import BACKENDS

NOW = datetime(2026, 1, 2, 3, 4, 5)
ERRORS = ["Traceback ...\nValueError: location 17 has no data", "killed by signal 9"]


def _rows() -> list[tuple[str, dict[str, Any]]]:
    """One row of each table an error log row depends on, in foreign-key order."""
    return [
        ("tool", {"id": 1, "name": "tool"}),
        ("tool_version", {"id": 1, "tool_id": 1, "created": NOW}),
        ("task_template", {"id": 1, "tool_version_id": 1, "name": "tt"}),
        (
            "task_template_version",
            {
                "id": 1,
                "task_template_id": 1,
                "arg_hash": "h",
                "command_template": "echo {n}",
                "node_args": ["n"],
                "task_args": [],
                "op_args": [],
            },
        ),
        ("node", {"id": 1, "task_template_version_id": 1, "node_args_hash": "n", "node_args": {}}),
        ("dag", {"id": 1, "hash": "d", "created": NOW}),
        ("task_resources", {"id": 1, "hash": "r", "cluster_id": 1, "requested": {}}),
        (
            "workflow",
            {
                "id": 1,
                "tool_version_id": 1,
                "dag_id": 1,
                "workflow_args": "a",
                "workflow_args_hash": "a",
                "task_hash": "t",
                "name": "wf",
                "description": "",
                "user": "u",
                "status": "FAILED",
                "max_concurrently_running": 10,
                "total_tasks": 1,
                "bound": True,
                "created": NOW,
                "status_date": NOW,
            },
        ),
        ("array", {"id": 1, "workflow_id": 1, "task_template_version_id": 1}),
        (
            "task",
            {
                "id": 1,
                "workflow_id": 1,
                "node_id": 1,
                "array_id": 1,
                "name": "t",
                "command": "echo 1",
                "task_args": {},
                "task_resources_id": 1,
                "max_attempts": 1,
                "num_attempts": 1,
                "num_upstreams_pending": 0,
                "status": "ERROR_FATAL",
                "status_date": NOW,
            },
        ),
        (
            "workflow_run",
            {
                "id": 1,
                "workflow_id": 1,
                "user": "u",
                "status": "ERROR",
                "fail_fast": False,
                "created": NOW,
                "status_date": NOW,
            },
        ),
        (
            "task_instance",
            {
                "id": 1,
                "workflow_run_id": 1,
                "task_id": 1,
                "workflow_id": 1,
                "array_id": 1,
                "cluster_id": 1,
                "task_resources_id": 1,
                "status": "ERROR",
                "created": NOW,
                "status_date": NOW,
            },
        ),
    ] + [
        (
            "task_instance_error_log",
            {
                "id": i + 1,
                "task_instance_id": 1,
                "task_id": 1,
                "workflow_id": 1,
                "description": text,
                "time": NOW,
            },
        )
        for i, text in enumerate(ERRORS)
    ]


@pytest.mark.parametrize("backend", BACKENDS)
def test_upgrade_from_the_initial_schema_keeps_rows(backend: str, make_database) -> None:  # type: ignore[no-untyped-def]
    url = make_database(backend)
    upgrade(url, "0001")
    engine = create_engine(normalize_url(url))
    try:
        old = MetaData()
        old.reflect(engine)
        assert "signature" not in old.tables["task_instance_error_log"].c
        tables = models.Base.metadata.tables  # typed columns: JSON is serialized everywhere
        with engine.begin() as conn:
            for table, row in _rows():
                conn.execute(insert(tables[table]), row)

        upgrade(url)

        new = MetaData()
        new.reflect(engine)
        log = new.tables["task_instance_error_log"]
        with engine.connect() as conn:
            rows = conn.execute(select(log.c.description, log.c.signature).order_by(log.c.id)).all()
            workflows = conn.execute(select(new.tables["workflow"].c.name)).scalars().all()
        assert [tuple(r) for r in rows] == [(text, signature(text)) for text in ERRORS]
        assert workflows == ["wf"]
        assert not log.c.signature.nullable
    finally:
        engine.dispose()


@pytest.mark.parametrize("backend", BACKENDS)
def test_the_migrations_build_what_the_models_declare(backend: str, make_database) -> None:  # type: ignore[no-untyped-def]
    """Tables, columns and indexes: a model changed without a migration (or the reverse)
    shows here as a difference."""
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    url = make_database(backend)
    upgrade(url)
    engine = create_engine(normalize_url(url))
    try:
        with engine.connect() as conn:
            context = MigrationContext.configure(conn, opts={"compare_type": False})
            differences = compare_metadata(context, models.Base.metadata)
    finally:
        engine.dispose()
    indexes_and_tables = [
        d for d in differences if isinstance(d, tuple) and d[0] in _STRUCTURE_CHANGES
    ]
    assert indexes_and_tables == [], indexes_and_tables


_STRUCTURE_CHANGES = {
    "add_table",
    "remove_table",
    "add_column",
    "remove_column",
    "add_index",
    "remove_index",
}
