"""The ``jobmon`` command line.

Commands are grouped (``jobmon workflow status``); Jobmon's underscore names
(``jobmon workflow_status``) work too, as hidden aliases. Server-side commands
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

from jobmon_client.cli import alerts, clusters, local, tasks, templates, workflows
from jobmon_client.cli.output import UsageError
from jobmon_client.transport import JobmonError

app = typer.Typer(
    help="Jobmon: run and watch workflows of many tasks.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)
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
    "workflow_resume": workflows.resume,
    "workflow_reset": workflows.reset,
    "concurrency_limit": workflows.concurrency,
    "task_status": tasks.status,
    "task_dependencies": tasks.dependencies,
    "update_task_status": tasks.update,
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
        app()
    except (JobmonError, UsageError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        sys.exit(1)
