"""Reading Slurm's text output and building its command lines, without a Slurm.

The samples are what Slurm 22.05 printed on the one-node test cluster (see
scripts/slurm/slurm.conf), plus lines of the shapes larger clusters print.
"""

from __future__ import annotations

import re
import subprocess
from collections.abc import Sequence

import pytest
from jobmon_client import units
from jobmon_client.slurm import accounting, partitions, submit
from jobmon_client.slurm.accounting import JobState
from jobmon_client.slurm.errors import SlurmError, output_of
from jobmon_client.slurm.partitions import Partition

# ---- fakes for the injectable `run` -------------------------------------------------


class FakeRun:
    """Answers each command by its first words; records what was run."""

    def __init__(self, answers: dict[tuple[str, ...], tuple[int, str, str]]) -> None:
        self.answers = answers
        self.calls: list[list[str]] = []

    def __call__(self, argv: Sequence[str]) -> subprocess.CompletedProcess[str]:
        self.calls.append(list(argv))
        for prefix, (code, out, err) in self.answers.items():
            if tuple(argv[: len(prefix)]) == prefix:
                return subprocess.CompletedProcess(list(argv), code, out, err)
        raise AssertionError(f"unexpected command {argv}")


# ---- units --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("5", 300),  # Slurm: a bare number is minutes
        ("30:00", 1800),  # MM:SS
        ("1:00:00", 3600),
        ("2-00", 2 * 86400),
        ("1-12:30", 86400 + 12 * 3600 + 30 * 60),
        ("2-00:00:00", 2 * 86400),
        ("7-01:02:03", 7 * 86400 + 3723),
        (" 00:01:00 ", 60),
    ],
)
def test_parse_slurm_time(text: str, seconds: int) -> None:
    assert units.parse_slurm_time(text) == seconds


@pytest.mark.parametrize("text", ["infinite", "UNLIMITED", "Partition_Limit", "NONE"])
def test_parse_slurm_time_without_limit(text: str) -> None:
    assert units.parse_slurm_time(text) is None


@pytest.mark.parametrize("text", ["", "1h", "1:2:3:4", "-5", "1-", "soon"])
def test_parse_slurm_time_refuses(text: str) -> None:
    with pytest.raises(ValueError, match="not a Slurm time limit"):
        units.parse_slurm_time(text)


@pytest.mark.parametrize(
    ("value", "mb"),
    [
        ("512M", 512),
        ("512MB", 512),
        ("8G", 8192),
        ("8g", 8192),
        ("1.5GB", 1536),
        ("1.5GiB", 1536),
        ("2T", 2 * 1024 * 1024),
        ("2048K", 2),
        ("2", 2048),  # a number, even in a string, is GB
        (2, 2048),
        (0.5, 512),
        (" 4 G ", 4096),
    ],
)
def test_memory_mb(value: object, mb: float) -> None:
    assert units.memory_mb(value) == mb


@pytest.mark.parametrize("value", ["12X", "", "G", "1.5.5G", "512B", "-1G", "1e3M", True, None])
def test_memory_mb_refuses_what_is_not_a_size(value: object) -> None:
    with pytest.raises(ValueError, match=r"memory .* is not a size such as '512M'") as error:
        units.memory_mb(value)
    assert repr(value) in str(error.value)


@pytest.mark.parametrize("value", [0, "0G", 0.0, float("inf"), float("nan"), -2])
def test_memory_mb_refuses_zero_and_worse(value: object) -> None:
    with pytest.raises(ValueError, match="must be more than 0") as error:
        units.memory_mb(value)
    assert repr(value) in str(error.value)


@pytest.mark.parametrize(
    ("value", "seconds"),
    [
        (90, 90),
        (2.5, 2.5),
        ("90", 90),
        ("90s", 90),
        ("30m", 1800),
        ("30M", 1800),
        ("2h", 7200),
        ("1.5h", 5400),
        ("1d", 86400),
        ("10:30", 630),  # MM:SS
        ("1:30:00", 5400),
        ("1-00", 86400),  # D-HH
        ("1-02:30", 86400 + 2 * 3600 + 30 * 60),  # D-HH:MM
        ("2-12:00:00", 2 * 86400 + 12 * 3600),  # D-HH:MM:SS
    ],
)
def test_runtime_seconds(value: object, seconds: float) -> None:
    assert units.runtime_seconds(value) == seconds


@pytest.mark.parametrize("value", ["abc", "1h30m", "1:2:3:4", "-5", "1-", "", True, [60]])
def test_runtime_seconds_refuses_what_is_not_a_duration(value: object) -> None:
    with pytest.raises(ValueError, match=r"runtime .* is not a duration such as '90s'") as error:
        units.runtime_seconds(value)
    assert repr(value) in str(error.value)


@pytest.mark.parametrize("value", [0, "0s", "0:00", float("inf"), -60])
def test_runtime_seconds_refuses_zero_and_worse(value: object) -> None:
    with pytest.raises(ValueError, match="must be more than 0"):
        units.runtime_seconds(value)


# ---- partitions ---------------------------------------------------------------------

SINFO_TEST_CLUSTER = "debug*|8|4000|infinite|up\nbigmem|8|4000|infinite|up\n"

SINFO_LARGE_CLUSTER = """\
all.q*|32|257000|3-00:00:00|up
all.q*|64|1031000|3-00:00:00|up
long.q|32|257000|16-00:00:00|up
i.q|8+|64000+|1:00:00|up
short|4|16000|30:00|up
quick|2|8000|5|up
maint|32|257000|infinite|down
retired|32|257000|UNLIMITED|inact
gpu|16|128000|2-00|drain
"""

SCONTROL_PARTITIONS = (
    "PartitionName=debug AllowGroups=ALL AllowAccounts=ALL AllowQos=ALL AllocNodes=ALL "
    "Default=YES QoS=N/A DefaultTime=NONE DisableRootJobs=NO ExclusiveUser=NO GraceTime=0 "
    "Hidden=NO MaxNodes=UNLIMITED MaxTime=UNLIMITED MinNodes=0 LLN=NO MaxCPUsPerNode=UNLIMITED "
    "Nodes=localhost PriorityJobFactor=1 PriorityTier=1 RootOnly=NO ReqResv=NO OverSubscribe=NO "
    "OverTimeLimit=NONE PreemptMode=OFF State=UP TotalCPUs=8 TotalNodes=1 "
    "SelectTypeParameters=NONE JobDefaults=(null) DefMemPerNode=UNLIMITED MaxMemPerNode=600 "
    "TRES=cpu=8,mem=4000M,node=1,billing=8\n"
    "PartitionName=bigmem AllowGroups=ALL AllowAccounts=ALL AllowQos=ALL AllocNodes=ALL "
    "Default=NO QoS=N/A DefaultTime=NONE DisableRootJobs=NO ExclusiveUser=NO GraceTime=0 "
    "Hidden=NO MaxNodes=UNLIMITED MaxTime=UNLIMITED MinNodes=0 LLN=NO MaxCPUsPerNode=UNLIMITED "
    "Nodes=localhost PriorityJobFactor=1 PriorityTier=1 RootOnly=NO ReqResv=NO OverSubscribe=NO "
    "OverTimeLimit=NONE PreemptMode=OFF State=UP TotalCPUs=8 TotalNodes=1 "
    "SelectTypeParameters=NONE JobDefaults=(null) DefMemPerNode=UNLIMITED "
    "MaxMemPerNode=UNLIMITED TRES=cpu=8,mem=4000M,node=1,billing=8\n"
)

SCONTROL_CONFIG = """\
Configuration data as of 2026-11-26T23:58:00
AccountingStorageBackupHost = (null)
AccountingStorageType   = accounting_storage/none
JobCompLoc              = /var/log/slurm/jobcomp.log
MaxArraySize            = 1001
MaxJobCount             = 10000
MinJobAge               = 300 sec
"""


def test_sinfo_command_marks_the_default_and_does_not_group_nodes() -> None:
    argv = partitions.sinfo_command()
    assert argv[0] == "sinfo" and "-h" in argv and "-e" in argv
    assert argv[argv.index("-o") + 1] == "%P|%c|%m|%l|%a"


def test_parse_sinfo_of_the_test_cluster() -> None:
    assert partitions.parse_sinfo(SINFO_TEST_CLUSTER) == [
        Partition("debug", True, 8, 4000, None),
        Partition("bigmem", False, 8, 4000, None),
    ]


def test_parse_sinfo_of_a_large_cluster() -> None:
    found = {p.name: p for p in partitions.parse_sinfo(SINFO_LARGE_CLUSTER)}
    assert set(found) == {"all.q", "long.q", "i.q", "short", "quick"}  # only those up
    # two node groups: the larger of each limit
    assert found["all.q"] == Partition("all.q", True, 64, 1031000, 3 * 86400)
    assert found["long.q"].max_runtime_s == 16 * 86400
    assert (found["i.q"].max_cores, found["i.q"].max_memory_mb) == (8, 64000)
    assert found["short"].max_runtime_s == 1800
    assert found["quick"].max_runtime_s == 300
    assert [p.name for p in found.values() if p.default] == ["all.q"]


def test_parse_sinfo_with_r_has_no_default() -> None:
    found = partitions.parse_sinfo("debug|8|4000|infinite|up\nbigmem|8|4000|infinite|up")
    assert [p.default for p in found] == [False, False]


def test_parse_sinfo_unlimited_time_wins_across_lines() -> None:
    found = partitions.parse_sinfo("p|4|1000|1:00:00|up\np|4|1000|infinite|up\n")
    assert found == [Partition("p", False, 4, 1000, None)]


@pytest.mark.parametrize("line", ["debug*|8|4000|up", "debug*|8|4000|later|up"])
def test_parse_sinfo_refuses_lines_it_cannot_read(line: str) -> None:
    with pytest.raises(SlurmError, match="sinfo printed"):
        partitions.parse_sinfo(line)


def test_partition_caps_lower_the_limits() -> None:
    caps = partitions.parse_scontrol_partitions(SCONTROL_PARTITIONS)
    assert caps["debug"]["MaxMemPerNode"] == "600"
    assert caps["bigmem"]["TRES"] == "cpu=8,mem=4000M,node=1,billing=8"
    capped = partitions.apply_partition_caps(partitions.parse_sinfo(SINFO_TEST_CLUSTER), caps)
    assert capped == [
        Partition("debug", True, 8, 600, None),
        Partition("bigmem", False, 8, 4000, None),
    ]
    time_capped = partitions.apply_partition_caps(
        [Partition("p", False, 32, 1000, None)],
        {"p": {"MaxTime": "2-00:00:00", "MaxCPUsPerNode": "16", "MaxMemPerNode": "UNLIMITED"}},
    )
    assert time_capped == [Partition("p", False, 16, 1000, 2 * 86400)]


def test_read_partitions_runs_sinfo_and_scontrol() -> None:
    run = FakeRun(
        {
            ("sinfo",): (0, SINFO_TEST_CLUSTER, ""),
            ("scontrol", "show", "partition"): (0, SCONTROL_PARTITIONS, ""),
        }
    )
    found = partitions.read_partitions(run=run)
    assert [(p.name, p.max_memory_mb) for p in found] == [("debug", 600), ("bigmem", 4000)]
    assert run.calls[0] == partitions.sinfo_command()


def test_read_partitions_reports_stderr_when_sinfo_fails() -> None:
    stderr = "sinfo: error: Unable to contact slurm controller (connect failure)\n"
    run = FakeRun({("sinfo",): (1, "", stderr)})
    with pytest.raises(SlurmError, match=r"sinfo .*exit status 1: .*Unable to contact"):
        partitions.read_partitions(run=run)


def test_max_array_size() -> None:
    assert partitions.parse_max_array_size(SCONTROL_CONFIG) == 1001
    assert partitions.parse_max_array_size(SCONTROL_CONFIG.replace("1001", "40001")) == 40001
    without = "\n".join(line for line in SCONTROL_CONFIG.splitlines() if "MaxArray" not in line)
    assert partitions.parse_max_array_size(without) == 1001
    run = FakeRun({("scontrol", "show", "config"): (0, SCONTROL_CONFIG.replace("1001", "77"), "")})
    assert partitions.read_max_array_size(run=run) == 77


def test_output_of_a_command_that_is_not_installed() -> None:
    def missing(argv: Sequence[str]) -> subprocess.CompletedProcess[str]:
        raise FileNotFoundError(argv[0])

    with pytest.raises(SlurmError, match="sinfo is not installed"):
        output_of(["sinfo"], missing)


# ---- submit -------------------------------------------------------------------------


def test_sbatch_args_for_every_key() -> None:
    args = submit.sbatch_resource_args(
        {
            "queue": "all.q",
            "project": "proj_lsae",
            "cores": 4,
            "memory": "8G",
            "runtime": "2h",
            "constraints": "avx2&ib",
            "gpus": 2,
            "sbatch": ["--exclusive", "--qos=high"],
            "stdout": "/ignored/here",
        }
    )
    assert args == [
        "--partition=all.q",
        "--account=proj_lsae",
        "--cpus-per-task=4",
        "--mem=8192M",
        "--time=02:00:00",
        "--constraint=avx2&ib",
        "--gres=gpu:2",
        "--exclusive",
        "--qos=high",
    ]


def test_sbatch_args_leave_out_what_is_not_asked() -> None:
    assert submit.sbatch_resource_args({}) == []
    assert submit.sbatch_resource_args({"gpus": 0, "memory": None}) == []


@pytest.mark.parametrize(
    ("memory", "option"),
    [
        ("512M", "--mem=512M"),
        ("8G", "--mem=8192M"),
        ("1.5GB", "--mem=1536M"),
        ("2T", "--mem=2097152M"),
        (2, "--mem=2048M"),
        (0.3, "--mem=308M"),  # 307.2 MiB, rounded up
        ("1000K", "--mem=1M"),
        ("1g", "--mem=1024M"),
    ],
)
def test_sbatch_memory(memory: object, option: str) -> None:
    assert submit.sbatch_resource_args({"memory": memory}) == [option]


@pytest.mark.parametrize(
    ("runtime", "option"),
    [
        (3600, "--time=01:00:00"),
        (1, "--time=00:01:00"),  # Slurm counts minutes: at least one
        (61, "--time=00:02:00"),  # rounded up
        ("90s", "--time=00:02:00"),
        ("30m", "--time=00:30:00"),
        ("2h", "--time=02:00:00"),
        ("1d", "--time=1-00:00:00"),
        ("1:30:00", "--time=01:30:00"),
        ("10:30", "--time=00:11:00"),
        ("1-00", "--time=1-00:00:00"),
        ("2-12:00:00", "--time=2-12:00:00"),
        ("23:59:30", "--time=1-00:00:00"),
        (40 * 86400, "--time=40-00:00:00"),
    ],
)
def test_sbatch_runtime(runtime: object, option: str) -> None:
    assert submit.sbatch_resource_args({"runtime": runtime}) == [option]


def test_sbatch_pass_through_as_a_mapping() -> None:
    args = submit.sbatch_resource_args(
        {
            "sbatch": {
                "qos": "high",
                "exclusive": True,
                "requeue": False,
                "reservation": None,
                "mail_type": "END",
                "nice": 10,
            }
        }
    )
    assert args == ["--qos=high", "--exclusive", "--mail-type=END", "--nice=10"]


@pytest.mark.parametrize(
    ("resources", "message"),
    [
        ({"memory": "12X"}, "memory '12X' is not a size"),
        ({"runtime": "soon"}, "runtime 'soon' is not a duration"),
        ({"cores": 0}, "cores 0 must be a whole number of at least 1"),
        ({"cores": "4"}, "cores '4' must be"),
        ({"gpus": -1}, "gpus -1 must be"),
        ({"sbatch": "--exclusive"}, "sbatch options '--exclusive' must be a list"),
        ({"sbatch": ["--exclusive", 3]}, "must be a list"),
        ({"sbatch": {"qos": 1.5}}, "sbatch option 'qos' has the value 1.5"),
    ],
)
def test_sbatch_args_refuse_bad_values(resources: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        submit.sbatch_resource_args(resources)


@pytest.mark.parametrize(
    ("count", "limit", "spec"),
    [(10, None, "0-9"), (10, 3, "0-9%3"), (10, 10, "0-9"), (10, 50, "0-9"), (1, None, "0-0")],
)
def test_array_spec(count: int, limit: int | None, spec: str) -> None:
    assert submit.array_spec(count, limit) == spec


def test_array_spec_refuses_empty_arrays() -> None:
    with pytest.raises(ValueError, match="at least one element"):
        submit.array_spec(0, None)
    with pytest.raises(ValueError, match="at least 1"):
        submit.array_spec(5, 0)


@pytest.mark.parametrize(
    ("count", "max_size", "chunks"),
    [
        (0, 1001, []),
        (1, 1001, [1]),
        (1001, 1001, [1001]),  # indexes 0..1000 are all allowed
        (1002, 1001, [1001, 1]),
        (2500, 1001, [1001, 1001, 498]),
        (7, 3, [3, 3, 1]),
    ],
)
def test_chunk_sizes(count: int, max_size: int, chunks: list[int]) -> None:
    assert submit.chunk_sizes(count, max_size) == chunks
    assert sum(chunks) == count
    assert all(submit.array_spec(size).endswith(f"-{size - 1}") for size in chunks)


def test_parse_sbatch_parsable() -> None:
    assert submit.parse_sbatch_parsable("12345\n") == "12345"
    assert submit.parse_sbatch_parsable("12345;jobmon-test\n") == "12345"
    for text in ("", "Submitted batch job 12345", "sbatch: error: Batch job submission failed"):
        with pytest.raises(SlurmError, match="expected a job id"):
            submit.parse_sbatch_parsable(text)


# ---- accounting: squeue -------------------------------------------------------------

# While array 1 ran (0-5%2), with another user's jobs that squeue listed all the same.
SQUEUE_RUNNING = """\
1_[2-5%2]|PENDING
1_0|RUNNING
1_1|RUNNING
77|RUNNING
80_[4,6-9%2]|PENDING
81_[5]|PENDING
"""

# After the jobs ended, within MinJobAge.
SQUEUE_ENDED = """\
9_[0-3]|CANCELLED
1_4|COMPLETED
1_5|COMPLETED
1_2|COMPLETED
1_0|COMPLETED
1_1|COMPLETED
1_3|FAILED
7|OUT_OF_MEMORY
8|TIMEOUT
"""


def test_squeue_command() -> None:
    assert accounting.squeue_command("alice") == [
        "squeue",
        "-h",
        "-u",
        "alice",
        "-t",
        "all",
        "-o",
        "%i|%T",
    ]


def test_parse_squeue_expands_collapsed_arrays() -> None:
    states = accounting.parse_squeue(SQUEUE_RUNNING)
    assert [states[f"1_{i}"].state for i in range(6)] == ["RUNNING"] * 2 + ["PENDING"] * 4
    assert sorted(k for k in states if k.startswith("80_")) == [
        "80_4",
        "80_6",
        "80_7",
        "80_8",
        "80_9",
    ]
    assert states["81_5"] == JobState("81_5", "PENDING", None, None)
    assert "81_[5]" not in states and "1_[2-5%2]" not in states
    assert states["77"].exit_code is None


def test_parse_squeue_is_filtered_by_the_caller() -> None:
    followed = ["1_3", "7", "8", "9_2", "12_0"]
    states = accounting.parse_squeue(SQUEUE_ENDED)
    seen = {job_id: states[job_id].state for job_id in followed if job_id in states}
    assert seen == {"1_3": "FAILED", "7": "OUT_OF_MEMORY", "8": "TIMEOUT", "9_2": "CANCELLED"}


def test_parse_squeue_refuses_other_formats() -> None:
    with pytest.raises(SlurmError, match=re.escape("expected 'jobid|state'")):
        accounting.parse_squeue("JOBID PARTITION NAME USER ST TIME NODES NODELIST(REASON)")


def test_expand_task_ids() -> None:
    assert accounting.expand_task_ids("4,6-9%2") == [4, 6, 7, 8, 9]
    assert accounting.expand_task_ids("0-15:4") == [0, 4, 8, 12]
    assert accounting.expand_task_ids("5") == [5]
    with pytest.raises(SlurmError, match="array indexes"):
        accounting.expand_task_ids("a-b")


# ---- accounting: scontrol and jobcomp ----------------------------------------------

_TAIL = (
    " Dependency=(null) Requeue=1 Restarts=0 BatchFlag=1 Reboot=0 ExitCode={exit} "
    "RunTime=00:00:03 TimeLimit=UNLIMITED TimeMin=N/A Partition=debug "
    "AllocNode:Sid=localhost:18572 NodeList=localhost NumNodes=1 NumCPUs=1 CPUs/Task=1 "
    "ReqB:S:C:T=0:0:*:* TRES=cpu=1,mem=50M,node=1,billing=1 Socks/Node=* "
    "NtasksPerN:B:S:C=0:0:*:* MinMemoryNode=50M Command=(null) WorkDir=/tmp/probe "
    "StdErr=/dev/null StdIn=/dev/null StdOut=/dev/null Power= "
)


def _scontrol_line(head: str, state: str, reason: str, exit_code: str) -> str:
    return (
        f"{head} JobName=wrap UserId=root(0) GroupId=root(0) MCS_label=N/A Priority=4294901759 "
        f"Nice=0 Account=(null) QOS=(null) JobState={state} Reason={reason}"
        + _TAIL.format(exit=exit_code)
    )


SCONTROL_ARRAY_PENDING = "\n".join(
    [
        _scontrol_line(
            "JobId=1 ArrayJobId=1 ArrayTaskId=2-5%2 ArrayTaskThrottle=2",
            "PENDING",
            "JobArrayTaskLimit",
            "0:0",
        ),
        _scontrol_line(
            "JobId=3 ArrayJobId=1 ArrayTaskId=1 ArrayTaskThrottle=2", "RUNNING", "None", "0:0"
        ),
        _scontrol_line(
            "JobId=2 ArrayJobId=1 ArrayTaskId=0 ArrayTaskThrottle=2", "RUNNING", "None", "0:0"
        ),
    ]
)

SCONTROL_ARRAY_ENDED = "\n".join(
    [
        _scontrol_line(
            "JobId=1 ArrayJobId=1 ArrayTaskId=5 ArrayTaskThrottle=2", "COMPLETED", "None", "0:0"
        ),
        _scontrol_line(
            "JobId=5 ArrayJobId=1 ArrayTaskId=3 ArrayTaskThrottle=2",
            "FAILED",
            "NonZeroExitCode",
            "3:0",
        ),
        _scontrol_line(
            "JobId=6 ArrayJobId=1 ArrayTaskId=4 ArrayTaskThrottle=2",
            "OUT_OF_MEMORY",
            "OutOfMemory",
            "0:125",
        ),
        _scontrol_line(
            "JobId=4 ArrayJobId=1 ArrayTaskId=2 ArrayTaskThrottle=2", "TIMEOUT", "TimeLimit", "0:15"
        ),
    ]
)


def test_scontrol_command() -> None:
    assert accounting.scontrol_command("42") == ["scontrol", "show", "job", "-o", "42"]


def test_parse_scontrol_expands_pending_elements() -> None:
    states = {s.job_id: s for s in accounting.parse_scontrol_show_job(SCONTROL_ARRAY_PENDING)}
    assert sorted(states) == ["1_0", "1_1", "1_2", "1_3", "1_4", "1_5"]
    assert states["1_4"].state == "PENDING"
    assert states["1_0"].state == "RUNNING"


def test_parse_scontrol_of_ended_elements() -> None:
    states = {s.job_id: s for s in accounting.parse_scontrol_show_job(SCONTROL_ARRAY_ENDED)}
    # raw job 1 is element 5, not the array as a whole
    assert states["1_5"] == JobState("1_5", "COMPLETED", 0, 0)
    assert states["1_3"] == JobState("1_3", "FAILED", 3, 0)
    assert states["1_4"] == JobState("1_4", "OUT_OF_MEMORY", 0, 125)
    assert states["1_2"] == JobState("1_2", "TIMEOUT", 0, 15)
    assert "1" not in states


def test_parse_scontrol_of_a_job_that_is_not_an_array() -> None:
    line = _scontrol_line("JobId=8", "TIMEOUT", "TimeLimit", "0:15")
    assert accounting.parse_scontrol_show_job(line + "\n") == [JobState("8", "TIMEOUT", 0, 15)]


def test_parse_scontrol_refuses_what_is_not_a_job_record() -> None:
    with pytest.raises(SlurmError, match="JobId and JobState"):
        accounting.parse_scontrol_show_job("No jobs in the system")


def test_read_job_states_after_slurm_forgot_the_job() -> None:
    gone = FakeRun({("scontrol",): (1, "", "slurm_load_jobs error: Invalid job id specified\n")})
    assert accounting.read_job_states("42", run=gone) == []
    down = FakeRun({("scontrol",): (1, "", "slurm_load_jobs error: Unable to contact slurm")})
    with pytest.raises(SlurmError, match="Unable to contact"):
        accounting.read_job_states("42", run=down)
    known = FakeRun({("scontrol",): (0, SCONTROL_ARRAY_ENDED, "")})
    assert len(accounting.read_job_states("1", run=known)) == 4
    assert known.calls == [["scontrol", "show", "job", "-o", "1"]]


JOBCOMP = """\
JobId=2 UserId=root(0) GroupId=root(0) Name=wrap JobState=COMPLETED Partition=debug TimeLimit=525600 StartTime=2026-11-26T23:58:45 EndTime=2026-11-26T23:58:48 NodeList=localhost NodeCnt=1 ProcCnt=1 WorkDir=/tmp/slurmprobe ReservationName= Tres=cpu=1,mem=50M,node=1,billing=1 Account= QOS= WcKey= Cluster=unknown SubmitTime=2026-11-26T23:58:44 EligibleTime=2026-11-26T23:58:45 ArrayJobId=1 ArrayTaskId=0 DerivedExitCode=0:0 ExitCode=0:0
JobId=5 UserId=root(0) GroupId=root(0) Name=wrap JobState=FAILED Partition=debug TimeLimit=UNLIMITED StartTime=2026-11-26T23:58:48 EndTime=2026-11-26T23:58:51 NodeList=localhost NodeCnt=1 ProcCnt=1 WorkDir=/tmp/slurmprobe ReservationName= Tres=cpu=1,mem=50M,node=1,billing=1 Account= QOS= WcKey= Cluster=unknown SubmitTime=2026-11-26T23:58:44 EligibleTime=2026-11-26T23:58:48 ArrayJobId=1 ArrayTaskId=3 DerivedExitCode=0:0 ExitCode=3:0
JobId=1 UserId=root(0) GroupId=root(0) Name=wrap JobState=COMPLETED Partition=debug TimeLimit=UNLIMITED StartTime=2026-11-26T23:58:51 EndTime=2026-11-26T23:58:54 NodeList=localhost NodeCnt=1 ProcCnt=1 WorkDir=/tmp/slurmprobe ReservationName= Tres=cpu=1,mem=50M,node=1,billing=1 Account= QOS= WcKey= Cluster=unknown SubmitTime=2026-11-26T23:58:44 EligibleTime=2026-11-26T23:58:48 ArrayJobId=1 ArrayTaskId=5 DerivedExitCode=0:0 ExitCode=0:0
JobId=7 UserId=root(0) GroupId=root(0) Name=wrap JobState=OUT_OF_MEMORY Partition=debug TimeLimit=UNLIMITED StartTime=2026-11-26T23:59:26 EndTime=2026-11-26T23:59:26 NodeList=localhost NodeCnt=1 ProcCnt=1 WorkDir=/tmp/slurmprobe ReservationName= Tres=cpu=1,mem=50M,node=1,billing=1 Account= QOS= WcKey= Cluster=unknown SubmitTime=2026-11-26T23:59:25 EligibleTime=2026-11-26T23:59:25 DerivedExitCode=0:0 ExitCode=0:125
JobId=9 UserId=root(0) GroupId=root(0) Name=wrap JobState=CANCELLED Partition=debug TimeLimit=UNLIMITED StartTime=2026-11-26T23:59:26 EndTime=2026-11-26T23:59:26 NodeList=(null) NodeCnt=0 ProcCnt=0 WorkDir=/tmp/slurmprobe ReservationName= Tres=cpu=1,mem=50M,node=1,billing=1 Account= QOS= WcKey= Cluster=unknown SubmitTime=2026-11-26T23:59:25 EligibleTime=unknown DerivedExitCode=0:0 ExitCode=0:0
JobId=8 UserId=root(0) GroupId=root(0) Name=wrap JobState=TIMEOUT Partition=debug TimeLimit=1 StartTime=2026-11-26T23:59:26 EndTime=2026-11-27T00:00:44 NodeList=localhost NodeCnt=1 ProcCnt=1 WorkDir=/tmp/slurmprobe ReservationName= Tres=cpu=1,mem=50M,node=1,billing=1 Account= QOS= WcKey= Cluster=unknown SubmitTime=2026-11-26T23:59:25 EligibleTime=2026-11-26T23:59:25 DerivedExitCode=0:0 ExitCode=0:0
"""  # noqa: E501


def test_parse_jobcomp_names_array_elements() -> None:
    states = accounting.parse_jobcomp(JOBCOMP)
    assert states["1_0"] == JobState("1_0", "COMPLETED", 0, 0)
    assert states["1_3"] == JobState("1_3", "FAILED", 3, 0)
    assert states["1_5"].state == "COMPLETED"
    assert "1" not in states  # raw job 1 was element 5
    assert states["7"] == JobState("7", "OUT_OF_MEMORY", 0, 125)
    assert states["8"] == JobState("8", "TIMEOUT", 0, 0)  # the jobcomp file says 0:0
    # an array cancelled before it started: one line, no array fields
    assert states["9"].state == "CANCELLED" and "9_0" not in states


# ---- accounting: sacct --------------------------------------------------------------

# sacct -c (the jobcomp file): raw job ids.
SACCT_JOBCOMP = """\
2|COMPLETED|0:0
3|COMPLETED|0:0
5|FAILED|3:0
4|COMPLETED|0:0
6|COMPLETED|0:0
1|COMPLETED|0:0
7|OUT_OF_MEMORY|0:125
9|CANCELLED|0:0
8|TIMEOUT|0:0
"""

# sacct with slurmdbd, -X -o jobid,jobidraw,state,exitcode
SACCT_ACCOUNTING = """\
42_0|43|COMPLETED|0:0
42_1|44|OUT_OF_MEMORY|0:125
42_2|45|TIMEOUT|0:0
42_3|46|CANCELLED by 0|0:0
42_[4-6]|42|PENDING|0:0
50|50|NODE_FAIL|0:0
51|51|FAILED|2:0
"""

# without -X: step lines too
SACCT_WITH_STEPS = """\
42_0|43|COMPLETED|0:0
42_0.batch|43.batch|COMPLETED|0:0
42_0.extern|43.extern|COMPLETED|0:0
42_1|44|OUT_OF_MEMORY|0:125
42_1.batch|44.batch|OUT_OF_MEMORY|0:125
"""


def test_sacct_commands() -> None:
    assert accounting.sacct_command(["5", "6"]) == [
        "sacct",
        "-c",
        "-P",
        "-n",
        "-o",
        "jobid,state,exitcode",
        "-j",
        "5,6",
    ]
    full = accounting.sacct_command(["42"], accounting=True)
    assert full[:2] == ["sacct", "-X"] and "jobid,jobidraw,state,exitcode" in full
    assert full[-2:] == ["-j", "42"]
    with pytest.raises(ValueError, match="at least one job id"):
        accounting.sacct_command([])


def test_parse_sacct_from_the_jobcomp_file_keys_raw_ids() -> None:
    states = accounting.parse_sacct(SACCT_JOBCOMP)
    assert states["5"] == JobState("5", "FAILED", 3, 0)
    assert states["7"] == JobState("7", "OUT_OF_MEMORY", 0, 125)
    assert states["8"] == JobState("8", "TIMEOUT", 0, 0)
    assert len(states) == 9


def test_parse_sacct_with_accounting() -> None:
    states = accounting.parse_sacct(SACCT_ACCOUNTING)
    assert states["42_2"] == JobState("42_2", "TIMEOUT", 0, 0)
    assert states["42_3"] == JobState("42_3", "CANCELLED", 0, 0)
    assert [states[f"42_{i}"].state for i in (4, 5, 6)] == ["PENDING"] * 3
    assert states["51"].exit_code == 2
    assert "43" not in states and "42" not in states


def test_parse_sacct_skips_steps() -> None:
    assert sorted(accounting.parse_sacct(SACCT_WITH_STEPS)) == ["42_0", "42_1"]


def test_parse_sacct_refuses_other_formats() -> None:
    with pytest.raises(SlurmError, match="sacct printed"):
        accounting.parse_sacct(
            "       JobID    JobName  Partition    Account  AllocCPUS      State"
        )


def test_read_sacct_tolerates_the_jobcomp_warnings() -> None:
    warnings = (
        "sacct: error: Unknown type ArrayJobId: 1\nsacct: error: Unknown type ArrayTaskId: 3\n"
    )
    run = FakeRun({("sacct",): (0, "5|FAILED|3:0\n", warnings)})
    assert accounting.read_sacct(["5"], run=run)["5"].state == "FAILED"


# ---- accounting: what it means -------------------------------------------------------


@pytest.mark.parametrize(
    ("state", "settled"),
    [
        ("OUT_OF_MEMORY", ("RESOURCE_ERROR", "memory")),
        ("TIMEOUT", ("RESOURCE_ERROR", "runtime")),
        ("DEADLINE", ("RESOURCE_ERROR", "runtime")),
        ("CANCELLED", ("UNKNOWN_ERROR", None)),
        ("CANCELLED by 0", ("UNKNOWN_ERROR", None)),
        ("NODE_FAIL", ("UNKNOWN_ERROR", None)),
        ("PREEMPTED", ("UNKNOWN_ERROR", None)),
        ("BOOT_FAIL", ("UNKNOWN_ERROR", None)),
        ("REVOKED", ("UNKNOWN_ERROR", None)),
        ("FAILED", ("ERROR", None)),
        ("COMPLETED", None),
        ("PENDING", None),
        ("RUNNING", None),
        ("CONFIGURING", None),
        ("COMPLETING", None),
        ("SUSPENDED", None),
        ("REQUEUED", None),
    ],
)
def test_settle(state: str, settled: tuple[str, str | None] | None) -> None:
    assert accounting.settle(JobState("42_3", state, 0, 0)) == settled


def test_is_finished() -> None:
    ended = ["COMPLETED", "FAILED", "OUT_OF_MEMORY", "TIMEOUT", "CANCELLED by 0", "NODE_FAIL"]
    assert all(accounting.is_finished(state) for state in ended)
    running = ["PENDING", "RUNNING", "CONFIGURING", "COMPLETING", "SUSPENDED", "REQUEUED"]
    assert not any(accounting.is_finished(state) for state in running)


def test_describe() -> None:
    def text(state: str, exit_code: int | None = 0, signal: int | None = 0) -> str:
        return accounting.describe(JobState("42_3", state, exit_code, signal))

    assert text("OUT_OF_MEMORY") == "Slurm job 42_3 ran out of memory (OUT_OF_MEMORY)"
    assert text("TIMEOUT") == "Slurm job 42_3 ran out of runtime (TIMEOUT)"
    assert text("CANCELLED by 0") == "Slurm job 42_3 was CANCELLED"
    assert text("PREEMPTED") == "Slurm job 42_3 was PREEMPTED"
    assert "node failed" in text("NODE_FAIL")
    assert text("FAILED", 3, 0) == "Slurm job 42_3 FAILED with exit code 3"
    assert text("FAILED", None, None) == "Slurm job 42_3 FAILED"


def test_states_read_from_squeue_settle_as_the_worker_reports_them() -> None:
    states = accounting.parse_squeue(SQUEUE_ENDED)
    settled = {
        job_id: accounting.settle(state)
        for job_id, state in states.items()
        if accounting.is_finished(state.state)
    }
    assert settled["7"] == ("RESOURCE_ERROR", "memory")
    assert settled["8"] == ("RESOURCE_ERROR", "runtime")
    assert settled["9_3"] == ("UNKNOWN_ERROR", None)
    assert settled["1_3"] == ("ERROR", None)
    assert settled["1_0"] is None


def test_config_file_overrides_queue_limits() -> None:
    from jobmon_client.slurm.distributor import queue_overrides

    config = {
        "clusters": {
            "slurm": {
                "queues": {
                    "long": {"max_runtime": "7d", "max_memory": "512G", "max_cores": 64},
                    "short": {"default": True},
                }
            },
            "other": {"queues": {"long": {"max_cores": 1}}},
        }
    }
    assert queue_overrides(config, "slurm") == {
        "long": {"maxRuntimeSeconds": 7 * 86400, "maxMemoryMb": 512 * 1024, "maxCores": 64},
        "short": {"default": True},
    }
    assert queue_overrides({}, "slurm") == {}
