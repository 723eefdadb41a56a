"""The worker: claims task instances of a cluster, runs them and reports what happened."""

from jobmon_client.worker.loop import Worker, run_worker

__all__ = ["Worker", "run_worker"]
