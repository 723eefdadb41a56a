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
