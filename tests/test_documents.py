"""Every GraphQL document the clients send is valid against schema.graphql.

Where the documents are found:

- Python: every module of ``jobmon_client`` is imported and each module-level string that
  is an operation (starts with ``query``, ``mutation`` or ``subscription``) is a document;
  a document written inside a function is refused, except the builders listed in
  ``PYTHON_BUILDERS``, which are called here.
- R: string literals of ``client/R/jobmonr/R/*.R`` that are operations, and
  ``paste0(...)`` calls that start with one, joined with the file's string constants.
- Dashboard: template literals of its scripts (``gui/``, not ``gui/vendor/``) that are
  operations, with each ``${NAME}`` replaced by the constant ``NAME`` of the same file.
"""

from __future__ import annotations

import ast
import importlib
import pkgutil
import re
from collections.abc import Callable, Iterator
from pathlib import Path

import jobmon_client
import pytest
from graphql import GraphQLError, build_schema, parse, validate

ROOT = Path(__file__).resolve().parents[1]
SCHEMA = build_schema((ROOT / "server/jobmon_server/schema.graphql").read_text())
# an operation keyword, maybe a name, then variables or a selection: "query Run($id: ...) {"
OPERATION = re.compile(r"^\s*(query|mutation|subscription)(\s+\w+)?\s*(\(\s*(\$|$)|\{)")


def _cli_task_status(count: int = 3) -> str:
    from jobmon_client.cli.tasks import _task_status_document

    return _task_status_document(count)


# Documents built at run time, by module and function name, and how to build one here.
PYTHON_BUILDERS: dict[tuple[str, str], Callable[[], str]] = {
    ("jobmon_client.cli.tasks", "_task_status_document"): _cli_task_status,
}


def python_modules() -> Iterator[str]:
    yield jobmon_client.__name__
    for info in pkgutil.walk_packages(jobmon_client.__path__, jobmon_client.__name__ + "."):
        if not info.name.endswith("__main__"):
            yield info.name


def python_documents() -> dict[str, str]:
    found = {}
    for name in python_modules():
        module = importlib.import_module(name)
        for attr, value in vars(module).items():
            if isinstance(value, str) and OPERATION.match(value):
                found[f"{name}.{attr}"] = value
    for (module, function), build in PYTHON_BUILDERS.items():
        found[f"{module}.{function}()"] = build()
    return found


def inline_python_operations() -> list[str]:
    """Operations written inside functions (f-string or not) that no builder accounts for."""
    inline = []
    for name in python_modules():
        module = importlib.import_module(name)
        assert module.__file__
        tree = ast.parse(Path(module.__file__).read_text())
        for function in ast.walk(tree):
            if not isinstance(function, ast.FunctionDef | ast.AsyncFunctionDef):
                continue
            if (name, function.name) in PYTHON_BUILDERS:
                continue
            for node in ast.walk(function):
                text = _literal_start(node)
                if text is not None and OPERATION.match(text):
                    inline.append(f"{name}.{function.name} line {node.lineno}")
    return inline


def _literal_start(node: ast.AST) -> str | None:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.JoinedStr) and node.values:
        first = node.values[0]
        if isinstance(first, ast.Constant) and isinstance(first.value, str):
            return first.value
    return None


R_STRING = r'"((?:[^"\\]|\\.)*)"'


def r_documents() -> dict[str, str]:
    found = {}
    for path in sorted((ROOT / "client/R/jobmonr/R").glob("*.R")):
        text = path.read_text()
        constants = dict(re.findall(rf"^(\w+) <- {R_STRING}", text, re.MULTILINE))
        joined = set()
        for call in re.finditer(r"paste0\(", text):
            parts = _r_paste0(text, call.end(), constants)
            if parts and OPERATION.match(parts[0]):
                found[f"{path.name} line {text.count(chr(10), 0, call.start()) + 1}"] = "".join(
                    parts
                )
                joined.add(parts[0])
        for literal in re.finditer(R_STRING, text):
            value = literal.group(1)
            if OPERATION.match(value) and value not in joined:
                line = text.count("\n", 0, literal.start()) + 1
                found[f"{path.name} line {line}"] = value
    return found


def _r_paste0(text: str, at: int, constants: dict[str, str]) -> list[str] | None:
    """The parts of ``paste0(...)`` when each is a string literal or a string constant."""
    parts = []
    token = re.compile(rf"\s*(?:{R_STRING}|(\w+))\s*([,)])", re.DOTALL)
    while True:
        match = token.match(text, at)
        if not match:
            return None
        literal, name, end = match.groups()
        if literal is not None:
            parts.append(literal)
        elif name in constants:
            parts.append(constants[name])
        else:
            return None
        at = match.end()
        if end == ")":
            return parts


def gui_scripts(gui: Path = ROOT / "gui") -> list[Path]:
    """The dashboard's own scripts (not the vendored libraries)."""
    return sorted(p for p in gui.rglob("*.js") if "vendor" not in p.relative_to(gui).parts)


def gui_documents(gui: Path = ROOT / "gui") -> dict[str, str]:
    found = {}
    for path in gui_scripts(gui):
        text = path.read_text()
        constants = dict(re.findall(r"^(?:export )?const (\w+) = [`\"]([^`\"]*)[`\"];", text, re.M))

        def expand(value: str, constants: dict[str, str] = constants) -> str:
            return re.sub(r"\$\{(\w+)\}", lambda m: expand(constants[m.group(1)]), value)

        for literal in re.finditer(r"`([^`]*)`", text):
            if OPERATION.match(literal.group(1)):
                line = text.count("\n", 0, literal.start()) + 1
                found[f"{path.relative_to(gui)} line {line}"] = expand(literal.group(1))
    return found


def errors_of(document: str) -> list[GraphQLError]:
    try:
        return list(validate(SCHEMA, parse(document)))
    except GraphQLError as error:
        return [error]


SOURCES = {"python": python_documents, "r": r_documents, "dashboard": gui_documents}


@pytest.mark.parametrize("source", sorted(SOURCES))
def test_documents_are_valid(source: str) -> None:
    documents = SOURCES[source]()
    assert documents, f"no GraphQL documents found in the {source} client"
    invalid = {where: errors_of(doc) for where, doc in documents.items()}
    assert {where: errs for where, errs in invalid.items() if errs} == {}


def test_python_documents_are_module_constants() -> None:
    assert inline_python_operations() == []


def test_the_extraction_finds_the_documents_it_should() -> None:
    # a few known documents of each client, so that a broken extraction cannot pass empty
    python = python_documents()
    assert "jobmon_client.usage.TASK_USAGE" in python
    assert any("mutation BindEdges" in doc for doc in r_documents().values())
    assert any("query Run(" in doc and "__typename" in doc for doc in r_documents().values())
    assert any("subscription Activity" in doc for doc in gui_documents().values())
    assert errors_of("query { noSuchField }")
