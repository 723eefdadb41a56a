"""Commands that run Jobmon here: ``jobmon worker`` and ``jobmon up``.

``jobmon up`` starts the server through the ``jobmon.embedded_server`` entry point, so
the client never imports the server package.
"""

from __future__ import annotations

import logging
import os
import threading
from importlib.metadata import entry_points
from pathlib import Path
from typing import Annotated, Any

import typer

from jobmon_client.cli.output import ServerOption

LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


def configure_logging(level: str) -> None:
    logging.basicConfig(level=level.upper(), format=LOG_FORMAT)
    logging.getLogger("httpx").setLevel(logging.WARNING)  # one line per request otherwise


LOCAL_CLUSTERS = ("sequential", "multiprocess")


def worker(
    cluster: Annotated[
        str,
        typer.Option(
            help=(
                "Cluster whose tasks to run: sequential or multiprocess (on this machine), or "
                "the name of a Slurm cluster such as slurm (submitted with sbatch)."
            )
        ),
    ] = "multiprocess",
    server: ServerOption = None,
    parallelism: Annotated[
        int | None, typer.Option(help="Local clusters: tasks at once (default: cores).")
    ] = None,
    poll_seconds: Annotated[
        float, typer.Option(help="Slurm: how often to read the jobs' states with squeue.")
    ] = 10.0,
    log_dir: Annotated[Path | None, typer.Option(help="Where task stdout/stderr go.")] = None,
    log_level: Annotated[str, typer.Option(help="debug, info, warning or error.")] = "info",
) -> None:
    """Run tasks of one cluster until stopped (Ctrl-C or SIGTERM)."""
    configure_logging(log_level)
    if cluster in LOCAL_CLUSTERS:
        from jobmon_client.worker import run_worker

        run_worker(cluster, server_url=server, parallelism=parallelism, log_dir=log_dir)
        return
    from jobmon_client.slurm.worker import run_slurm_worker

    run_slurm_worker(cluster, server_url=server, log_dir=log_dir, poll_seconds=poll_seconds)


def up(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8070,
    db: Annotated[
        str | None,
        typer.Option(
            "--db", envvar="JOBMON_DB_URL", help="Database URL (default: SQLite in ~/.jobmon)."
        ),
    ] = None,
    cluster: Annotated[str, typer.Option(help="Cluster of the local worker.")] = "multiprocess",
    parallelism: Annotated[int | None, typer.Option(help="Tasks at once (default: cores).")] = None,
    log_dir: Annotated[Path | None, typer.Option(help="Where task stdout/stderr go.")] = None,
    log_level: Annotated[str, typer.Option(help="debug, info, warning or error.")] = "info",
) -> None:
    """Server and a local worker in one process: Jobmon on one machine."""
    configure_logging(log_level)
    start = _embedded_server()
    server = start(host=host, port=port, db_url=db)
    typer.echo(f"Jobmon is up: {server.url}/graphql (GraphQL playground); Ctrl-C stops it.")
    os.environ.setdefault("JOBMON_SERVER_URL", server.url)
    from jobmon_client.worker import run_worker

    stop = threading.Event()
    try:
        run_worker(
            cluster,
            server_url=server.url,
            parallelism=parallelism,
            log_dir=log_dir,
            stop_event=stop,
        )
    finally:
        server.stop()


def _embedded_server() -> Any:
    found = entry_points(group="jobmon.embedded_server", name="start")
    if not found:
        typer.echo(
            "the Jobmon server is not installed here; install the 'jobmon[server]' "
            "package, or point JOBMON_SERVER_URL at a running server",
            err=True,
        )
        raise typer.Exit(2)
    return next(iter(found)).load()
