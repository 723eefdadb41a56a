"""``jobmon cluster list``: the clusters tasks can run on, their queues' limits, and the
workers that serve them."""

from __future__ import annotations

import typer

from jobmon_client.cli.output import Column, JsonOption, ServerOption, connect, duration, show

app = typer.Typer(help="Clusters and their queues.")

CLUSTERS = """
query Clusters {
  clusters {
    name distributor
    queues { name default maxCores maxMemoryMb maxRuntimeSeconds }
    workers { id hostname version lastSeen alive }
  }
}
"""
NO_QUEUE = {
    "name": "-",
    "default": False,
    "maxCores": None,
    "maxMemoryMb": None,
    "maxRuntimeSeconds": None,
}


def workers_text(workers: list[dict[str, object]]) -> str:
    """The live workers of a cluster: how many, and on which hosts."""
    live = [w for w in workers if w["alive"]]
    if not live:
        return "none"
    hosts = sorted({str(w["hostname"]) for w in live})
    return f"{len(live)} on {', '.join(hosts)}"


@app.command("list")
def list_clusters(server: ServerOption = None, as_json: JsonOption = False) -> None:
    """Clusters with their queues (Slurm partitions) and limits, and their live workers."""
    with connect(server) as client:
        clusters = client.execute(CLUSTERS)["clusters"]
    rows = [
        {
            "cluster": c["name"],
            "distributor": c["distributor"],
            "workers": workers_text(c["workers"]) if i == 0 else "",
            **q,
        }
        for c in clusters
        for i, q in enumerate(c["queues"] or [NO_QUEUE])
    ]
    columns = [
        Column("CLUSTER", lambda r: r["cluster"]),
        Column("DISTRIBUTOR", lambda r: r["distributor"], drop=3),
        Column("WORKERS", lambda r: r["workers"], wrap=True),
        Column("QUEUE", lambda r: r["name"] + (" (default)" if r["default"] else "")),
        Column("MAX CORES", lambda r: r["maxCores"] or "-", "right", drop=1),
        Column(
            "MAX MEMORY",
            lambda r: f"{r['maxMemoryMb']:g}M" if r["maxMemoryMb"] else "-",
            "right",
            drop=2,
        ),
        Column(
            "MAX RUNTIME",
            lambda r: duration(r["maxRuntimeSeconds"]) if r["maxRuntimeSeconds"] else "-",
            "right",
        ),
    ]
    show(rows, columns, as_json=as_json, data=clusters)
