"""The command line of a task generator's task, and how each value is quoted on it.

A task runs ``PYTHON -m jobmon_client.task_generator.runner --module_name M --func_name F
[--module_source_path P] arg1='text1' arg2='text2' ...`` through ``/bin/sh -c``. Every
value is put in single quotes (a quote inside becomes ``'"'"'``), so the shell passes it
on exactly as written, whatever it holds: quotes, ``$()``, backticks, newlines, unicode.
"""

from __future__ import annotations

import shlex
import sys
from collections.abc import Iterable

RUNNER_MODULE = "jobmon_client.task_generator.runner"
EXECUTABLE_ARG = "executable"
# Linux refuses to start a program with one argument longer than 128 KiB
# (MAX_ARG_STRLEN), and the whole command is one argument of /bin/sh.
MAX_COMMAND_BYTES = 128 * 1024 - 1


def quote(text: str) -> str:
    """``text`` in single quotes, as /bin/sh reads it back exactly."""
    return "'" + text.replace("'", "'\"'\"'") + "'"


def runner_executable() -> str:
    """How a task starts the runner: this interpreter, running the runner module."""
    python = sys.executable
    if not python:
        raise RuntimeError(
            "this Python does not know its own executable (sys.executable is empty), so the "
            "task generator cannot say how its tasks start Python"
        )
    return f"{shlex.quote(python)} -m {RUNNER_MODULE}"


def command_template(
    module_name: str,
    func_name: str,
    module_source_path: str | None,
    holes: Iterable[tuple[str, str]],
) -> str:
    """The template: fixed options, then ``param={hole}`` for each (param, hole) pair."""
    parts = [f"{{{EXECUTABLE_ARG}}}", "--module_name", _literal(module_name)]
    parts += ["--func_name", _literal(func_name)]
    if module_source_path is not None:
        parts += ["--module_source_path", _literal(module_source_path)]
    parts += [f"{param}={{{hole}}}" for param, hole in holes]
    return " ".join(parts)


def _literal(word: str) -> str:
    """A word of the template: quoted for the shell, braces doubled for str.format."""
    return shlex.quote(word).replace("{", "{{").replace("}", "}}")
