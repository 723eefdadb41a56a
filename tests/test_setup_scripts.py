"""What `make test` installs covers what the code, the tests and the benchmarks use.

A fresh machine has only what the preparation scripts install (scripts/r.sh, slurm.sh,
browser.sh) and what pyproject.toml lists. Each script prints what it provides with
``--list``; these tests read the sources for the commands, R packages and Python modules
they use, and fail when one is used but provided by nothing, so that a package installed
by hand on one machine cannot hide a gap that a new machine would hit.
"""

from __future__ import annotations

import ast
import importlib.metadata as metadata
import re
import subprocess
import sys
import tomllib
from collections.abc import Iterator
from functools import cache
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SCRIPTS = ("r.sh", "slurm.sh", "browser.sh")
# Commands every machine of this kind has before anything is installed (runuser: util-linux).
BASE_COMMANDS = {
    *("sh", "bash", "true", "false", "sleep", "env", "kill", "cat", "echo", "git", "runuser"),
}
# R packages that come with R itself.
BASE_R = {"base", "stats", "utils", "methods", "tools", "parallel", "grDevices", "graphics"}
# What a name in the R code needs beyond its own package (testthat's JUnit reporter
# writes its XML with xml2, which testthat only suggests).
R_INDIRECT = {"JunitReporter": "xml2"}
PYTHON_DIRS = ("client", "server", "tests", "bench", "examples")


@cache
def provided() -> dict[str, set[str]]:
    """What the preparation scripts provide: {"command": {...}, "r-package": {...}}."""
    found: dict[str, set[str]] = {"command": set(), "r-package": set()}
    for script in SCRIPTS:
        out = subprocess.run(
            ["bash", str(ROOT / "scripts" / script), "--list"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        for line in out.splitlines():
            kind, _, name = line.partition(" ")
            found.setdefault(kind, set()).add(name.strip())
    return found


def sources(suffix: str, *dirs: str) -> Iterator[Path]:
    for directory in dirs:
        for path in (ROOT / directory).rglob(f"*{suffix}"):
            if ".venv" not in path.parts and "vendor" not in path.parts:
                yield path


def test_each_script_lists_what_it_provides() -> None:
    lists = provided()
    assert {"sbatch", "squeue", "scontrol", "sinfo", "scancel", "sacct"} <= lists["command"]
    assert {"chromium", "Rscript"} <= lists["command"]
    assert lists["r-package"], "scripts/r.sh --list names no R package"


_COMMAND_CALLS = re.compile(
    r"""(?:shutil\.which\(\s*|(?:(?:subprocess\.\w+|output_of|run_command)\(|argv\s*=)\s*\[\s*)"""
    r""""([A-Za-z][\w.+-]*)\""""
)


def test_every_command_the_code_runs_is_installed_by_a_script() -> None:
    used: dict[str, set[str]] = {}
    for path in sources(".py", *PYTHON_DIRS):
        for name in _COMMAND_CALLS.findall(path.read_text()):
            used.setdefault(name, set()).add(str(path.relative_to(ROOT)))
    assert {"sbatch", "chromium", "Rscript"} <= set(used), used  # the scan sees them
    missing = {
        name: sorted(where)
        for name, where in used.items()
        if name not in provided()["command"] and name not in BASE_COMMANDS
    }
    assert not missing, f"commands used but installed by no script in scripts/: {missing}"


def r_packages_used() -> dict[str, set[str]]:
    pattern = re.compile(
        r"""\b([A-Za-z][\w.]*)::|\blibrary\(\s*([A-Za-z][\w.]*)|requireNamespace\(\s*["']([\w.]+)"""
    )
    used: dict[str, set[str]] = {}
    files = [
        *sources(".R", "client/R", "examples"),
        *sources(".py", "tests", "bench"),  # R code run through Rscript -e
    ]
    for path in files:
        text = path.read_text()
        if path.suffix == ".py" and "Rscript" not in text:
            continue
        names = {n for match in pattern.findall(text) for n in match if n}
        names |= {pkg for marker, pkg in R_INDIRECT.items() if marker in text}
        for name in names:
            used.setdefault(name, set()).add(str(path.relative_to(ROOT)))
    return used


def test_every_r_package_the_r_code_and_tests_use_is_installed_by_r_sh() -> None:
    used = r_packages_used()
    assert {"httr", "jsonlite", "testthat", "xml2"} <= set(used), used  # the scan sees them
    own = {"jobmonr", "tmp"}  # the package itself; "tmp" is a name in a test's R code
    missing = {
        name: sorted(where)
        for name, where in used.items()
        if name not in provided()["r-package"] and name not in BASE_R | own
    }
    assert not missing, (
        "R packages used but not checked by scripts/r.sh (add them to Imports or Suggests "
        f"of client/R/jobmonr/DESCRIPTION): {missing}"
    )


def declared_requirements() -> set[str]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    lines = list(project["dependencies"])
    for extra in project.get("optional-dependencies", {}).values():
        lines += extra
    return {_distribution_name(line) for line in lines}


def _distribution_name(requirement: str) -> str:
    return re.split(r"[\s\[<>=!~;]", requirement, maxsplit=1)[0].lower().replace("_", "-")


def requirement_closure(names: set[str]) -> set[str]:
    """The declared distributions and everything they require, as installed."""
    seen: set[str] = set()
    todo = list(names)
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        try:
            requires = metadata.requires(name) or []
        except metadata.PackageNotFoundError:
            continue
        todo += [_distribution_name(r) for r in requires if "extra ==" not in r]
    return seen


def python_imports() -> dict[str, set[str]]:
    used: dict[str, set[str]] = {}
    local = {"jobmon_client", "jobmon_server", "conftest", "helpers", "tests", "stack"}
    for path in sources(".py", *PYTHON_DIRS):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            else:
                continue
            for name in names:
                top = name.split(".")[0]
                if top in sys.stdlib_module_names or top in local or top == "__future__":
                    continue
                if (path.parent / f"{top}.py").exists():
                    continue
                used.setdefault(top, set()).add(str(path.relative_to(ROOT)))
    return used


def test_every_python_module_imported_comes_from_a_declared_requirement() -> None:
    used = python_imports()
    assert {"sqlalchemy", "pytest", "playwright"} <= set(used), used  # the scan sees them
    providers = metadata.packages_distributions()
    closure = requirement_closure(declared_requirements())
    problems = {}
    for module, where in used.items():
        dists = {_distribution_name(d) for d in providers.get(module, [])}
        if not dists & closure:
            problems[module] = (sorted(dists) or ["not installed"], sorted(where))
    assert not problems, (
        "modules imported but not provided by pyproject.toml's dependencies or extras: "
        f"{problems}"
    )
