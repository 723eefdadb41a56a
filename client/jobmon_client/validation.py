"""Errors in a workflow definition, and the checks on names and commands.

Every error is raised before anything is sent to the server, is a ``ValueError``, and
says which template or task is wrong and how to fix it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from jobmon_client.hashing import sha1_hex

MAX_NAME_LENGTH = 255
MAX_ATTRIBUTE_NAME = 255

CONTROL_CHARACTERS = re.compile(r"[\x00-\x1f\x7f-\x9f]")


class WorkflowDefinitionError(ValueError):
    """A tool, template, task or workflow that cannot be bound as written."""


class TemplateArgumentError(WorkflowDefinitionError):
    """A command template and its declared args disagree, or a task's args are wrong."""


class InvalidNameError(WorkflowDefinitionError):
    """A name or command the server cannot store."""


class DuplicateTaskError(WorkflowDefinitionError):
    """The same task (template version and node args) added twice."""


class DuplicateNodeArgsError(DuplicateTaskError):
    """Two tasks of one template with the same node args but different task args
    (Jobmon's name)."""


class NodeDependencyNotExistError(WorkflowDefinitionError):
    """A task depends on, or is depended on by, a task not added to the workflow
    (Jobmon's name)."""


class MissingUpstreamError(NodeDependencyNotExistError):
    """A task depends on a task that was not added to the workflow."""


class MissingDownstreamError(NodeDependencyNotExistError):
    """A task of the workflow has a downstream task that was not added to it."""


class CycleError(WorkflowDefinitionError):
    """The task dependencies form a cycle."""


CyclicGraphError = CycleError  # Jobmon's name


class EmptyWorkflowError(WorkflowDefinitionError, RuntimeError):
    """A workflow without tasks was bound or run (a RuntimeError too, as in Jobmon)."""


class CallableReturnedInvalidObject(WorkflowDefinitionError):
    """A compute_resources_callable did not return a dict."""


def check_name(name: object, what: str) -> str:
    """Return ``name`` if the server can store it as the name of ``what``, else raise."""
    if not isinstance(name, str) or not name:
        raise InvalidNameError(f"{what}: the name must be a non-empty string, got {name!r}")
    if len(name) > MAX_NAME_LENGTH:
        raise InvalidNameError(
            f"{what}: the name is {len(name)} characters long ({name[:40]!r}...); "
            f"use at most {MAX_NAME_LENGTH}"
        )
    if CONTROL_CHARACTERS.search(name):
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
    if CONTROL_CHARACTERS.search(name):
        name = CONTROL_CHARACTERS.sub("_", name)
    if len(name) > MAX_NAME_LENGTH:
        name = name[: MAX_NAME_LENGTH - 9] + "_" + sha1_hex(name)[:8]
    return name


def check_attributes(value: object, what: str) -> dict[str, str | None]:
    """Attributes as stored: names to strings (Jobmon stores ``str(value)``); a list or
    tuple of names gives names without values."""
    if value is None:
        return {}
    if isinstance(value, list | tuple):
        items: list[tuple[object, object]] = [(name, None) for name in value]
    elif isinstance(value, Mapping):
        items = list(value.items())
    else:
        raise WorkflowDefinitionError(
            f"{what} must be a dict of name to value (such as {{'release_id': 3}}) or a list "
            f"of names, got {value!r}"
        )
    out: dict[str, str | None] = {}
    for name, item in items:
        if not isinstance(name, str | int) or isinstance(name, bool) or not str(name):
            raise WorkflowDefinitionError(
                f"{what}: an attribute name must be a non-empty string, got {name!r}"
            )
        key = str(name)
        if len(key) > MAX_ATTRIBUTE_NAME:
            raise WorkflowDefinitionError(
                f"{what}: the attribute name {key[:40]!r}... is longer than "
                f"{MAX_ATTRIBUTE_NAME} characters"
            )
        out[key] = None if item is None else str(item)
    return out
