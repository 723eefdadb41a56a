"""Task names: ``fit:location_id=3:year=2020``, or what a custom naming function says."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from jobmon_client.validation import storable_name

NameFunc = Callable[[str, dict[str, Any]], str]
_REPLACED = str.maketrans({"/": "_", "\\": "_", '"': "_", "'": "_", " ": "_"})


def name_part(shown: str) -> str:
    """One value as upstream Jobmon names it: without enclosing quotes or brackets, and
    with slashes, backslashes, quotes and spaces made ``_``."""
    if len(shown) >= 2 and shown[0] == shown[-1] == "'":
        shown = shown[1:-1]
    if len(shown) >= 2 and shown[0] == "[" and shown[-1] == "]":
        shown = shown[1:-1]
    return shown.translate(_REPLACED)


def create_task_name(
    kwargs_for_name: Mapping[str, str],
    prefix: str = "",
    name_func: NameFunc | None = None,
) -> str:
    """``prefix:arg=value`` for each naming arg, or ``name_func(prefix, kwargs_for_name)``."""
    if name_func is not None:
        return name_func(prefix, dict(kwargs_for_name))
    name = prefix + "".join(f":{arg}={name_part(shown)}" for arg, shown in kwargs_for_name.items())
    return storable_name(name)
