"""The worker: claims task instances of a cluster, runs them through its distributor and
reports what happened."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from jobmon_client.worker.loop import Worker, WorkerError, run_worker

__all__ = ["Worker", "WorkerError", "run_worker"]


def __getattr__(name: str) -> Any:
    # Imported when used: the Slurm runner needs worker.process without the worker loop.
    if name in __all__:
        from jobmon_client.worker import loop

        return getattr(loop, name)
    raise AttributeError(f"module 'jobmon_client.worker' has no attribute {name!r}")
