"""The ``InstanceReport`` inputs the worker sends, made from what its distributor says."""

from __future__ import annotations

from typing import Any

from jobmon_client.distributor import Ended, Launched

Report = dict[str, Any]


def of_launch(launched: Launched) -> list[Report]:
    """LAUNCHED (with where it runs and where its output goes), and RUNNING if it runs."""
    report: Report = {
        "taskInstanceId": launched.instance_id,
        "status": "LAUNCHED",
        "distributorId": launched.distributor_id,
    }
    for key, value in (
        ("hostname", launched.hostname),
        ("stdoutPath", launched.stdout_path),
        ("stderrPath", launched.stderr_path),
    ):
        if value is not None:
            report[key] = value
    if launched.running:
        return [report, {"taskInstanceId": launched.instance_id, "status": "RUNNING"}]
    return [report]


def of_end(ended: Ended) -> Report:
    """The final report of an instance."""
    report: Report = {"taskInstanceId": ended.instance_id, "status": ended.status}
    for key, value in (
        ("exitCode", ended.exit_code),
        ("errorMessage", ended.error_message),
        ("resourceKind", ended.resource_kind),
        ("maxRssBytes", ended.max_rss_bytes),
        ("cpuSeconds", ended.cpu_seconds),
        ("wallclockSeconds", ended.wallclock_seconds),
    ):
        if value is not None:
            report[key] = value
    return report


def of_events(events: Any) -> list[Report]:
    reports: list[Report] = []
    for event in events:
        if isinstance(event, Launched):
            reports += of_launch(event)
        else:
            reports.append(of_end(event))
    return reports
