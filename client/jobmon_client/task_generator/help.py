"""The help text of a task generator: its docstring and arguments, as ``--arghelp`` shows."""

from __future__ import annotations

import re
from collections.abc import Iterable

HELP_TEXT_INTRO_FORMAT = "Command Line Documentation for {full_path}"


def help_text(full_path: str, doc: str, arguments: Iterable[tuple[str, str, str | None]]) -> str:
    """The header, the docstring's first paragraph, and one line per ``(name, type,
    default text)`` argument with its description from the docstring."""
    summary = doc.split("\n\n", 1)[0].strip()
    described = _param_descriptions(doc)
    lines = [HELP_TEXT_INTRO_FORMAT.format(full_path=full_path)]
    if summary:
        lines += ["", summary]
    lines.append("")
    for name, type_name, default in arguments:
        text = described.get(name, "No description found in docstring.")
        suffix = "" if default is None else f" (default: {default})"
        lines.append(f"\t{name}=<{type_name}>: {text}{suffix}")
    return "\n".join(lines)


_SPHINX_PARAM = re.compile(r"^:param\s+(?:[^:]*\s)?(\w+)\s*:\s*(.*)$")
_GOOGLE_PARAM = re.compile(r"^\*{0,2}(\w+)\s*(?:\([^)]*\))?\s*:\s*(.*)$")
_ARGS_SECTION = re.compile(r"^(Args|Arguments|Parameters|Params)\s*:$")


def _param_descriptions(doc: str) -> dict[str, str]:
    """Parameter descriptions from a docstring: an ``Args:`` section (Google style) or
    ``:param name: text`` lines (Sphinx style)."""
    found: dict[str, str] = {}
    in_section = False
    indent: int | None = None
    current: str | None = None
    for line in doc.splitlines():
        stripped = line.strip()
        sphinx = _SPHINX_PARAM.match(stripped)
        if sphinx:
            current = sphinx.group(1)
            found[current] = sphinx.group(2)
            in_section = False
            continue
        if _ARGS_SECTION.match(stripped):
            in_section, indent, current = True, None, None
            continue
        if not in_section:
            continue
        depth = len(line) - len(line.lstrip())
        if not stripped or (indent is not None and depth < indent):
            in_section = False
            continue
        if indent is None:
            indent = depth
        google = _GOOGLE_PARAM.match(stripped) if depth == indent else None
        if google:
            current = google.group(1)
            found[current] = google.group(2)
        elif current is not None:
            found[current] = f"{found[current]} {stripped}".strip()
    return found
