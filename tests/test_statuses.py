"""One status vocabulary per language, each the schema's enums.

Python (``jobmon_client.statuses``), R (``client/R/jobmonr/R/statuses.R``) and the dashboard
(its task status groups) each keep the statuses in one place; this reads every one of them
and compares it with the enums of ``schema.graphql``.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from graphql import GraphQLEnumType, build_schema
from jobmon_client import statuses

ROOT = Path(__file__).resolve().parents[1]
SCHEMA = build_schema((ROOT / "server/jobmon_server/schema.graphql").read_text())
ENUMS = ("TaskStatus", "TaskInstanceStatus", "WorkflowRunStatus", "WorkflowStatus")
# Jobmon's statuses that the server never reports (kept so that ported scripts compare).
JOBMON_ONLY = {
    "TaskStatus": set(),
    "TaskInstanceStatus": {"TRIAGING", "SUBMITTED_TO_BATCH_DISTRIBUTOR"},
    "WorkflowRunStatus": {"INSTANTIATED", "LAUNCHED"},
    "WorkflowStatus": {"INSTANTIATING", "LAUNCHED"},
}


def schema_values(enum: str) -> set[str]:
    kind = SCHEMA.type_map[enum]
    assert isinstance(kind, GraphQLEnumType)
    return set(kind.values)


def r_status_lists() -> dict[str, dict[str, str]]:
    text = (ROOT / "client/R/jobmonr/R/statuses.R").read_text()
    lists = {}
    for name, body in re.findall(r"^(\w+) <- list\((.*?)\)\n", text, re.MULTILINE | re.DOTALL):
        lists[name] = dict(re.findall(r'(\w+) = "(\w)"', body))
    return lists


@pytest.mark.parametrize("enum", ENUMS)
def test_python_statuses_are_the_schema_enums(enum: str) -> None:
    members = {m.name for m in getattr(statuses, enum)}
    assert members - JOBMON_ONLY[enum] == schema_values(enum)


@pytest.mark.parametrize("enum", ENUMS)
def test_r_statuses_are_the_python_ones(enum: str) -> None:
    r_list = r_status_lists()[enum]
    assert set(r_list) - JOBMON_ONLY[enum] == schema_values(enum)
    # the letters are Jobmon's, the same in both clients
    assert r_list == {m.name: m.value for m in getattr(statuses, enum)}


def test_terminal_run_statuses_are_run_statuses() -> None:
    text = (ROOT / "client/R/jobmonr/R/statuses.R").read_text()
    found = re.search(r"^terminal_run_statuses <- c\((.*?)\)", text, re.MULTILINE | re.DOTALL)
    assert found, "statuses.R defines terminal_run_statuses"
    r_terminal = set(re.findall(r'"(\w+)"', found.group(1)))
    assert r_terminal == set(statuses.TERMINAL_RUN_STATUSES)
    assert r_terminal <= schema_values("WorkflowRunStatus")


# Where the dashboard keeps its statuses: its status module, or its one script.
DASHBOARD_STATUS_MODULES = ("gui/js/statuses.js", "gui/statuses.js", "gui/app.js")


def dashboard_statuses(root: Path = ROOT) -> str:
    for candidate in DASHBOARD_STATUS_MODULES:
        path = root / candidate
        if path.exists() and "GROUPS = {" in path.read_text():
            return path.read_text()
    raise AssertionError("the dashboard keeps its task status groups in `const GROUPS = {...}`")


def dashboard_status_groups(text: str) -> dict[str, list[str]]:
    """The dashboard's task status groups: ``const GROUPS = {...}``."""
    found = re.search(r"GROUPS = \{(.*?)\};", text, re.DOTALL)
    assert found
    return {
        group: re.findall(r'"(\w+)"', members)
        for group, members in re.findall(r"(\w+): \[(.*?)\]", found.group(1))
    }


def test_dashboard_groups_cover_each_task_status_once() -> None:
    groups = dashboard_status_groups(dashboard_statuses())
    named = [status for members in groups.values() for status in members]
    assert sorted(named) == sorted(schema_values("TaskStatus"))


def test_every_status_the_dashboard_names_is_in_the_schema() -> None:
    text = dashboard_statuses()
    if "export function statusClass" not in text:  # statuses kept among other code
        found = re.search(r"GROUPS = \{.*?\};", text, re.DOTALL)
        assert found
        text = found.group(0)
    known = set().union(*(schema_values(enum) for enum in ENUMS))
    named = set(re.findall(r'"([A-Z][A-Z_]+)"', text)) | set(re.findall(r"\b([A-Z_]+):", text))
    assert named - known == set()
    listed = re.search(r"WORKFLOW_STATUSES = \[(.*?)\]", text, re.DOTALL)
    if listed:  # the workflow statuses a person may filter by
        assert set(re.findall(r'"(\w+)"', listed.group(1))) == schema_values("WorkflowStatus")


def worker_status_literals() -> dict[str, str]:
    """Statuses the worker side writes as literals: ``Ended(id, "STATUS", ...)``,
    ``{"status": "STATUS"}`` and ``status = "STATUS"``, by where they are."""
    import ast

    found = {}
    for package in ("worker", "slurm"):
        for path in sorted((ROOT / "client/jobmon_client" / package).glob("*.py")):
            for node in ast.walk(ast.parse(path.read_text())):
                values: list[ast.expr] = []
                if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "Ended":
                    values = node.args[1:2]
                elif isinstance(node, ast.Dict):
                    values = [
                        v
                        for k, v in zip(node.keys, node.values, strict=True)
                        if isinstance(k, ast.Constant) and k.value == "status"
                    ]
                elif isinstance(node, ast.Assign):
                    targets = [t for t in node.targets if getattr(t, "id", None) == "status"]
                    values = [node.value] if targets else []
                for value in values:
                    if isinstance(value, ast.Constant) and isinstance(value.value, str):
                        found[f"{path.name} line {value.lineno}"] = value.value
    return found


def test_the_worker_side_reports_statuses_of_the_schema() -> None:
    literals = worker_status_literals()
    assert len(literals) > 10  # the scan finds the reports it should
    allowed = schema_values("TaskInstanceStatus")
    assert {where: s for where, s in literals.items() if s not in allowed} == {}
