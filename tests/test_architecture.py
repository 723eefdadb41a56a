"""The import rules of docs/architecture.md, checked on the source.

Each rule reads the imports of every module (at module level and inside functions; imports
under ``if TYPE_CHECKING:`` only name types and are not counted) and lists what breaks it.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = {
    "jobmon_client": ROOT / "client/jobmon_client",
    "jobmon_server": ROOT / "server/jobmon_server",
}
MAX_LINES = 500

# What a user writes a workflow with: plain data and checks, no I/O, no distributor.
DEFINITIONS = {
    "jobmon_client.bulk",
    "jobmon_client.dag",
    "jobmon_client.hashing",
    "jobmon_client.resources",
    "jobmon_client.retry_policy",
    "jobmon_client.sbatch_options",
    "jobmon_client.statuses",
    "jobmon_client.task",
    "jobmon_client.task_options",
    "jobmon_client.task_template",
    "jobmon_client.units",
    "jobmon_client.validation",
}
# What runs on a compute node or beside the cluster: never the user's workflow API.
WORKER_SIDE = ("jobmon_client.worker", "jobmon_client.slurm", "jobmon_client.distributor")
USER_API = {
    "jobmon_client.binding",
    "jobmon_client.run",
    "jobmon_client.task",
    "jobmon_client.task_template",
    "jobmon_client.tool",
    "jobmon_client.workflow",
}

# Modules over MAX_LINES, each with the reason it is allowed for now.
LONG_MODULES = {
    "jobmon_server.workers": "the worker protocol's reports and claims, being reworked with "
    "its authorization",
    "jobmon_server.binding": "binding, being reworked with its authorization",
    "jobmon_client.cli.workflows": "the workflow commands, being reworked with the CLI",
    "jobmon_client.task_generator.generator": "Jobmon's task generator, ported as one piece "
    "to keep its behaviour comparable with upstream",
}


@dataclass(frozen=True)
class Module:
    name: str
    path: Path

    @property
    def lines(self) -> int:
        return len(self.path.read_text().splitlines())

    def imports(self) -> set[str]:
        """Every module this one imports at run time, by its full name."""
        tree = ast.parse(self.path.read_text())
        found: set[str] = set()
        for node in _runtime_nodes(tree):
            if isinstance(node, ast.Import):
                found.update(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                found.add(node.module)
                found.update(f"{node.module}.{alias.name}" for alias in node.names)
        return found


def _runtime_nodes(tree: ast.AST) -> Iterator[ast.AST]:
    for node in ast.iter_child_nodes(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            yield from (n for child in node.orelse for n in [child, *_runtime_nodes(child)])
            continue
        yield node
        yield from _runtime_nodes(node)


def modules() -> list[Module]:
    found = []
    for package, root in PACKAGES.items():
        for path in sorted(root.rglob("*.py")):
            if "migrations" in path.parts:
                continue
            parts = path.relative_to(root).with_suffix("").parts
            if parts[-1] == "__init__":
                parts = parts[:-1]
            found.append(Module(".".join((package, *parts)), path))
    return found


def internal(imported: set[str]) -> set[str]:
    """The imported names that are modules of the two packages."""
    known = {m.name for m in modules()}
    return {name for name in imported if name in known}


def under(name: str, *prefixes: str) -> bool:
    return any(name == p or name.startswith(p + ".") for p in prefixes)


@pytest.mark.parametrize(
    ("package", "other"), [("jobmon_client", "jobmon_server"), ("jobmon_server", "jobmon_client")]
)
def test_client_and_server_never_import_each_other(package: str, other: str) -> None:
    broken = {
        m.name: sorted(i for i in m.imports() if under(i, other))
        for m in modules()
        if under(m.name, package)
    }
    assert {name: found for name, found in broken.items() if found} == {}


def test_definitions_import_only_definitions() -> None:
    broken = {
        m.name: sorted(internal(m.imports()) - DEFINITIONS - {"jobmon_client"})
        for m in modules()
        if m.name in DEFINITIONS
    }
    assert {name: found for name, found in broken.items() if found} == {}


def test_the_worker_side_never_imports_the_user_api() -> None:
    broken = {
        m.name: sorted(internal(m.imports()) & USER_API)
        for m in modules()
        if under(m.name, *WORKER_SIDE)
    }
    assert {name: found for name, found in broken.items() if found} == {}


def test_only_the_app_imports_the_graphql_layer() -> None:
    allowed = ("jobmon_server.graphql", "jobmon_server.app", "jobmon_server.export_schema")
    broken = {
        m.name: sorted(i for i in internal(m.imports()) if under(i, "jobmon_server.graphql"))
        for m in modules()
        if under(m.name, "jobmon_server") and not under(m.name, *allowed)
    }
    assert {name: found for name, found in broken.items() if found} == {}


def test_the_database_layer_imports_nothing_above_it() -> None:
    allowed = ("jobmon_server.db", "jobmon_server.statuses")
    broken = {
        m.name: sorted(i for i in internal(m.imports()) if not under(i, *allowed))
        for m in modules()
        if under(m.name, "jobmon_server.db")
    }
    broken = {name: [i for i in found if i != "jobmon_server"] for name, found in broken.items()}
    assert {name: found for name, found in broken.items() if found} == {}


def test_no_module_is_over_500_lines_but_the_listed_ones() -> None:
    long = {m.name: m.lines for m in modules() if m.lines > MAX_LINES}
    assert sorted(set(long) - set(LONG_MODULES)) == [], long
    # an exception that no longer applies is removed from the list
    assert sorted(set(LONG_MODULES) - set(long)) == []


def test_the_rules_see_the_imports() -> None:
    # so that a rule cannot pass by reading nothing
    by_name = {m.name: m for m in modules()}
    assert "jobmon_client.units" in by_name["jobmon_client.resources"].imports()
    assert (
        "jobmon_client.tool" not in by_name["jobmon_client.task_template"].imports()
    )  # types only
    assert "jobmon_server.db.rows" in by_name["jobmon_server.scheduling"].imports()
    assert len(by_name) > 100
