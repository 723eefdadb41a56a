"""Running a Slurm command, and the error raised when it fails or says something unexpected."""

from __future__ import annotations

import subprocess
from collections.abc import Callable, Sequence

COMMAND_TIMEOUT_S = 60.0

Run = Callable[[Sequence[str]], "subprocess.CompletedProcess[str]"]


class SlurmError(Exception):
    """A Slurm command failed, or printed something this package cannot read."""


def run_command(argv: Sequence[str]) -> subprocess.CompletedProcess[str]:
    """Run ``argv`` and capture its text output; a stuck controller cannot hang the caller."""
    return subprocess.run(
        list(argv), capture_output=True, text=True, check=False, timeout=COMMAND_TIMEOUT_S
    )


def output_of(argv: Sequence[str], run: Run = run_command) -> str:
    """The standard output of ``argv``; raise ``SlurmError`` with its stderr when it fails."""
    command = " ".join(argv)
    try:
        done = run(argv)
    except FileNotFoundError:
        raise SlurmError(f"`{command}` failed: {argv[0]} is not installed or not on PATH") from None
    except subprocess.TimeoutExpired:
        raise SlurmError(f"`{command}` did not answer within {COMMAND_TIMEOUT_S:g} s") from None
    if done.returncode != 0:
        detail = (done.stderr or "").strip() or (done.stdout or "").strip() or "no output"
        raise SlurmError(f"`{command}` failed with exit status {done.returncode}: {detail}")
    return done.stdout or ""
