"""Jobmon's command-line spellings, rewritten to this CLI's before parsing.

Jobmon's long options use underscores (``--workflow_id``), take several values after one
flag (``-w 1 2``, ``-s PENDING RUNNING``) and spell JSON output ``-n``. Commands here take
hyphens and repeat a flag per value (``-w 1 -w 2``); both spellings work. The rewriting
applies to Jobmon's command names (``workflow_status``, ...) and to the grouped commands.
"""

from __future__ import annotations

from collections.abc import Sequence

# Per command: the flags that take several values, and Jobmon's flags spelt differently.
_MULTI: dict[str, frozenset[str]] = {
    "workflow_status": frozenset({"-w", "--workflow-id", "-u", "--user"}),
    "workflow_tasks": frozenset({"-s", "--status"}),
    "task_status": frozenset({"-t", "--task-id", "--task-ids", "-s", "--status"}),
    "update_task_status": frozenset({"-t", "--task-id", "--task-ids"}),
    "task_template_resources": frozenset({"-w", "--workflows", "--workflow-id"}),
}
_RENAMED: dict[str, dict[str, str]] = {
    "task_status": {"--task-ids": "--task-id"},
    "task_dependencies": {"--task-ids": "--task-id"},
    "get_filepaths": {"--array-name": "--array", "--job-name": "--job"},
    "update_task_status": {"--task-ids": "--task-id", "--status": "--new-status"},
    "task_template_resources": {
        "--workflows": "--workflow-id",
        "--task-template-version": "--template",
        "--task-template-version-id": "--template",
    },
}
# The grouped commands, by the Jobmon name they stand for.
_GROUPED = {
    ("workflow", "status"): "workflow_status",
    ("workflow", "tasks"): "workflow_tasks",
    ("task", "status"): "task_status",
    ("task", "update"): "update_task_status",
    ("task", "dependencies"): "task_dependencies",
    ("workflow", "filepaths"): "get_filepaths",
    ("workflow", "logs"): "get_filepaths",
}
_WITH_JSON = frozenset(
    {
        "workflow_status",
        "workflow_tasks",
        "task_status",
        "task_dependencies",
        "get_filepaths",
        "workflow_resume",
        "workflow_reset",
        "update_task_status",
        "concurrency_limit",
        "task_template_resources",
    }
)


# Commands whose -o/--output is Jobmon's output format (table or json).
_OUTPUT_FORMAT = _WITH_JSON - {"task_template_resources"}


def command_of(argv: Sequence[str]) -> tuple[str | None, int]:
    """The Jobmon name of the command in ``argv``, and where its options start."""
    words = [(i, a) for i, a in enumerate(argv) if not a.startswith("-")][:2]
    if not words:
        return None, 0
    first_at, first = words[0]
    if len(words) == 2 and (first, words[1][1]) in _GROUPED:
        return _GROUPED[(first, words[1][1])], words[1][0] + 1
    return first, first_at + 1


def normalize(argv: Sequence[str]) -> list[str]:
    """``argv`` with Jobmon's spellings made this CLI's; other arguments as they were."""
    command, start = command_of(argv)
    if command is None:
        return list(argv)
    out = list(argv[:start])
    multi = _MULTI.get(command, frozenset())
    renamed = _RENAMED.get(command, {})
    current: str | None = None  # a multi-valued flag whose values are being read
    first_value = False
    output_flag = False  # Jobmon's grouped commands: -o/--output table|json
    for arg in argv[start:]:
        if output_flag:
            output_flag = False
            if arg == "json":
                out.append("--json")
                continue
            if arg == "table":
                continue
            out.append("-o")  # not a format: the command's own -o
        if (
            arg in ("-o", "--output")
            and command in _WITH_JSON
            and command != "task_template_resources"
        ):
            output_flag = True
            current = None
            continue
        if arg == "--":
            out.append(arg)
            current = None
            continue
        if arg.startswith("-") and not _is_number(arg):
            name, eq, value = arg.partition("=")
            if name.startswith("--"):
                name = "--" + name[2:].replace("_", "-")
                name = renamed.get(name, name)
            if name == "-n" and command in _WITH_JSON:
                name = "--json"
            out.append(name + eq + value)
            current = name if name in multi and not eq else None
            first_value = True
            continue
        if current is not None:
            if not first_value:
                out.append(current)
            first_value = False
        out.append(arg)
    if output_flag:
        out.append("-o")
    return out


def _is_number(arg: str) -> bool:
    try:
        float(arg)
    except ValueError:
        return False
    return True
