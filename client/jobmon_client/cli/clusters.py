"""``jobmon cluster list``: the clusters tasks can run on and their queues' limits."""

from __future__ import annotations

import typer

from jobmon_client.cli.output import Column, JsonOption, ServerOption, connect, duration, show

app = typer.Typer(help="Clusters and their queues.")

CLUSTERS = """
query Clusters {
  clusters { name distributor queues { name default maxCores maxMemoryMb maxRuntimeSeconds } }
}
"""


@app.command("list")
def list_clusters(server: ServerOption = None, as_json: JsonOption = False) -> None:
    """Clusters with their queues (Slurm partitions) and limits."""
    with connect(server) as client:
        clusters = client.execute(CLUSTERS)["clusters"]
    rows = [
        {"cluster": c["name"], "distributor": c["distributor"], **q}
        for c in clusters
        for q in c["queues"]
    ]
    columns = [
        Column("CLUSTER", lambda r: r["cluster"]),
        Column("DISTRIBUTOR", lambda r: r["distributor"]),
        Column("QUEUE", lambda r: r["name"] + (" (default)" if r["default"] else "")),
        Column("MAX CORES", lambda r: r["maxCores"] or "-", "right"),
        Column(
            "MAX MEMORY",
            lambda r: f"{r['maxMemoryMb']:g}M" if r["maxMemoryMb"] else "-",
            "right",
        ),
        Column(
            "MAX RUNTIME",
            lambda r: duration(r["maxRuntimeSeconds"]) if r["maxRuntimeSeconds"] else "-",
            "right",
        ),
    ]
    show(rows, columns, as_json=as_json, data=clusters)
