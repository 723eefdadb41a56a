"""The ``jobmon`` command line.

Commands are grouped (``jobmon workflow status``); Jobmon's underscore names
(``jobmon workflow_status``) work too, as hidden aliases, with Jobmon's spellings of their
options (``--workflow_id``, ``-w 1 2``, ``-n``; see ``spellings``). Server-side commands
(``jobmon server``, ``jobmon db``) are added from the ``jobmon.cli`` entry point when the
server is installed: the client never imports the server package.

Every command talks to the server over GraphQL. What goes wrong in a way the user can
fix (an unknown id, an unreachable server, a workflow they do not own) ends the command
with one sentence on stderr and exit status 1.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from importlib.metadata import entry_points
from typing import Any

import typer

from jobmon_client.cli import (
    alerts,
    clusters,
    config_file,
    local,
    spellings,
    tasks,
    templates,
    workflows,
)
from jobmon_client.cli.output import UsageError
from jobmon_client.transport import JobmonError

app = typer.Typer(
    help="Jobmon: run and watch workflows of many tasks.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("jobmon")
    except PackageNotFoundError:
        return "unknown"


def _show_version(value: bool) -> None:
    if value:
        print(_version())
        raise typer.Exit()


@app.callback()
def _main(
    show_version: bool = typer.Option(
        False, "--version", callback=_show_version, is_eager=True, help="Print the version."
    ),
) -> None:
    """Jobmon: run and watch workflows of many tasks."""


@app.command("version")
def version(
    components: bool = typer.Option(False, "--components", help="Also the server's, if installed."),
) -> None:
    """Print the version of Jobmon."""
    print(f"jobmon {_version()}" if components else _version())
    if components:
        import importlib.util

        server = "installed" if importlib.util.find_spec("jobmon_server") else "not installed"
        print(f"jobmon server: {server} (one distribution with the client)")


app.command("update_config")(config_file.update_config)
app.add_typer(config_file.app, name="config", no_args_is_help=True)
app.add_typer(workflows.app, name="workflow", no_args_is_help=True)
app.add_typer(tasks.app, name="task", no_args_is_help=True)
app.add_typer(templates.app, name="template", no_args_is_help=True)
app.add_typer(clusters.app, name="cluster", no_args_is_help=True)
app.command("worker")(local.worker)
app.command("up")(local.up)
app.command("alerts")(alerts.alerts)
app.command("get_filepaths", hidden=True)(workflows.filepaths)

# Jobmon's command names, kept so that its users' habits and scripts work.
ALIASES: dict[str, Callable[..., Any]] = {
    "workflow_status": workflows.status,
    "workflow_tasks": workflows.tasks,
    "workflow_resume": workflows.resume_as_jobmon,
    "workflow_reset": workflows.reset,
    "concurrency_limit": workflows.concurrency,
    "task_status": tasks.status,
    "task_dependencies": tasks.dependencies,
    "update_task_status": tasks.update_as_jobmon,
    "task_template_resources": templates.resources,
}
for name, command in ALIASES.items():
    app.command(name, hidden=True)(command)


def _load_plugins() -> None:
    for plugin in entry_points(group="jobmon.cli"):
        try:
            plugin.load()(app)
        except ImportError:  # the server's dependencies are not installed on this machine
            continue


_load_plugins()


def main() -> None:
    try:
        app(args=spellings.normalize(sys.argv[1:]), prog_name="jobmon")
    except (JobmonError, UsageError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        sys.exit(1)
