"""Where an attempt's stdout and stderr files go.

By default ``<log dir>/<workflow id>/<task name>.<instance id>.out`` (and ``.err``); a
task whose compute resources name ``stdout`` or ``stderr`` directories (as Jobmon's do)
writes that file there instead.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any


def attempt_log_paths(
    workflow_dir: str | Path, resources: Mapping[str, Any], stem: str
) -> tuple[str, str]:
    """``stem.out`` and ``stem.err``, in the workflow's log directory or the directories
    the resources name; those are created."""
    paths = []
    for key, suffix in (("stdout", "out"), ("stderr", "err")):
        directory = Path(str(resources.get(key) or workflow_dir)).expanduser()
        if resources.get(key):
            directory.mkdir(parents=True, exist_ok=True)
        paths.append(str(directory / f"{stem}.{suffix}"))
    return paths[0], paths[1]
