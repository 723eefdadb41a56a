"""Commands that run Jobmon here: ``jobmon worker`` and ``jobmon up``.

``jobmon up`` starts the server through the ``jobmon.embedded_server`` entry point, so
the client never imports the server package.
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import subprocess
import sys
import threading
import time
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
                "Cluster whose tasks to run: sequential or multiprocess (on this machine), a "
                "Slurm cluster such as slurm (submitted with sbatch), or one an installed "
                "distributor serves."
            )
        ),
    ] = "multiprocess",
    distributor: Annotated[
        str | None,
        typer.Option(
            help=(
                "Which distributor serves the cluster (default: the cluster's name if a "
                "distributor has it, else what the server knows of the cluster)."
            )
        ),
    ] = None,
    server: ServerOption = None,
    parallelism: Annotated[
        int | None, typer.Option(help="Local clusters: tasks at once (default: cores).")
    ] = None,
    poll_seconds: Annotated[
        float, typer.Option(help="Slurm: how often to read the jobs' states with squeue.")
    ] = 10.0,
    log_dir: Annotated[Path | None, typer.Option(help="Where task stdout/stderr go.")] = None,
    state_dir: Annotated[
        Path | None,
        typer.Option(help="Where the worker keeps its journal (default: ~/.jobmon/workers)."),
    ] = None,
    log_level: Annotated[str, typer.Option(help="debug, info, warning or error.")] = "info",
) -> None:
    """Run tasks of one cluster until stopped (Ctrl-C or SIGTERM).

    On a server with tokens the worker sends a worker token of its cluster, from
    JOBMON_WORKER_TOKEN (or worker_token in the config file, else JOBMON_TOKEN).
    """
    configure_logging(log_level)
    from jobmon_client.config import read_config
    from jobmon_client.slurm.distributor import queue_overrides
    from jobmon_client.worker import WorkerError, run_worker

    options = {
        "poll_seconds": poll_seconds,
        "queue_overrides": queue_overrides(read_config(), cluster),
    }
    try:
        run_worker(
            cluster,
            server_url=server,
            parallelism=parallelism,
            log_dir=log_dir,
            distributor=distributor,
            state_dir=state_dir,
            options=options,
        )
    except WorkerError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(1) from None


def up(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8070,
    db: Annotated[
        str | None,
        typer.Option(
            "--db", envvar="JOBMON_DB_URL", help="Database URL (default: SQLite in ~/.jobmon)."
        ),
    ] = None,
    cluster: Annotated[
        list[str] | None,
        typer.Option(
            help="Local clusters to serve (repeat it; default: sequential and multiprocess)."
        ),
    ] = None,
    parallelism: Annotated[
        int | None, typer.Option(help="Multiprocess: tasks at once (default: cores).")
    ] = None,
    log_dir: Annotated[Path | None, typer.Option(help="Where task stdout/stderr go.")] = None,
    log_level: Annotated[str, typer.Option(help="debug, info, warning or error.")] = "info",
) -> None:
    """The server and local workers: Jobmon on one machine."""
    configure_logging(log_level)
    clusters = list(dict.fromkeys(cluster or LOCAL_CLUSTERS))
    unknown = [c for c in clusters if c not in LOCAL_CLUSTERS]
    if unknown:
        typer.echo(
            f"error: jobmon up serves the local clusters {', '.join(LOCAL_CLUSTERS)}, not "
            f"{', '.join(unknown)}; run 'jobmon worker --cluster {unknown[0]}' beside it",
            err=True,
        )
        raise typer.Exit(2)
    _embedded_server()  # the server must be installed here
    server = ServerProcess(host, port, db, log_level)
    os.environ.setdefault("JOBMON_SERVER_URL", server.url)
    from jobmon_client.worker import run_worker

    stop = threading.Event()
    workers = [
        threading.Thread(
            target=run_worker,
            name=f"jobmon-worker-{name}",
            kwargs={
                "cluster_name": name,
                "server_url": server.url,
                "parallelism": parallelism if name == "multiprocess" else None,
                "log_dir": log_dir,
                "stop_event": stop,
            },
        )
        for name in clusters
    ]
    for thread in workers:
        thread.start()
    typer.echo(
        f"Jobmon is up: {server.url}/graphql (GraphQL playground), {server.url}/ (dashboard); "
        f"serving clusters {', '.join(clusters)}. Ctrl-C stops it."
    )
    from jobmon_client.worker.loop import stop_on_signals

    try:
        with stop_on_signals(stop):
            while any(t.is_alive() for t in workers):
                for thread in workers:
                    thread.join(0.5)
                if any(not t.is_alive() for t in workers):
                    stop.set()  # one worker ended (it failed): stop the others too
    finally:
        stop.set()
        for thread in workers:
            thread.join(60)
        server.stop()


class ServerProcess:
    """``jobmon server`` as a child process of ``jobmon up``: the server and the workers
    each have a core's worth of Python of their own. The child dies with its parent,
    however the parent ends, so that the port is free for the next ``jobmon up``."""

    def __init__(self, host: str, port: int, db: str | None, log_level: str) -> None:
        self.url = f"http://{host}:{port}"
        argv = [sys.executable, "-m", "jobmon_client.cli", "server", "--host", host]
        argv += ["--port", str(port), "--log-level", log_level]
        if db:
            argv += ["--db", db]
        self.process = subprocess.Popen(argv, preexec_fn=_die_with_parent)
        deadline = time.monotonic() + 120
        while not self._healthy():
            if self.process.poll() is not None:
                raise typer.Exit(1)  # it said why on stderr
            if time.monotonic() > deadline:
                self.stop()
                typer.echo(f"error: the Jobmon server did not start on {self.url}", err=True)
                raise typer.Exit(1)
            time.sleep(0.1)

    def _healthy(self) -> bool:
        import httpx

        try:
            return httpx.get(f"{self.url}/health", timeout=2).status_code == 200
        except httpx.HTTPError:
            return False

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(45)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def _die_with_parent() -> None:
    """In the child, before it runs: SIGKILL when the parent ends (Linux)."""
    import ctypes

    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG


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
