"""An example Jobmon distributor: each task instance is a ``subprocess.Popen``.

Installed, it serves ``jobmon worker --cluster popen``. A real site's distributor would
submit to its scheduler in ``submit`` and ask it what ended in ``wait``.
"""

from __future__ import annotations

import subprocess
import threading
from collections.abc import Sequence
from pathlib import Path

from jobmon_client.distributor import (
    AdoptedInstance,
    ClaimedInstance,
    DistributorContext,
    Ended,
    Launched,
    QueueSpec,
)


def create(context: DistributorContext) -> PopenDistributor:
    return PopenDistributor(context.log_dir, context.parallelism or 4)


class PopenDistributor:
    kind = "popen"

    def __init__(self, log_dir: Path, slots: int) -> None:
        self.log_dir, self.slots = log_dir, slots
        self.running: dict[int, subprocess.Popen[bytes]] = {}
        self.killed: dict[int, Ended] = {}  # what a killed instance is reported as
        self.woken = threading.Event()

    def queues(self) -> Sequence[QueueSpec]:
        return [QueueSpec("popen.q", default=True, max_cores=self.slots)]

    def capacity(self) -> int:
        return self.slots - len(self.running)

    def held(self) -> list[int]:
        return list(self.running.copy())

    def submit(self, instances: Sequence[ClaimedInstance]) -> list[Launched | Ended]:
        launched: list[Launched | Ended] = []
        for instance in instances:
            out = self.log_dir / str(instance.workflow_id) / f"{instance.id}.out"
            out.parent.mkdir(parents=True, exist_ok=True)
            with open(out, "wb") as stdout, open(out.with_suffix(".err"), "wb") as stderr:
                process = subprocess.Popen(
                    instance.command, shell=True, stdout=stdout, stderr=stderr
                )
            self.running[instance.id] = process
            launched.append(
                Launched(instance.id, str(process.pid), stdout_path=str(out), running=True)
            )
        return launched

    def wait(self, timeout: float) -> list[Launched | Ended]:
        self.woken.wait(min(timeout, 0.05))
        self.woken.clear()
        ended: list[Launched | Ended] = []
        for instance_id, process in list(self.running.items()):
            code = process.poll()
            if code is None:
                continue
            del self.running[instance_id]
            if instance_id in self.killed:
                ended.append(self.killed.pop(instance_id))
            elif code == 0:
                ended.append(Ended(instance_id, "DONE", exit_code=0))
            else:
                ended.append(Ended(instance_id, "ERROR", exit_code=code))
        return ended

    def terminate(self, instance_ids: Sequence[int], status: str = "ERROR_FATAL") -> None:
        for instance_id in instance_ids:
            if instance_id in self.running:
                self.killed[instance_id] = Ended(instance_id, status, error_message="killed")
                self.running[instance_id].kill()

    def adopt(self, instances: Sequence[AdoptedInstance]) -> list[Ended]:
        # Processes of a stopped worker are not children here: report them for a retry.
        return [Ended(i.id, "UNKNOWN_ERROR", error_message="worker restarted") for i in instances]

    def set_lease(self, seconds: float | None) -> None:
        pass  # tasks that may outlive their worker must be stopped before this runs out

    def stop(self) -> None:
        self.terminate(list(self.running), "UNKNOWN_ERROR")  # retried by the next worker

    def wake(self) -> None:
        self.woken.set()

    def close(self) -> None:
        pass
