"""Server commands of the ``jobmon`` CLI: ``jobmon server`` and ``jobmon db upgrade``.

The client's CLI loads ``register`` through the ``jobmon.cli`` entry point, so the client
package never imports the server.
"""

from __future__ import annotations

import logging
from typing import Annotated

import typer

from jobmon_server.settings import Settings, default_db_url

DB_HELP = "Database URL: sqlite:///path, postgresql://user@host/db or mysql://user@host/db."


def register(app: typer.Typer) -> None:
    app.command("server", help="Run the Jobmon server (GraphQL API and playground).")(server)
    db = typer.Typer(help="Database administration.", no_args_is_help=True)
    db.command("upgrade", help="Create or upgrade the database schema.")(db_upgrade)
    app.add_typer(db, name="db")


def server(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8070,
    db: Annotated[str | None, typer.Option("--db", envvar="JOBMON_DB_URL", help=DB_HELP)] = None,
    log_level: Annotated[str, typer.Option(help="debug, info, warning or error.")] = "info",
) -> None:
    import uvicorn

    from jobmon_server.app import create_app

    logging.basicConfig(
        level=log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    settings = Settings(db_url=db or default_db_url())
    typer.echo(f"Jobmon server on http://{host}:{port}/graphql (database {settings.db_url})")
    uvicorn.run(
        create_app(settings), host=host, port=port, log_level=log_level, ws="websockets-sansio"
    )


def db_upgrade(
    db: Annotated[str | None, typer.Option("--db", envvar="JOBMON_DB_URL", help=DB_HELP)] = None,
) -> None:
    from jobmon_server.db.migrate import upgrade

    url = db or default_db_url()
    upgrade(url)
    typer.echo(f"database at {url} is up to date")
