"""compose.yaml and its Dockerfile: the structure of the deployment, and every command it
runs is a real ``jobmon`` command with real options (no Docker engine runs here)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import typer
import yaml
from jobmon_client.cli import app

ROOT = Path(__file__).resolve().parent.parent
JOBMON = str(Path(sys.executable).parent / "jobmon")


def compose() -> dict[str, Any]:
    return yaml.safe_load((ROOT / "compose.yaml").read_text())


def check_command(argv: list[str]) -> None:
    """Walk the CLI's command tree along ``argv``; every option must exist there."""
    assert argv[0] == "jobmon", argv
    command: Any = typer.main.get_command(app)
    words = argv[1:]
    while hasattr(command, "commands") and words and not words[0].startswith("-"):
        assert words[0] in command.commands, f"'jobmon {words[0]}' is not a command ({argv})"
        command = command.commands[words.pop(0)]
    options = {name for p in command.params for name in p.opts if name.startswith("-")}
    options |= {name for p in command.params for name in getattr(p, "secondary_opts", [])}
    for word in words:
        if word.startswith("-"):
            assert word.split("=")[0] in options, f"{word} is not an option of {argv}"


def test_services_volumes_and_health_checks() -> None:
    services = compose()["services"]
    assert set(services) == {"db", "migrate", "server", "worker"}
    assert "pgdata:/var/lib/postgresql/data" in services["db"]["volumes"]
    assert "pgdata" in compose()["volumes"]
    for name in ("db", "server"):
        assert services[name]["healthcheck"]["test"][0] == "CMD"
    assert services["server"]["deploy"]["replicas"] == 2
    assert services["server"]["depends_on"]["migrate"]["condition"] == (
        "service_completed_successfully"
    )
    assert services["worker"]["depends_on"]["server"]["condition"] == "service_healthy"
    url = services["migrate"]["environment"]["JOBMON_DB_URL"]
    assert url.startswith("postgresql://") and "@db:5432/" in url


def test_every_command_is_a_real_jobmon_command() -> None:
    commands = [s["command"] for s in compose()["services"].values() if "command" in s]
    dockerfile = (ROOT / "Dockerfile").read_text()
    cmd = next(line for line in dockerfile.splitlines() if line.startswith("CMD ["))
    commands.append(yaml.safe_load(cmd.removeprefix("CMD ")))
    assert len(commands) == 4
    for argv in commands:
        check_command(argv)


def test_the_migration_command_runs(tmp_path: Path) -> None:
    [argv] = [s["command"] for s in compose()["services"].values() if "db" in s.get("command", [])]
    url = f"sqlite:///{tmp_path}/jobmon.db"
    done = subprocess.run(
        [JOBMON, *argv[1:], "--db", url], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    assert "is up to date" in done.stdout


def test_the_dockerfile_installs_the_project_and_checks_health() -> None:
    text = (ROOT / "Dockerfile").read_text()
    assert "pip install --no-cache-dir '.[server]'" in text
    assert "/health" in text and "USER jobmon" in text


def test_the_command_check_catches_what_does_not_exist() -> None:
    import pytest

    with pytest.raises(AssertionError, match="--bogus is not an option"):
        check_command(["jobmon", "server", "--bogus", "1"])
    with pytest.raises(AssertionError, match="'jobmon serve' is not a command"):
        check_command(["jobmon", "serve"])
