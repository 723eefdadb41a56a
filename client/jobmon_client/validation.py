"""Errors in a workflow definition, and the checks on names and commands.

Every error is raised before anything is sent to the server, is a ``ValueError``, and
says which template or task is wrong and how to fix it.
"""

from __future__ import annotations

import re

from jobmon_client.hashing import sha1_hex

MAX_NAME_LENGTH = 255

_CONTROL_CHARACTERS = re.compile(r"[\x00-\x1f\x7f-\x9f]")


class WorkflowDefinitionError(ValueError):
    """A tool, template, task or workflow that cannot be bound as written."""


class TemplateArgumentError(WorkflowDefinitionError):
    """A command template and its declared args disagree, or a task's args are wrong."""


class InvalidNameError(WorkflowDefinitionError):
    """A name or command the server cannot store."""


class DuplicateTaskError(WorkflowDefinitionError):
    """The same task (template version and node args) added twice, defined differently."""


class MissingUpstreamError(WorkflowDefinitionError):
    """A task depends on a task that was not added to the workflow."""


class CycleError(WorkflowDefinitionError):
    """The task dependencies form a cycle."""


def check_name(name: object, what: str) -> str:
    """Return ``name`` if the server can store it as the name of ``what``, else raise."""
    if not isinstance(name, str) or not name:
        raise InvalidNameError(f"{what}: the name must be a non-empty string, got {name!r}")
    if len(name) > MAX_NAME_LENGTH:
        raise InvalidNameError(
            f"{what}: the name is {len(name)} characters long ({name[:40]!r}...); "
            f"use at most {MAX_NAME_LENGTH}"
        )
    if _CONTROL_CHARACTERS.search(name):
        raise InvalidNameError(
            f"{what}: the name {name!r} contains control characters; remove them"
        )
    return name


def check_command(command: str, what: str) -> str:
    """Return ``command`` unless it contains a NUL character, which no shell can run."""
    if "\x00" in command:
        raise InvalidNameError(f"{what}: the command contains a NUL character: {command!r}")
    return command


def storable_name(name: str) -> str:
    """Make a generated name storable: control characters become ``_``; long names are cut.

    A cut name ends with a short digest of the full name, so distinct long names stay
    distinct.
    """
    if _CONTROL_CHARACTERS.search(name):
        name = _CONTROL_CHARACTERS.sub("_", name)
    if len(name) > MAX_NAME_LENGTH:
        name = name[: MAX_NAME_LENGTH - 9] + "_" + sha1_hex(name)[:8]
    return name
