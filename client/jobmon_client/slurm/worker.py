"""The Slurm worker: ``jobmon worker --cluster slurm``.

It registers the cluster and its partitions' limits, adopts what a previous worker left
running, then loops: claim queued instances (long-polling the server), submit them as job
arrays (one ``sbatch --array`` per array and resources, chunked at MaxArraySize), and once
per poll interval read all its jobs' states with one ``squeue`` call, reporting what no
runner could (OUT_OF_MEMORY, TIMEOUT, CANCELLED, NODE_FAIL, ...). The runner inside each
job reports RUNNING, DONE and ERROR itself. Stopping the worker leaves jobs running: a
worker started later adopts them.
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
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from jobmon_client.slurm import accounting, partitions, submit
from jobmon_client.slurm.errors import Run, SlurmError, output_of, run_command
from jobmon_client.worker.documents import Client
from jobmon_client.worker.reporter import Reporter

log = logging.getLogger(__name__)

POLL_SECONDS = 10.0
CLAIM_LIMIT = 1000
MISSING_POLLS = 3  # a job absent from squeue this many polls in a row is gone

CLAIM = """
mutation Claim($clusterName: String!, $workerId: String!, $limit: Int!, $waitSeconds: Float!) {
  claimTaskInstances(clusterName: $clusterName, workerId: $workerId, limit: $limit,
                     waitSeconds: $waitSeconds) {
    instances {
      id taskId workflowId name command resources arrayId concurrencyLimit
    }
    killInstanceIds
    heartbeatIntervalSeconds
  }
}
"""
ADOPT = """
mutation Adopt($clusterName: String!, $workerId: String!) {
  adoptTaskInstances(clusterName: $clusterName, workerId: $workerId) {
    id status distributorId
  }
}
"""
REGISTER = """
mutation Register($name: String!, $queues: [QueueInput!]!) {
  registerCluster(name: $name, distributor: "slurm", queues: $queues) {
    __typename
    ... on Cluster { name queues { name default maxCores maxMemoryMb maxRuntimeSeconds } }
    ... on Error { message }
  }
}
"""


@dataclass
class Followed:
    """An instance this worker submitted (or adopted) and follows in squeue."""

    instance_id: int
    job_id: str  # "<array job id>_<index>"
    missing: int = 0


class SlurmWorker:
    def __init__(
        self,
        cluster_name: str,
        client_factory: Callable[[], Client],
        graphql_url: str,
        worker_id: str,
        log_dir: Path,
        *,
        poll_seconds: float = POLL_SECONDS,
        queue_overrides: dict[str, dict[str, Any]] | None = None,
        run: Run = run_command,
        python: str = sys.executable,
    ) -> None:
        self.cluster_name = cluster_name
        self.client_factory = client_factory
        self.graphql_url = graphql_url
        self.worker_id = worker_id
        self.log_dir = log_dir
        self.poll_seconds = poll_seconds
        self.queue_overrides = queue_overrides or {}
        self.run_command = run
        self.python = python
        self.user = getpass.getuser()
        self.followed: dict[int, Followed] = {}
        self.sbatch_calls = 0
        self.heartbeat_interval = 30.0
        self._kills: list[int] = []
        self._lock = threading.Lock()

    # -- start ----------------------------------------------------------------------------
    def register(self, client: Client) -> list[dict[str, Any]]:
        """Register the cluster with its partitions' limits (config overrides applied)."""
        found = partitions.read_partitions(run=self.run_command)
        queues: list[dict[str, Any]] = [
            {
                "name": p.name,
                "default": p.default,
                "maxCores": p.max_cores,
                "maxMemoryMb": p.max_memory_mb,
                "maxRuntimeSeconds": p.max_runtime_s,
            }
            for p in found
        ]
        for queue in queues:
            queue.update(self.queue_overrides.get(queue["name"], {}))
        result = client.execute(REGISTER, {"name": self.cluster_name, "queues": queues})
        payload = result["registerCluster"]
        if payload["__typename"] != "Cluster":
            raise SlurmError(f"cannot register cluster {self.cluster_name}: {payload['message']}")
        log.info(
            "cluster %s registered with partitions %s",
            self.cluster_name,
            ", ".join(q["name"] for q in payload["queues"]),
        )
        return list(payload["queues"])

    def adopt(self, client: Client) -> None:
        adopted = client.execute(
            ADOPT, {"clusterName": self.cluster_name, "workerId": self.worker_id}
        )["adoptTaskInstances"]
        for item in adopted:
            if item["distributorId"]:
                self.followed[item["id"]] = Followed(item["id"], item["distributorId"])
        if adopted:
            log.info("adopted %d running instances", len(self.followed))

    # -- the loop -------------------------------------------------------------------------
    def run(self, stop: threading.Event) -> None:
        client = self.client_factory()
        self.register(client)
        self.adopt(client)
        self.max_array_size = partitions.read_max_array_size(run=self.run_command)
        reporter = Reporter(self.client_factory, self.worker_id, self._held_ids, self._on_kill)
        self.reporter = reporter
        reporter.start()
        last_poll = 0.0
        try:
            while not stop.is_set():
                wait = max(
                    0.0, min(self.poll_seconds, last_poll + self.poll_seconds - time.monotonic())
                )
                self._claim_and_submit(client, wait)
                self._apply_kills()
                if time.monotonic() - last_poll >= self.poll_seconds:
                    self.poll()
                    last_poll = time.monotonic()
        finally:
            reporter.close()
            log.info(
                "worker %s stopped; %d jobs left running for the next worker to adopt",
                self.worker_id,
                len(self.followed),
            )

    def _held_ids(self) -> list[int]:
        with self._lock:
            return list(self.followed)

    def _on_kill(self, ids: list[int]) -> None:
        with self._lock:
            self._kills += ids

    def _claim_and_submit(self, client: Client, wait: float) -> None:
        result = client.execute(
            CLAIM,
            {
                "clusterName": self.cluster_name,
                "workerId": self.worker_id,
                "limit": CLAIM_LIMIT,
                "waitSeconds": wait,
            },
        )["claimTaskInstances"]
        self.heartbeat_interval = float(result["heartbeatIntervalSeconds"])
        self.reporter.set_heartbeat_interval(self.heartbeat_interval)
        self._on_kill(list(result["killInstanceIds"]))
        if result["instances"]:
            self.submit(result["instances"])

    # -- submitting -----------------------------------------------------------------------
    def submit(self, instances: list[dict[str, Any]]) -> None:
        """One sbatch --array per array and resources, in chunks of MaxArraySize."""
        groups: dict[tuple[int, str], list[dict[str, Any]]] = defaultdict(list)
        for item in instances:
            resources = item["resources"] or {}
            if isinstance(resources, str):
                resources = json.loads(resources)
            item["resources"] = resources
            groups[(item["arrayId"], json.dumps(resources, sort_keys=True))].append(item)
        for (array_id, _), items in groups.items():
            start = 0
            for size in submit.chunk_sizes(len(items), self.max_array_size):
                self._submit_array(array_id, items[start : start + size])
                start += size

    def _submit_array(self, array_id: int, items: list[dict[str, Any]]) -> None:
        workflow_id = items[0]["workflowId"]
        directory = self.log_dir / str(workflow_id)
        batch_dir = directory / "slurm"
        batch_dir.mkdir(parents=True, exist_ok=True)
        stem = batch_dir / f"array{array_id}-{items[0]['id']}"
        entries = [
            {
                "id": item["id"],
                "command": item["command"],
                "stdout": str(directory / f"{_file_name(item['name'])}.{item['id']}.out"),
                "stderr": str(directory / f"{_file_name(item['name'])}.{item['id']}.err"),
            }
            for item in items
        ]
        manifest = {
            "graphql_url": self.graphql_url,
            "worker_id": self.worker_id,
            "heartbeat_interval": self.heartbeat_interval,
            "instances": entries,
        }
        Path(f"{stem}.json").write_text(json.dumps(manifest))
        script = Path(f"{stem}.sh")
        script.write_text(
            "#!/bin/sh\n"
            f"exec {_quote(self.python)} -m jobmon_client.slurm.runner {_quote(f'{stem}.json')}\n"
        )
        limit = min(int(i["concurrencyLimit"]) for i in items)
        argv = [
            "sbatch",
            "--parsable",
            f"--array={submit.array_spec(len(items), limit)}",
            f"--job-name=jobmon-{workflow_id}-{array_id}",
            f"--output={stem}.%a.runner.log",
            *submit.sbatch_resource_args(items[0]["resources"]),
            str(script),
        ]
        self.sbatch_calls += 1
        try:
            job_id = submit.parse_sbatch_parsable(output_of(argv, self.run_command))
        except SlurmError as exc:
            message = str(exc)
            log.warning("%s (instances %s)", message, [i["id"] for i in items])
            self.reporter.put(
                {"taskInstanceId": i["id"], "status": "ERROR", "errorMessage": message}
                for i in items
            )
            return
        log.info("submitted %d instances as job array %s", len(items), job_id)
        reports = []
        with self._lock:
            for index, (item, entry) in enumerate(zip(items, entries, strict=True)):
                element = f"{job_id}_{index}"
                self.followed[item["id"]] = Followed(item["id"], element)
                reports.append(
                    {
                        "taskInstanceId": item["id"],
                        "status": "LAUNCHED",
                        "distributorId": element,
                        "stdoutPath": entry["stdout"],
                        "stderrPath": entry["stderr"],
                    }
                )
        self.reporter.put(reports)

    # -- following ------------------------------------------------------------------------
    def poll(self) -> None:
        """Read every job's state with one squeue call; report those that ended badly."""
        if not self.followed:
            return
        try:
            states = accounting.read_squeue(self.user, self.run_command)
        except SlurmError as exc:
            log.warning("%s", exc)
            return
        reports = []
        with self._lock:
            for followed in list(self.followed.values()):
                state = states.get(followed.job_id)
                if state is None:
                    followed.missing += 1
                    if followed.missing >= MISSING_POLLS:
                        # Gone from slurmctld: its runner reported, or nobody will.
                        del self.followed[followed.instance_id]
                        reports.append(
                            {
                                "taskInstanceId": followed.instance_id,
                                "status": "UNKNOWN_ERROR",
                                "errorMessage": f"Slurm job {followed.job_id} disappeared",
                            }
                        )
                    continue
                followed.missing = 0
                if not accounting.is_finished(state.state):
                    continue
                del self.followed[followed.instance_id]
                verdict = accounting.settle(state)
                if verdict is None:
                    continue
                status, kind = verdict
                report = {
                    "taskInstanceId": followed.instance_id,
                    "status": status,
                    "errorMessage": accounting.describe(state),
                }
                if kind:
                    report["resourceKind"] = kind
                if state.exit_code is not None:
                    report["exitCode"] = state.exit_code
                reports.append(report)
        if reports:
            self.reporter.put(reports)

    def _apply_kills(self) -> None:
        with self._lock:
            kills, self._kills = self._kills, []
            jobs = [self.followed.pop(i).job_id for i in kills if i in self.followed]
        if jobs:
            try:
                output_of(["scancel", *jobs], self.run_command)
            except SlurmError as exc:
                log.warning("%s", exc)
        if kills:
            self.reporter.put(
                {"taskInstanceId": i, "status": "ERROR_FATAL", "errorMessage": "killed on request"}
                for i in sorted(set(kills))
            )


def _file_name(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "_", name)[:100] or "task"


def _quote(text: str) -> str:
    return "'" + text.replace("'", "'\\''") + "'"


def run_slurm_worker(
    cluster_name: str,
    server_url: str | None = None,
    log_dir: Path | None = None,
    stop_event: threading.Event | None = None,
    worker_id: str | None = None,
    poll_seconds: float = POLL_SECONDS,
) -> None:
    from jobmon_client.config import graphql_url, read_config
    from jobmon_client.transport import GraphQLClient
    from jobmon_client.worker.loop import default_log_dir, default_worker_id, stop_on_signals

    stop = stop_event if stop_event is not None else threading.Event()
    url = graphql_url(server_url)
    worker = SlurmWorker(
        cluster_name,
        lambda: GraphQLClient(url),
        url,
        worker_id or default_worker_id(),
        Path(log_dir) if log_dir is not None else default_log_dir(),
        poll_seconds=poll_seconds,
        queue_overrides=queue_overrides(read_config(), cluster_name),
    )
    with stop_on_signals(stop):
        worker.run(stop)


def queue_overrides(config: dict[str, Any], cluster_name: str) -> dict[str, dict[str, Any]]:
    """``[clusters.NAME.queues.QUEUE]`` tables of the config file: limits that replace what
    Slurm reports (``max_cores``, ``max_memory`` such as "512G", ``max_runtime`` such as
    "7d")."""
    from jobmon_client.slurm.units import memory_mb, runtime_seconds

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
