"""A Jobmon script whose resources name only the "slurm" cluster (Jobmon's quickstart and
create_tasks_example.py) runs on the one-node Slurm, not on the machine that ran it; its
logs go to the stdout/stderr directories the resources name."""

from __future__ import annotations

from pathlib import Path

from jobmon_client import Tool, WorkflowRunStatus

from tests.helpers import task_instances
from tests.test_slurm import SlurmStack, slurm  # noqa: F401  (the one-node Slurm stack)


def test_a_slurm_only_resource_dict_runs_on_slurm(slurm: SlurmStack, tmp_path: Path) -> None:  # noqa: F811
    tool = Tool(name="my_example_tool", server_url=slurm.url)
    # no default cluster: the resources name "slurm" only (Jobmon's legacy names too)
    tool.set_default_compute_resources_from_dict(
        "slurm",
        {
            "num_cores": 1,
            "m_mem_free": "200M",
            "max_runtime_seconds": 600,
            "stdout": str(tmp_path / "out"),
            "stderr": str(tmp_path / "err"),
        },
    )
    template = tool.get_task_template(
        template_name="my_example_task_template",
        command_template="echo location {location_id}",
        node_args=["location_id"],
    )
    workflow = tool.create_workflow(f"slurm_only_{tmp_path.name}")
    tasks = template.create_tasks(location_id=[1, 2, 3])
    workflow.add_tasks(tasks)
    assert workflow.run(seconds_until_timeout=300) == WorkflowRunStatus.DONE
    for task in tasks:
        [instance] = task_instances(slurm.url, task.task_id)
        assert "_" in instance["distributorId"]  # a Slurm array job's element: JOBID_INDEX
        assert instance["stdoutPath"].startswith(str(tmp_path / "out"))
        assert instance["stderrPath"].startswith(str(tmp_path / "err"))
        assert instance["requestedResources"]["memory"] == "200M"
    outputs = sorted(p.read_text().strip() for p in (tmp_path / "out").glob("*.out"))
    assert outputs == ["location 1", "location 2", "location 3"]
