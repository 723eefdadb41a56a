"""What became of Slurm jobs: reading squeue, scontrol, sacct and the jobcomp file.

Jobs are named as Jobmon follows them: "42_3" for element 3 of array job 42, "42" for a
job that is not an array. The sources differ in what they can tell (Slurm 22.05):

- ``squeue`` lists jobs until ``MinJobAge`` after they end, pending elements collapsed
  ("42_[4-9%2]"), and may ignore its filters: select the jobs you follow by id.
- ``scontrol show job -o ARRAY_ID`` gives each element's state and exit code, for as long
  as ``squeue`` lists it.
- ``sacct`` without slurmdbd (``-c``) reads the jobcomp file and names array elements by
  their raw job ids, which cannot be mapped back to elements: the array job's own id is
  the raw id of one of its elements, so ``sacct -c -j 42_3`` answers for that element
  instead. ``parse_jobcomp`` reads the file itself, whose lines carry the array fields.
- ``sacct`` with slurmdbd gives "42_2|45|COMPLETED|0:0" (jobid, raw id, state, exit code).
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from jobmon_client.slurm.errors import Run, SlurmError, output_of, run_command

_COLLAPSED = re.compile(r"^(\d+)_\[([^\]]+)\]$")
_RANGE = re.compile(r"^(\d+)(?:-(\d+)(?::(\d+))?)?$")
_EXIT = re.compile(r"^(\d+):(\d+)$")
_FIELD = re.compile(r"(?:^|\s)([A-Za-z][\w/:]*)=(\S*)")

#: States after which the job will not run again (unless someone requeues it by hand).
FINISHED_STATES = frozenset(
    {
        "COMPLETED",
        "FAILED",
        "OUT_OF_MEMORY",
        "TIMEOUT",
        "DEADLINE",
        "CANCELLED",
        "NODE_FAIL",
        "PREEMPTED",
        "BOOT_FAIL",
        "REVOKED",
    }
)
_LOST = frozenset({"CANCELLED", "NODE_FAIL", "PREEMPTED", "BOOT_FAIL", "REVOKED"})


@dataclass(frozen=True)
class JobState:
    """One job or array element as Slurm reports it."""

    job_id: str  # "42_3" for an array element, "42" otherwise
    state: str  # COMPLETED, FAILED, OUT_OF_MEMORY, TIMEOUT, CANCELLED, PENDING, RUNNING, ...
    exit_code: int | None  # None when the source does not say
    signal: int | None


def normalize_state(text: str) -> str:
    """The state's name alone: sacct prints "CANCELLED by 0" for a job someone cancelled."""
    words = text.strip().split()
    return words[0].upper() if words else ""


def expand_task_ids(spec: str) -> list[int]:
    """Array indexes from Slurm's notation: "4", "4-9", "4,6-9", "0-15:4", with "%N" dropped."""
    indexes: list[int] = []
    for part in spec.partition("%")[0].split(","):
        match = _RANGE.match(part.strip())
        if not match:
            raise SlurmError(f"{spec!r} is not a list of array indexes such as '4,6-9%2'")
        first = int(match.group(1))
        last = int(match.group(2)) if match.group(2) else first
        indexes.extend(range(first, last + 1, int(match.group(3) or 1)))
    return indexes


def expand_job_id(job_id: str) -> list[str]:
    """One id per element: "42_[4-6]" -> ["42_4", "42_5", "42_6"]; others as they are."""
    match = _COLLAPSED.match(job_id)
    if not match:
        return [job_id]
    return [f"{match.group(1)}_{index}" for index in expand_task_ids(match.group(2))]


def _exit(text: str) -> tuple[int | None, int | None]:
    match = _EXIT.match(text.strip())
    return (int(match.group(1)), int(match.group(2))) if match else (None, None)


# ---- squeue -------------------------------------------------------------------------


def squeue_command(user: str) -> list[str]:
    return ["squeue", "-h", "-u", user, "-t", "all", "-o", "%i|%T"]


def parse_squeue(text: str) -> dict[str, JobState]:
    """States from ``squeue -h -o "%i|%T"``, one per element; squeue has no exit codes."""
    states: dict[str, JobState] = {}
    for line in _lines(text):
        fields = line.split("|")
        if len(fields) != 2:
            raise SlurmError(f"squeue printed {line!r}, expected 'jobid|state'")
        state = normalize_state(fields[1])
        for job_id in expand_job_id(fields[0].strip()):
            states[job_id] = JobState(job_id, state, None, None)
    return states


def read_squeue(user: str, run: Run = run_command) -> dict[str, JobState]:
    return parse_squeue(output_of(squeue_command(user), run))


# ---- scontrol and the jobcomp file --------------------------------------------------


def scontrol_command(job_id: str) -> list[str]:
    """``scontrol show job`` for one job; for an array job id it lists every element."""
    return ["scontrol", "show", "job", "-o", job_id]


def parse_scontrol_show_job(text: str) -> list[JobState]:
    """States from ``scontrol show job -o``, one line per job or element.

    An array's pending elements share one line ("ArrayTaskId=2-5%2"), expanded here.
    """
    return [state for line in _lines(text) for state in _record_states(line)]


def read_job_states(job_id: str, run: Run = run_command) -> list[JobState]:
    """What ``scontrol`` knows of ``job_id``; nothing once Slurm has forgotten the job."""
    try:
        return parse_scontrol_show_job(output_of(scontrol_command(job_id), run))
    except SlurmError as exc:
        if "Invalid job id" in str(exc):
            return []
        raise


def parse_jobcomp(text: str) -> dict[str, JobState]:
    """States from a ``jobcomp/filetxt`` file (``JobCompLoc``), by element id.

    Its lines carry ``ArrayJobId`` and ``ArrayTaskId`` for elements that started. An array
    cancelled before any element started has one line under its array job id, without
    them. A job that ran again (requeued) keeps its last line.
    """
    states: dict[str, JobState] = {}
    for line in _lines(text):
        for state in _record_states(line):
            states[state.job_id] = state
    return states


def _record_states(line: str) -> Iterator[JobState]:
    fields: dict[str, str] = {}
    for key, value in _FIELD.findall(line):
        fields.setdefault(key, value)  # the first is Slurm's; later ones may be in a command
    if "JobId" not in fields or "JobState" not in fields:
        raise SlurmError(f"expected a job record with JobId and JobState, got {line[:200]!r}")
    state = normalize_state(fields["JobState"])
    exit_code, signal = _exit(fields.get("ExitCode", ""))
    array_job, task_ids = fields.get("ArrayJobId"), fields.get("ArrayTaskId")
    if array_job and task_ids and task_ids != "N/A":
        for index in expand_task_ids(task_ids):
            yield JobState(f"{array_job}_{index}", state, exit_code, signal)
    else:
        yield JobState(fields["JobId"], state, exit_code, signal)


# ---- sacct --------------------------------------------------------------------------


def sacct_command(job_ids: Sequence[str], accounting: bool = False) -> list[str]:
    """``sacct`` for ``job_ids``, one line per job (or element).

    Without accounting (``-c``, the jobcomp file) pass raw job ids: an array element id
    such as "42_3" would match raw job 42, another element. With slurmdbd
    (``accounting=True``) array job ids and element ids both work.
    """
    if not job_ids:
        raise ValueError("sacct needs at least one job id; without -j it lists every job")
    ids = ",".join(job_ids)
    if accounting:
        return ["sacct", "-X", "-P", "-n", "-o", "jobid,jobidraw,state,exitcode", "-j", ids]
    return ["sacct", "-c", "-P", "-n", "-o", "jobid,state,exitcode", "-j", ids]


def parse_sacct(text: str) -> dict[str, JobState]:
    """States from ``sacct -P -n``: "jobid|state|exitcode" or "jobid|jobidraw|state|exitcode".

    Step lines ("45.batch") are skipped. In the three-field form (``sacct -c``) the keys are
    raw job ids, see the module's docstring.
    """
    states: dict[str, JobState] = {}
    for line in _lines(text):
        fields = line.split("|")
        if len(fields) == 3:
            job_id, state, exit_text = fields
        elif len(fields) == 4:
            job_id, _, state, exit_text = fields
        else:
            raise SlurmError(
                f"sacct printed {line!r}, expected 'jobid|state|exitcode' or "
                "'jobid|jobidraw|state|exitcode'"
            )
        job_id = job_id.strip()
        if "." in job_id:
            continue
        exit_code, signal = _exit(exit_text)
        for element in expand_job_id(job_id):
            states[element] = JobState(element, normalize_state(state), exit_code, signal)
    return states


def read_sacct(
    job_ids: Sequence[str], accounting: bool = False, run: Run = run_command
) -> dict[str, JobState]:
    return parse_sacct(output_of(sacct_command(job_ids, accounting), run))


# ---- what it means for a task instance ----------------------------------------------


def is_finished(state: str) -> bool:
    """Whether a job in ``state`` has ended and will not run again."""
    return normalize_state(state) in FINISHED_STATES


def settle(state: JobState) -> tuple[str, str | None] | None:
    """The task-instance status (and the resource that ran out) for a job that ended.

    None while the job has not ended, and for COMPLETED: the runner inside the job
    reports DONE itself.
    """
    name = normalize_state(state.state)
    if name == "OUT_OF_MEMORY":
        return ("RESOURCE_ERROR", "memory")
    if name in ("TIMEOUT", "DEADLINE"):
        return ("RESOURCE_ERROR", "runtime")
    if name in _LOST:
        return ("UNKNOWN_ERROR", None)
    if name == "FAILED":
        return ("ERROR", None)
    return None


def describe(state: JobState) -> str:
    """A sentence for the task instance's error log."""
    name = normalize_state(state.state)
    job = f"Slurm job {state.job_id}"
    if name == "OUT_OF_MEMORY":
        return f"{job} ran out of memory (OUT_OF_MEMORY)"
    if name == "TIMEOUT":
        return f"{job} ran out of runtime (TIMEOUT)"
    if name == "DEADLINE":
        return f"{job} reached its deadline (DEADLINE)"
    if name == "NODE_FAIL":
        return f"{job} ended because its node failed (NODE_FAIL)"
    if name == "BOOT_FAIL":
        return f"{job} ended because its node failed to boot (BOOT_FAIL)"
    if name == "FAILED":
        detail = [
            f"exit code {state.exit_code}" if state.exit_code else "",
            f"signal {state.signal}" if state.signal else "",
        ]
        said = " and ".join(part for part in detail if part)
        return f"{job} FAILED" + (f" with {said}" if said else "")
    return f"{job} was {name}"


def _lines(text: str) -> Iterator[str]:
    for line in text.splitlines():
        if line.strip():
            yield line.strip()
