"""Server commands of the ``jobmon`` CLI: ``jobmon server`` and ``jobmon db upgrade``.

The client's CLI loads ``register`` through the ``jobmon.cli`` entry point, so the client
package never imports the server.
"""

from __future__ import annotations

import os
from typing import Annotated

import typer

from jobmon_server import logs
from jobmon_server.settings import Settings, default_db_url

DB_HELP = "Database URL: sqlite:///path, postgresql://user@host/db or mysql://user@host/db."


LOOPBACK = ("127.0.0.1", "localhost", "::1")


def register(app: typer.Typer) -> None:
    app.command("server", help="Run the Jobmon server (GraphQL API and playground).")(server)
    db = typer.Typer(help="Database administration.", no_args_is_help=True)
    db.command("upgrade", help="Create or upgrade the database schema.")(db_upgrade)
    app.add_typer(db, name="db")
    tokens = typer.Typer(
        help="Tokens for a shared server (run on the server).", no_args_is_help=True
    )
    tokens.command("create", help="Make a token for a user; it is printed once.")(token_create)
    app.add_typer(tokens, name="token")


def server(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8070,
    db: Annotated[str | None, typer.Option("--db", envvar="JOBMON_DB_URL", help=DB_HELP)] = None,
    log_level: Annotated[str, typer.Option(help="debug, info, warning or error.")] = "info",
    auth: Annotated[
        str,
        typer.Option(
            envvar="JOBMON_AUTH",
            help="token: every request needs a token (a shared server); none: no login.",
        ),
    ] = "none",
    insecure: Annotated[
        bool, typer.Option(help="Listen beyond this machine without tokens, knowingly.")
    ] = False,
    workers: Annotated[
        int, typer.Option(help="Server processes sharing the port (replicas on one database).")
    ] = 1,
    log_format: Annotated[
        str, typer.Option(help="plain, or json: one JSON object per line.")
    ] = "plain",
    shutdown_seconds: Annotated[
        float,
        typer.Option(help="On SIGTERM, how long in-flight requests may take to finish."),
    ] = 35.0,
) -> None:
    import uvicorn

    from jobmon_server.app import create_app

    if auth not in ("token", "none"):
        typer.echo(f"--auth must be 'token' or 'none', not '{auth}'", err=True)
        raise typer.Exit(2)
    if host not in LOOPBACK and auth == "none" and not insecure:
        typer.echo(
            f"refusing to listen on {host} without tokens: anyone who can reach it could "
            "change any workflow. Start it with --auth token (and make tokens with 'jobmon "
            "token create --user NAME'), or add --insecure if the network is trusted.",
            err=True,
        )
        raise typer.Exit(2)
    if log_format not in ("plain", "json"):
        typer.echo(f"--log-format must be 'plain' or 'json', not '{log_format}'", err=True)
        raise typer.Exit(2)
    logs.configure(log_level, log_format)
    settings = Settings(db_url=db or default_db_url(), auth=auth)
    typer.echo(
        f"Jobmon server on http://{host}:{port}/graphql (database {settings.db_url}, auth {auth})"
    )
    if workers <= 1:
        uvicorn.run(
            create_app(settings),
            host=host,
            port=port,
            log_level=log_level,
            log_config=None,  # keep the logging configured above
            ws="websockets-sansio",
            timeout_graceful_shutdown=round(shutdown_seconds),
        )
        return
    from jobmon_server.db.migrate import upgrade

    upgrade(settings.db_url)  # once, before the processes start
    os.environ["JOBMON_DB_URL"] = settings.db_url
    os.environ["JOBMON_AUTH"] = auth
    os.environ["JOBMON_LOG_LEVEL"] = log_level
    os.environ["JOBMON_LOG_FORMAT"] = log_format
    uvicorn.run(
        "jobmon_server.app:app_from_environment",
        factory=True,
        workers=workers,
        host=host,
        port=port,
        log_level=log_level,
        log_config=None,
        ws="websockets-sansio",
        timeout_graceful_shutdown=round(shutdown_seconds),
    )


def token_create(
    user: Annotated[str, typer.Option(help="Whose token it is.")],
    admin: Annotated[bool, typer.Option(help="May change every workflow.")] = False,
    worker: Annotated[
        bool,
        typer.Option(help="A worker's token: claims, reports and heartbeats for --cluster."),
    ] = False,
    cluster: Annotated[
        str | None, typer.Option(help="The cluster a worker token serves (with --worker).")
    ] = None,
    db: Annotated[str | None, typer.Option("--db", envvar="JOBMON_DB_URL", help=DB_HELP)] = None,
) -> None:
    if worker != (cluster is not None):
        typer.echo(
            "a worker token serves one cluster: give --worker and --cluster NAME together",
            err=True,
        )
        raise typer.Exit(2)
    from jobmon_server.auth import create_token
    from jobmon_server.db.engine import Database
    from jobmon_server.db.migrate import upgrade

    url = db or default_db_url()
    upgrade(url)
    database = Database(url)
    try:
        with database.write() as session:
            token = create_token(session, user, admin, cluster)
    finally:
        database.dispose()
    typer.echo(token)


def db_upgrade(
    db: Annotated[str | None, typer.Option("--db", envvar="JOBMON_DB_URL", help=DB_HELP)] = None,
) -> None:
    from jobmon_server.db.migrate import upgrade

    url = db or default_db_url()
    upgrade(url)
    typer.echo(f"database at {url} is up to date")
