"""A distributor installed as a package of its own (tests/plugins/jobmon-popen-distributor)
serves `jobmon worker --cluster popen`, found by its entry point."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from jobmon_client import Tool

from tests.conftest import Stack
from tests.faults.harness import wait_until

PLUGIN = Path(__file__).resolve().parent / "plugins" / "jobmon-popen-distributor"


@pytest.fixture(scope="module")
def plugin_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The example package, installed with pip into a directory of its own."""
    target = tmp_path_factory.mktemp("plugin")
    source = tmp_path_factory.mktemp("plugin-source") / PLUGIN.name
    shutil.copytree(PLUGIN, source)  # setuptools builds in the source tree: not the checkout's
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--quiet",
            "--no-deps",
            "--no-build-isolation",
            "--target",
            str(target),
            str(source),
        ],
        check=True,
        capture_output=True,
        text=True,
    )
    assert list(target.glob("jobmon_popen_distributor-*.dist-info"))
    return target


@pytest.mark.parametrize("stack", ["sqlite"], indirect=True)
def test_a_workflow_runs_through_an_installed_distributor(
    stack: Stack, plugin_path: Path, tmp_path: Path, unique: str
) -> None:
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(plugin_path), os.environ.get("PYTHONPATH", "")]),
        "JOBMON_SERVER_URL": stack.url,
        "HOME": str(tmp_path),
    }
    jobmon = str(Path(sys.executable).parent / "jobmon")
    worker = subprocess.Popen(
        [jobmon, "worker", "--cluster", "popen", "--log-dir", str(tmp_path / "logs")],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:

        def registered() -> bool:
            with stack.client() as client:
                clusters = client.execute("{ clusters { name distributor queues { name } } }")
            return any(
                c["name"] == "popen" and c["distributor"] == "popen" and c["queues"]
                for c in clusters["clusters"]
            )

        wait_until(registered, "the worker registers cluster popen", 60)
        tool = Tool(name=f"plugin_{unique}", server_url=stack.url)
        tool.set_default_cluster_name("popen")
        tool.set_default_compute_resources_from_dict("popen", {"queue": "popen.q"})
        template = tool.get_task_template(
            template_name="echo",
            command_template="echo {word} > {out}/{word}",
            node_args=["word"],
            op_args=["out"],
        )
        words = ["alpha", "beta", "gamma"]
        first = template.create_task(word=words[0], out=str(tmp_path))
        rest = [
            template.create_task(word=w, out=str(tmp_path), upstream_tasks=[first])
            for w in words[1:]
        ]
        wf = tool.create_workflow(name="plugin", workflow_args=unique)
        wf.add_tasks([first, *rest])
        result = wf.run(seconds_until_timeout=120)
        assert (result.final_status, result.done_count) == ("DONE", 3)
        assert {p.name: p.read_text() for p in tmp_path.iterdir() if p.name in words} == {
            w: f"{w}\n" for w in words
        }
    finally:
        worker.terminate()
        output = worker.communicate(timeout=60)[0]
    assert "serves cluster popen (popen)" in output, output


def test_the_readme_shows_the_example_distributor_as_it_is() -> None:
    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text()
    source = (PLUGIN / "jobmon_popen.py").read_text()
    assert f"```python\n{source}```" in readme
    assert len(source.splitlines()) < 100
