"""Fixtures of the compatibility tests (tests/conftest.py's apply too): ``jobmon`` as a
user runs it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

JOBMON = str(Path(sys.executable).with_name("jobmon"))


class JobmonCLI:
    """Runs ``jobmon`` as a user would, against one server."""

    def __init__(self, url: str) -> None:
        self.env = {**os.environ, "JOBMON_SERVER_URL": url}

    def run(self, *args: str, ok: bool = True) -> subprocess.CompletedProcess[str]:
        done = subprocess.run(
            [JOBMON, *args], capture_output=True, text=True, env=self.env, timeout=300
        )
        if ok:
            assert done.returncode == 0, f"jobmon {' '.join(args)}: {done.stderr}{done.stdout}"
        return done

    def json(self, *args: str) -> Any:
        return json.loads(self.run(*args).stdout)

    def json_output(self, *args: str) -> Any:
        """JSON from a command that was asked for it in its own words (``-o json``)."""
        return json.loads(self.run(*args).stdout)


@pytest.fixture
def jobmon(server_url: str) -> JobmonCLI:
    return JobmonCLI(server_url)
