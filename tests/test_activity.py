"""workflowActivity against a real server, on every database: many events make few frames,
the frames count every event once, and resuming from a frame's cursor misses nothing and
counts nothing twice."""

from __future__ import annotations

import queue
import time
from collections import Counter
from typing import Any

import pytest
from jobmon_server.activity import INTERVAL_SECONDS

from tests.conftest import Stack
from tests.helpers import Collector
from tests.test_subscriptions import EVENTS, is_workflow_end, workflow_of

ACTIVITY = """
subscription($id: Int!, $task: Int, $after: String) {
  workflowActivity(workflowId: $id, taskId: $task, after: $after) {
    cursor events counts { entity toStatus count }
  }
}"""
INSTANCES = """
query($id: Int!) { task(id: $id) { ... on Task { instances(first: 10) { items { id } } } } }"""


def counted(frames: list[dict[str, Any]]) -> Counter[tuple[str, str]]:
    total: Counter[tuple[str, str]] = Counter()
    for frame in frames:
        for c in frame["counts"]:
            total[(c["entity"], c["toStatus"])] += c["count"]
    return total


def of_events(events: list[dict[str, Any]]) -> Counter[tuple[str, str]]:
    return Counter((e["entity"], e["toStatus"]) for e in events)


def ends_workflow(frame: dict[str, Any]) -> bool:
    return any(
        c["entity"] == "workflow" and c["toStatus"] in ("DONE", "FAILED") for c in frame["counts"]
    )


class Arrivals(queue.Queue[Any]):
    """A collector's queue that notes when each frame arrived."""

    def __init__(self) -> None:
        super().__init__()
        self.times: list[float] = []

    def put(self, item: Any, block: bool = True, timeout: float | None = None) -> None:
        self.times.append(time.monotonic())
        super().put(item, block, timeout)


class Timed(Collector):
    def __init__(self, *args: Any) -> None:
        self.arrivals = Arrivals()
        super().__init__(*args)

    @property  # type: ignore[override]
    def items(self) -> Arrivals:
        return self.arrivals

    @items.setter
    def items(self, _: Any) -> None:
        """The collector's own queue is this one."""

    def take_timed(self, done: Any) -> tuple[list[dict[str, Any]], float]:
        frames = self.take_until(done)
        return frames, self.arrivals.times[len(frames) - 1] - self.arrivals.times[0]


def test_many_events_make_few_frames_that_count_each_event_once(stack: Stack, unique: str) -> None:
    # Two seconds of tasks on four slots: several frames, even if the subscription is
    # only ready after the run began (a run of `true` can end before it is).
    wf, _ = workflow_of(stack.url, f"activity_{unique}", ["sleep 0.05"] * 150)
    wf_id = wf.bind()
    cursor = stack.query("{ lastEventCursor }")["lastEventCursor"]
    live = Timed(
        stack.url, ACTIVITY, {"id": wf_id, "task": None, "after": cursor}, "workflowActivity"
    )
    assert wf.run().final_status == "DONE"
    frames, span = live.take_timed(ends_workflow)
    events = Collector(
        stack.url, EVENTS, {"id": wf_id, "after": cursor}, "workflowEvents"
    ).take_until(is_workflow_end)

    assert len(events) > 150 * 5  # every task and attempt moved several times
    assert sum(f["events"] for f in frames) == len(events)
    assert counted(frames) == of_events(events)
    assert all(f["events"] == sum(c["count"] for c in f["counts"]) for f in frames)
    cursors = [int(f["cursor"]) for f in frames]
    assert cursors == sorted(set(cursors)) and cursors[-1] == int(events[-1]["cursor"])
    # one frame per interval at most (the arrival times carry some jitter)
    assert len(frames) <= 2 + span / INTERVAL_SECONDS, (len(frames), span)
    assert len(frames) * 10 < len(events)

    # Resuming from any frame's cursor but the last counts exactly the events after it.
    assert len(frames) >= 3, frames
    for k in sorted({0, len(frames) // 2, len(frames) - 2}):
        after = frames[k]["cursor"]
        try:
            resumed = Collector(
                stack.url, ACTIVITY, {"id": wf_id, "task": None, "after": after}, "workflowActivity"
            ).take_until(ends_workflow)
        except AssertionError as exc:
            raise AssertionError(
                f"resumed after frame {k} of {len(frames)} (cursor {after}, the last event "
                f"{events[-1]['cursor']}): {exc}"
            ) from None
        later = [e for e in events if int(e["cursor"]) > int(after)]
        assert counted(resumed) == of_events(later) == counted(frames[k + 1 :])
        assert resumed[-1]["cursor"] == events[-1]["cursor"]


def test_a_task_s_activity_counts_only_that_task_and_its_attempts(
    stack: Stack, unique: str
) -> None:
    wf, tasks = workflow_of(stack.url, f"task_activity_{unique}", ["true", "exit 1", "true"])
    retried = tasks[1]
    retried.max_attempts = 3
    wf_id = wf.bind()
    cursor = stack.query("{ lastEventCursor }")["lastEventCursor"]
    live = Collector(
        stack.url,
        ACTIVITY,
        {"id": wf_id, "task": retried.task_id, "after": cursor},
        "workflowActivity",
    )
    assert wf.run().final_status == "FAILED"

    def ends_task(frame: dict[str, Any]) -> bool:
        return any(
            c["entity"] == "task" and c["toStatus"] == "ERROR_FATAL" for c in frame["counts"]
        )

    frames = live.take_until(ends_task)
    attempts = {
        i["id"] for i in stack.query(INSTANCES, id=retried.task_id)["task"]["instances"]["items"]
    }
    assert len(attempts) == 3
    events = Collector(
        stack.url, EVENTS, {"id": wf_id, "after": cursor}, "workflowEvents"
    ).take_until(is_workflow_end)
    mine = [
        e
        for e in events
        if (e["entity"] == "task" and e["entityId"] == retried.task_id)
        or (e["entity"] == "task_instance" and e["entityId"] in attempts)
    ]
    assert counted(frames) == of_events(mine)
    assert counted(frames)[("task_instance", "ERROR")] == 3
    assert frames[-1]["cursor"] == mine[-1]["cursor"]
    replayed = Collector(
        stack.url,
        ACTIVITY,
        {"id": wf_id, "task": retried.task_id, "after": cursor},
        "workflowActivity",
    ).take_until(ends_task)
    assert counted(replayed) == of_events(mine)


def test_a_subscriber_that_falls_behind_counts_what_it_missed_from_the_database(
    stack: Stack, unique: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With a queue of three events, the stream falls behind the hub again and again while
    the run goes on (it drains its queue once per interval): each time it subscribes again
    and counts the events it missed in the database, and the frames still count every
    event once."""
    from jobmon_server import activity, events

    recounts: list[tuple[int, int]] = []
    count_events = activity.count_events

    def counting(session: Any, workflow_id: int, after: int, up_to: int, *rest: Any) -> Any:
        recounts.append((after, up_to))
        return count_events(session, workflow_id, after, up_to, *rest)

    monkeypatch.setattr(activity, "count_events", counting)
    monkeypatch.setattr(events, "QUEUE_LIMIT", 3)
    wf, _ = workflow_of(stack.url, f"behind_{unique}", ["true"] * 60)
    wf_id = wf.bind()
    cursor = stack.query("{ lastEventCursor }")["lastEventCursor"]
    live = Collector(
        stack.url, ACTIVITY, {"id": wf_id, "task": None, "after": cursor}, "workflowActivity"
    )
    assert wf.run().final_status == "DONE"
    frames = live.take_until(ends_workflow)
    monkeypatch.setattr(events, "QUEUE_LIMIT", 20_000)
    events_seen = Collector(
        stack.url, EVENTS, {"id": wf_id, "after": cursor}, "workflowEvents"
    ).take_until(is_workflow_end)
    assert recounts, "the stream never fell behind"
    assert sum(f["events"] for f in frames) == len(events_seen)
    assert counted(frames) == of_events(events_seen)
    assert [int(f["cursor"]) for f in frames] == sorted({int(f["cursor"]) for f in frames})
