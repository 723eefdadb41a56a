"""The distributor interface: where a worker's task instances run.

One worker loop (``jobmon worker``) claims instances from the server, hands them to a
distributor, and reports what the distributor says became of them. Sequential,
multiprocess and Slurm are distributors; a site adds its own as a package that names a
factory in the ``jobmon.distributors`` entry-point group::

    [project.entry-points."jobmon.distributors"]
    mysite = "mysite_jobmon:create"      # create(context: DistributorContext) -> Distributor

and runs ``jobmon worker --cluster mysite``. Only the loop's thread calls a distributor,
except ``held``, ``capacity`` and ``wake``, which other threads call too.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

ENTRY_POINT_GROUP = "jobmon.distributors"


@dataclass(slots=True, frozen=True)
class ClaimedInstance:
    """One attempt of a task, claimed by this worker: run its command."""

    id: int
    task_id: int
    workflow_id: int
    workflow_run_id: int
    array_id: int
    name: str
    command: str
    cluster_name: str
    resources: Mapping[str, Any]
    concurrency_limit: int  # at most this many of its array run at once

    @classmethod
    def from_wire(cls, item: Mapping[str, Any]) -> ClaimedInstance:
        """Build from a ``ClaimedInstance`` GraphQL object."""
        resources = item.get("resources") or {}
        if isinstance(resources, str):
            resources = json.loads(resources)
        return cls(
            id=int(item["id"]),
            task_id=int(item["taskId"]),
            workflow_id=int(item["workflowId"]),
            workflow_run_id=int(item["workflowRunId"]),
            array_id=int(item["arrayId"]),
            name=str(item["name"]),
            command=str(item["command"]),
            cluster_name=str(item["clusterName"]),
            resources=dict(resources),
            concurrency_limit=int(item["concurrencyLimit"]),
        )


@dataclass(slots=True, frozen=True)
class AdoptedInstance:
    """An instance a stopped worker held, now handed to this one (``adopt``)."""

    id: int
    task_id: int
    workflow_id: int
    status: str  # INSTANTIATED, LAUNCHED, RUNNING, or KILL_SELF (kill it)
    distributor_id: str | None
    hostname: str | None
    notes: Mapping[str, Any] = field(default_factory=dict)  # what the predecessor noted

    @classmethod
    def from_wire(
        cls, item: Mapping[str, Any], notes: Mapping[str, Any] | None = None
    ) -> AdoptedInstance:
        return cls(
            id=int(item["id"]),
            task_id=int(item["taskId"]),
            workflow_id=int(item["workflowId"]),
            status=str(item["status"]),
            distributor_id=item.get("distributorId"),
            hostname=item.get("hostname"),
            notes=dict(notes or {}),
        )


@dataclass(slots=True, frozen=True)
class Launched:
    """An instance went out: where it runs (``running``) or waits in the cluster's queue."""

    instance_id: int
    distributor_id: str
    hostname: str | None = None
    stdout_path: str | None = None
    stderr_path: str | None = None
    running: bool = False  # True: it runs already (a local process)


@dataclass(slots=True, frozen=True)
class Ended:
    """An instance ended, or could not start. ``status`` is what the worker reports:
    DONE, ERROR, RESOURCE_ERROR (with ``resource_kind`` "memory" or "runtime"),
    UNKNOWN_ERROR (retried: the node failed, the worker stopped), ERROR_FATAL (killed on
    request) or NO_DISTRIBUTOR_ID (it never went out)."""

    instance_id: int
    status: str
    exit_code: int | None = None
    error_message: str | None = None
    resource_kind: str | None = None
    max_rss_bytes: int | None = None
    cpu_seconds: float | None = None
    wallclock_seconds: float | None = None


@dataclass(slots=True, frozen=True)
class QueueSpec:
    """A queue (partition) of a cluster and its limits, registered when the worker starts."""

    name: str
    default: bool = False
    max_cores: int | None = None
    max_memory_mb: float | None = None
    max_runtime_seconds: float | None = None


@dataclass(slots=True)
class DistributorContext:
    """What a distributor is made with: the worker's identity and its settings."""

    cluster_name: str
    worker_id: str
    server_url: str  # the GraphQL endpoint, for runners that report from the nodes
    log_dir: Path  # stdout/stderr of the tasks go under here, by workflow id
    parallelism: int | None = None  # local distributors: slots (None: their default)
    options: dict[str, Any] = field(default_factory=dict)  # e.g. {"poll_seconds": 10}
    # Notes kept in the worker's journal on disk, handed to ``adopt`` of the next worker
    # on this host if this one stops before the instance ends (a pid, a job id).
    note: Callable[[int, dict[str, Any]], None] = field(default=lambda instance_id, info: None)
    forget: Callable[[int], None] = field(default=lambda instance_id: None)


@runtime_checkable
class Distributor(Protocol):
    """What the worker loop needs of a place where task instances run."""

    #: The kind of cluster it serves ("slurm", "multiprocess", ...), registered with it.
    kind: str

    def queues(self) -> Sequence[QueueSpec]:
        """The cluster's queues and limits, registered when the worker starts (may be
        empty: the cluster then keeps the queues it has)."""
        ...

    def capacity(self) -> int:
        """How many more instances the worker should claim now (0: none for now)."""
        ...

    def held(self) -> list[int]:
        """Ids of the instances it holds: waiting with it or running."""
        ...

    def submit(self, instances: Sequence[ClaimedInstance]) -> Sequence[Launched | Ended]:
        """Take instances to run. Returns what it can say at once: each one that went out
        (Launched) or could not (Ended); the rest are returned by ``wait`` later."""
        ...

    def wait(self, timeout: float) -> Sequence[Launched | Ended]:
        """Block up to ``timeout`` seconds, or until ``wake``; return what went out or ended
        meanwhile."""
        ...

    def terminate(self, instance_ids: Sequence[int]) -> None:
        """Kill these instances (unknown ids are ignored); ``wait`` returns their ends,
        as ERROR_FATAL "killed on request"."""
        ...

    def adopt(self, instances: Sequence[AdoptedInstance]) -> Sequence[Ended]:
        """Instances a stopped worker held: follow those that still run (or kill those
        whose status is KILL_SELF); return the ends of the others."""
        ...

    def set_lease(self, seconds: float | None) -> None:
        """The server holds this worker's instances for ``seconds`` more unless the worker
        renews its lease (None: it holds none). A distributor whose processes the server
        cannot otherwise stop must stop them before then."""
        ...

    def stop(self) -> None:
        """The worker is stopping: end what it holds (reported by ``wait``) or hand it over
        to a later worker (then ``held`` becomes empty)."""
        ...

    def wake(self) -> None:
        """Make a blocked ``wait`` return now (any thread)."""
        ...

    def close(self) -> None:
        """Release what it holds open; called once, after the last ``wait``."""
        ...


DistributorFactory = Callable[[DistributorContext], Distributor]


def _builtin(kind: str) -> DistributorFactory | None:
    if kind in ("sequential", "multiprocess"):
        from jobmon_client.worker import local

        return local.create
    if kind == "slurm":
        from jobmon_client.slurm import distributor

        return distributor.create
    return None


def installed_distributors() -> dict[str, str]:
    """Distributor kinds found by entry point, with where each comes from."""
    found = {"sequential": "jobmon", "multiprocess": "jobmon", "slurm": "jobmon"}
    for ep in entry_points(group=ENTRY_POINT_GROUP):
        found[ep.name] = ep.value
    return found


def find_distributor(kind: str) -> DistributorFactory:
    """The factory of a distributor kind: an installed plugin, else a built-in one."""
    for ep in entry_points(group=ENTRY_POINT_GROUP, name=kind):
        factory = ep.load()
        if not callable(factory):
            raise TypeError(f"the entry point {ep.value} of distributor '{kind}' is not callable")
        return factory  # type: ignore[no-any-return]
    builtin = _builtin(kind)
    if builtin is None:
        known = ", ".join(sorted(installed_distributors()))
        raise LookupError(
            f"no distributor '{kind}' is installed here (known: {known}); install the package "
            f"that provides it (entry point group '{ENTRY_POINT_GROUP}')"
        )
    return builtin
