"""Pure functions of the server: error signatures and resource suggestions."""

from __future__ import annotations

from jobmon_server.error_groups import pattern, signature
from jobmon_server.usage import format_memory, format_runtime, percentile, suggest


def test_similar_errors_share_a_signature() -> None:
    a = "Traceback (most recent call last):\n  File x\nValueError: location 17 has no data\n"
    b = "Traceback (most recent call last):\n  File y, line 9\nValueError: location 4 has no data"
    assert pattern(a) == "ValueError: location … has no data"
    assert signature(a) == signature(b)
    assert signature("KeyError: 'year'") == signature("KeyError: 'age'")
    assert signature("ValueError: location 1 has no data") != signature("MemoryError")
    assert pattern("") == ""
    assert (
        pattern("failed at 0x7f3a2c after 1.5 s, job deadbeef42") == "failed at … after … s, job …"
    )


def test_percentile_is_nearest_rank() -> None:
    values = [float(v) for v in range(1, 101)]
    assert percentile(values, 95) == 95.0
    assert percentile(values, 100) == 100.0
    assert percentile([7.0], 95) == 7.0


def test_suggestion_adds_headroom_and_rounds_up() -> None:
    gib = 2.0**30
    assert suggest([gib] * 10, [1800.0] * 10) == {"memory": "1.2G", "runtime": "36m"}
    assert suggest([], [5000.0]) == {"runtime": "1.7h"}
    assert suggest([10.0 * 2**20], []) == {"memory": "64M"}  # never below the floor
    assert suggest([], []) is None
    assert format_memory(300.2) == "301M"
    assert format_runtime(59) == "1m"


def test_scaling_takes_a_fraction_or_the_next_listed_value() -> None:
    from jobmon_server.resources import scaled

    assert scaled({"memory": "1G"}, "memory") == {"memory": "1536M"}
    assert scaled({"runtime": "60s"}, "runtime", {"runtime": 1.0}) == {"runtime": "120s"}
    listed = {"memory": ["2G", "4G", "8G"]}
    assert scaled({"memory": "1G"}, "memory", listed) == {"memory": "2G"}
    assert scaled({"memory": "2G"}, "memory", listed) == {"memory": "4G"}
    assert scaled({"memory": "8G"}, "memory", listed) == {"memory": "8G"}  # the largest, kept
    assert scaled({"cores": 2}, "memory") == {"cores": 2}  # nothing to scale


def test_a_retry_outgrowing_its_queue_moves_to_a_fallback_or_is_capped() -> None:
    from jobmon_server.clusters import Placement, QueueLimits
    from jobmon_server.db import models

    cluster = models.Cluster(name="slurm", distributor="slurm")
    queues = [
        QueueLimits("short", default=True, max_memory_mb=1024, max_runtime_s=3600),
        QueueLimits("long", max_memory_mb=1024, max_runtime_s=86400),
    ]
    place = Placement(cluster, queues)
    assert place.place_retry({"runtime": "2h"}, ["long"]) == {"runtime": "2h", "queue": "long"}
    assert place.place_retry({"memory": "2G"}, ["long"]) == {
        "memory": "1024M",
        "capped": ["memory"],
    }
    assert place.place_retry({"memory": "512M"}, None) == {"memory": "512M"}


def test_alerts_about_a_task_name_it_with_the_exit_code_and_the_errors_last_line() -> None:
    from jobmon_server import alerts
    from jobmon_server.events import EventRow

    def row(entity: str, status: str) -> EventRow:
        return EventRow(9, 2, "ana", entity, 31, "RUNNING", status, None, None)

    detail = alerts.TaskDetail(17, "fit_n-3", 137, "MemoryError")
    lost = row("task_instance", "NO_HEARTBEAT")
    assert alerts.message(lost, alerts.AlertKind.HEARTBEAT_LOST, detail) == (
        "task instance 31 of workflow 2 stopped sending heartbeats (task 17 'fit_n-3'), "
        "exit 137: MemoryError"
    )
    retried = row("task", "ADJUSTING_RESOURCES")
    of_task = alerts.TaskDetail(31, "fit_n-3", 137, "MemoryError")
    assert alerts.message(retried, alerts.AlertKind.RESOURCE_RETRY, of_task) == (
        "task 31 'fit_n-3' of workflow 2 ran out of resources; retried with more, "
        "exit 137: MemoryError"
    )
    assert alerts.last_line("Traceback\n  File x\nValueError: bad\n\n") == "ValueError: bad"
    assert alerts.last_line("   \n") is None
