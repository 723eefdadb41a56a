"""The Slurm distributor: ``jobmon worker --cluster slurm`` on a login node.

Claimed instances go out as job arrays (one ``sbatch --array`` per array and resources,
chunked at MaxArraySize); instances claimed within a second of each other share a
submission. A small runner inside each element (``runner.py``) reports RUNNING, DONE and
ERROR and heartbeats itself. Once per poll interval one ``squeue`` call reads every job's
state, and what no runner could report (OUT_OF_MEMORY, TIMEOUT, CANCELLED, NODE_FAIL, a
job that disappeared) is reported from it. Stopping the worker leaves the jobs running: a
worker started later adopts them by job id.
"""

from __future__ import annotations

import getpass
import json
import logging
import re
import sys
import threading
import time
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from jobmon_client.distributor import (
    AdoptedInstance,
    ClaimedInstance,
    DistributorContext,
    Ended,
    Launched,
    QueueSpec,
)
from jobmon_client.log_paths import attempt_log_paths
from jobmon_client.slurm import accounting, partitions, runner, submit
from jobmon_client.slurm.errors import Run, SlurmError, output_of, run_command

log = logging.getLogger(__name__)

POLL_SECONDS = 10.0
CLAIM_LIMIT = 1000
GATHER_SECONDS = 1.0  # instances claimed within this long go out in one sbatch per array
MISSING_POLLS = 3  # a job absent from squeue this many polls in a row is gone
KILLED_ON_REQUEST = "killed on request"


def create(context: DistributorContext) -> SlurmDistributor:
    return SlurmDistributor(
        context,
        poll_seconds=float(context.options.get("poll_seconds", POLL_SECONDS)),
        heartbeat_interval=float(context.options.get("heartbeat_interval", 30.0)),
    )


@dataclass
class Followed:
    """An instance this worker submitted (or adopted) and follows in squeue."""

    instance_id: int
    job_id: str  # "<array job id>_<index>"
    result: str | None = None  # where its runner writes its final report
    missing: int = 0
    killing: bool = False  # cancelled on request: confirmed once Slurm says it ended


class SlurmDistributor:
    kind = "slurm"

    def __init__(
        self,
        context: DistributorContext,
        *,
        poll_seconds: float = POLL_SECONDS,
        heartbeat_interval: float = 30.0,
        run: Run = run_command,
        python: str = sys.executable,
    ) -> None:
        self.context = context
        self.poll_seconds = poll_seconds
        self.heartbeat_interval = heartbeat_interval
        self.run_command = run
        self.python = python
        self.user = getpass.getuser()
        self.followed: dict[int, Followed] = {}
        self._buffer: list[ClaimedInstance] = []
        self._buffer_since = 0.0
        self._ended: list[Launched | Ended] = []
        self._lock = threading.Lock()
        self._woken = threading.Event()
        self._last_poll = 0.0
        self._max_array_size: int | None = None

    # -- any thread -------------------------------------------------------------------
    def capacity(self) -> int:
        """Slurm queues what it cannot run yet: claim in large batches."""
        with self._lock:
            waiting = len(self._buffer)
        return max(0, CLAIM_LIMIT - waiting)

    def held(self) -> list[int]:
        with self._lock:
            return list(self.followed) + [i.id for i in self._buffer]

    def wake(self) -> None:
        self._woken.set()

    # -- the loop's thread -----------------------------------------------------------
    def queues(self) -> Sequence[QueueSpec]:
        found = partitions.read_partitions(run=self.run_command)
        return [
            QueueSpec(
                name=p.name,
                default=p.default,
                max_cores=p.max_cores,
                max_memory_mb=p.max_memory_mb,
                max_runtime_seconds=p.max_runtime_s,
            )
            for p in found
        ]

    def submit(self, instances: Sequence[ClaimedInstance]) -> list[Launched | Ended]:
        with self._lock:
            if not self._buffer:
                self._buffer_since = time.monotonic()
            self._buffer.extend(instances)
        if len(self._buffer) >= CLAIM_LIMIT:
            self._flush()
        return self._take()

    def wait(self, timeout: float) -> list[Launched | Ended]:
        if not self._ended:
            now = time.monotonic()
            until = self._last_poll + self.poll_seconds
            if self._buffer:
                until = min(until, self._buffer_since + GATHER_SECONDS)
            self._woken.wait(max(0.0, min(timeout, until - now)))
            self._woken.clear()
        if self._buffer and time.monotonic() >= self._buffer_since + GATHER_SECONDS:
            self._flush()
        if time.monotonic() - self._last_poll >= self.poll_seconds:
            self._poll()
            self._last_poll = time.monotonic()
        return self._take()

    def terminate(self, instance_ids: Sequence[int]) -> None:
        """scancel the jobs; each kill is confirmed (ERROR_FATAL) once squeue shows the job
        ended, so that the task's next attempt never overlaps it."""
        wanted = set(instance_ids)
        confirmed: list[int] = []
        jobs: list[str] = []
        with self._lock:
            self._buffer = [i for i in self._buffer if i.id not in wanted]
            for instance_id in sorted(wanted):
                followed = self.followed.get(instance_id)
                if followed is None:
                    confirmed.append(instance_id)  # never went out, or not known here
                elif not followed.killing:
                    followed.killing = True
                    jobs.append(followed.job_id)
        if jobs:
            try:
                output_of(["scancel", *jobs], self.run_command)
            except SlurmError as exc:
                log.warning("%s", exc)
        self._ended += [Ended(i, "ERROR_FATAL", error_message=KILLED_ON_REQUEST) for i in confirmed]

    def adopt(self, instances: Sequence[AdoptedInstance]) -> list[Ended]:
        ended: list[Ended] = []
        kills: list[int] = []
        for instance in instances:
            job_id = instance.notes.get("job") or instance.distributor_id
            if not job_id:
                # Claimed but never submitted, or submitted and the job id lost: retried.
                ended.append(
                    Ended(
                        instance.id,
                        "NO_DISTRIBUTOR_ID",
                        error_message="never submitted before its worker stopped",
                    )
                )
                continue
            with self._lock:
                self.followed[instance.id] = Followed(
                    instance.id, str(job_id), instance.notes.get("result")
                )
            if instance.status == "KILL_SELF":
                kills.append(instance.id)
        if kills:
            self.terminate(kills)
        followed = len(instances) - len(ended) - len(kills)
        if followed:
            log.info("adopted %d Slurm jobs left by a stopped worker", followed)
        return ended

    def set_lease(self, seconds: float | None) -> None:
        """The runners in the jobs keep their own leases, and stop their commands when
        they cannot renew them."""

    def stop(self) -> None:
        """Leave the jobs running for the next worker; what was not submitted yet is
        submitted first."""
        if self._buffer:
            self._flush()
        with self._lock:
            left = len(self.followed)
            self.followed.clear()
        if left:
            log.info("%d Slurm jobs left running for the next worker to adopt", left)

    def close(self) -> None:
        pass

    # -- internals --------------------------------------------------------------------
    def _take(self) -> list[Launched | Ended]:
        taken, self._ended = self._ended, []
        return taken

    def _flush(self) -> None:
        """One sbatch --array per array and resources, in chunks of MaxArraySize."""
        with self._lock:
            instances, self._buffer = self._buffer, []
        if self._max_array_size is None:
            self._max_array_size = partitions.read_max_array_size(run=self.run_command)
        groups: dict[tuple[int, str], list[ClaimedInstance]] = defaultdict(list)
        for item in instances:
            groups[(item.array_id, json.dumps(dict(item.resources), sort_keys=True))].append(item)
        for (array_id, _), items in groups.items():
            start = 0
            for size in submit.chunk_sizes(len(items), self._max_array_size):
                self._submit_array(array_id, items[start : start + size])
                start += size

    def _submit_array(self, array_id: int, items: list[ClaimedInstance]) -> None:
        workflow_id = items[0].workflow_id
        directory = self.context.log_dir / str(workflow_id)
        batch_dir = directory / "slurm"
        batch_dir.mkdir(parents=True, exist_ok=True)
        stem = batch_dir / f"array{array_id}-{items[0].id}"
        entries: list[dict[str, Any]] = []
        for item in items:
            out, err = attempt_log_paths(
                directory, item.resources, f"{_file_name(item.name)}.{item.id}"
            )
            entries.append({"id": item.id, "command": item.command, "stdout": out, "stderr": err})
        manifest = {
            "graphql_url": self.context.server_url,
            "worker_id": self.context.worker_id,
            "cluster_name": self.context.cluster_name,
            "heartbeat_interval": self.heartbeat_interval,
            "instances": entries,
        }
        Path(f"{stem}.json").write_text(json.dumps(manifest))
        script = Path(f"{stem}.sh")
        script.write_text(
            "#!/bin/sh\n"
            f"exec {_quote(self.python)} -m jobmon_client.slurm.runner {_quote(f'{stem}.json')}\n"
        )
        limit = min(item.concurrency_limit for item in items)
        argv = [
            "sbatch",
            "--parsable",
            f"--array={submit.array_spec(len(items), limit)}",
            f"--job-name=jobmon-{workflow_id}-{array_id}",
            f"--output={stem}.%a.runner.log",
            *submit.sbatch_resource_args(items[0].resources),
            str(script),
        ]
        try:
            job_id = submit.parse_sbatch_parsable(output_of(argv, self.run_command))
        except (SlurmError, ValueError) as exc:
            message = str(exc)
            log.warning("%s (instances %s)", message, [i.id for i in items])
            self._ended += [Ended(i.id, "ERROR", error_message=message) for i in items]
            return
        log.info("submitted %d instances as job array %s", len(items), job_id)
        with self._lock:
            for index, (item, entry) in enumerate(zip(items, entries, strict=True)):
                element = f"{job_id}_{index}"
                result = str(runner.result_path(f"{stem}.json", index))
                self.followed[item.id] = Followed(item.id, element, result)
                self.context.note(item.id, {"job": element, "result": result})
                self._ended.append(
                    Launched(
                        item.id,
                        element,
                        stdout_path=entry["stdout"],
                        stderr_path=entry["stderr"],
                    )
                )

    def _poll(self) -> None:
        """Read every job's state with one squeue call; report those that ended badly."""
        with self._lock:
            if not self.followed:
                return
        try:
            states = accounting.read_squeue(self.user, self.run_command)
        except SlurmError as exc:
            log.warning("%s", exc)
            return
        with self._lock:
            for followed in list(self.followed.values()):
                state = states.get(followed.job_id)
                if followed.killing and (state is None or accounting.is_finished(state.state)):
                    del self.followed[followed.instance_id]
                    self.context.forget(followed.instance_id)
                    self._ended.append(
                        Ended(followed.instance_id, "ERROR_FATAL", error_message=KILLED_ON_REQUEST)
                    )
                    continue
                if state is None:
                    followed.missing += 1
                    if followed.missing >= MISSING_POLLS:
                        # Gone from slurmctld: its runner reported, or nobody will.
                        del self.followed[followed.instance_id]
                        self.context.forget(followed.instance_id)
                        self._ended.append(
                            Ended(
                                followed.instance_id,
                                "UNKNOWN_ERROR",
                                error_message=f"Slurm job {followed.job_id} disappeared",
                            )
                        )
                    continue
                followed.missing = 0
                if not accounting.is_finished(state.state):
                    continue
                del self.followed[followed.instance_id]
                self.context.forget(followed.instance_id)
                result = runner.read_result(Path(followed.result)) if followed.result else None
                if result is not None and accounting.normalize_state(state.state) in (
                    "COMPLETED",
                    "FAILED",
                ):
                    # The runner's own report, sent again from its file (a repeat is ignored).
                    self._ended.append(_from_result(followed.instance_id, result))
                    continue
                verdict = accounting.settle(state)
                if verdict is None:
                    continue
                status, kind = verdict
                self._ended.append(
                    Ended(
                        followed.instance_id,
                        status,
                        exit_code=state.exit_code,
                        error_message=accounting.describe(state),
                        resource_kind=kind,
                    )
                )


def _from_result(instance_id: int, result: dict[str, Any]) -> Ended:
    return Ended(
        instance_id,
        str(result.get("status", "ERROR")),
        exit_code=result.get("exitCode"),
        error_message=result.get("errorMessage"),
        max_rss_bytes=result.get("maxRssBytes"),
        cpu_seconds=result.get("cpuSeconds"),
        wallclock_seconds=result.get("wallclockSeconds"),
    )


def _file_name(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "_", name)[:100] or "task"


def _quote(text: str) -> str:
    return "'" + text.replace("'", "'\\''") + "'"


def queue_overrides(config: dict[str, Any], cluster_name: str) -> dict[str, dict[str, Any]]:
    """``[clusters.NAME.queues.QUEUE]`` tables of the config file: limits that replace what
    Slurm reports (``max_cores``, ``max_memory`` such as "512G", ``max_runtime`` such as
    "7d")."""
    from jobmon_client.units import memory_mb, runtime_seconds

    tables = config.get("clusters", {}).get(cluster_name, {}).get("queues", {})
    overrides: dict[str, dict[str, Any]] = {}
    for name, table in tables.items():
        entry: dict[str, Any] = {}
        if "max_cores" in table:
            entry["maxCores"] = int(table["max_cores"])
        if "max_memory" in table:
            entry["maxMemoryMb"] = memory_mb(table["max_memory"])
        if "max_runtime" in table:
            entry["maxRuntimeSeconds"] = runtime_seconds(table["max_runtime"])
        if "default" in table:
            entry["default"] = bool(table["default"])
        overrides[name] = entry
    return overrides
