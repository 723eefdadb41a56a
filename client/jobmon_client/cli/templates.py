"""``jobmon template resources``: what a workflow's templates used, and what to ask for."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
import yaml

from jobmon_client.cli.output import (
    Column,
    JsonOption,
    ServerOption,
    UsageError,
    WorkflowOption,
    connect,
    console,
    duration,
    query,
    show,
    size,
)

app = typer.Typer(help="Task templates: resource usage and suggested resources.")

TEMPLATE_RESOURCES = """
query TemplateResources($id: Int!) {
  workflow(id: $id) {
    __typename
    ... on Workflow {
      templates {
        templateName clusterName
        resourceUsage {
          numInstances
          memoryBytes { min median max }
          runtimeSeconds { min median max }
          suggested
        }
      }
    }
    ... on Error { message }
  }
}
"""


@app.command("resources")
def resources(
    workflow_id: WorkflowOption,
    template: Annotated[
        str | None, typer.Option("--template", "-t", help="Only this template.")
    ] = None,
    output: Annotated[
        Path | None,
        typer.Option(
            "--output",
            "-o",
            "--print-file",
            "-p",
            help="Write the suggested resources as YAML for the next run.",
        ),
    ] = None,
    server: ServerOption = None,
    as_json: JsonOption = False,
) -> None:
    """Memory and runtime used per template (finished attempts), and a suggestion."""
    with connect(server) as client:
        workflow = query(client, TEMPLATE_RESOURCES, {"id": workflow_id}, "workflow")
    templates = workflow["templates"]
    if template is not None:
        templates = [t for t in templates if t["templateName"] == template]
        if not templates:
            raise UsageError(f"workflow {workflow_id} has no tasks of template '{template}'")
    rows = [_row(t) for t in templates]
    suggested = suggested_yaml(templates)
    if output is not None:
        output.write_text(yaml.safe_dump(suggested, sort_keys=False))
    columns = [
        Column("TEMPLATE", lambda r: r["template"]),
        Column("DONE", lambda r: r["num_instances"], "right"),
        Column("MEMORY MEDIAN", lambda r: size(r["memory_bytes"]["median"]), "right", drop=2),
        Column("MEMORY MAX", lambda r: size(r["memory_bytes"]["max"]), "right"),
        Column(
            "RUNTIME MEDIAN", lambda r: duration(r["runtime_seconds"]["median"]), "right", drop=1
        ),
        Column("RUNTIME MAX", lambda r: duration(r["runtime_seconds"]["max"]), "right"),
        Column(
            "SUGGESTED",
            lambda r: " ".join(f"{k}={v}" for k, v in (r["suggested"] or {}).items()),
            wrap=True,
        ),
    ]
    show(rows, columns, as_json=as_json, empty=f"workflow {workflow_id} has no tasks")
    if output is not None and not as_json:
        console.print(f"suggested resources written to {output}", highlight=False)


def _row(t: dict[str, Any]) -> dict[str, Any]:
    usage = t["resourceUsage"]
    return {
        "template": t["templateName"],
        "cluster": t["clusterName"],
        "num_instances": usage["numInstances"],
        "memory_bytes": usage["memoryBytes"],
        "runtime_seconds": usage["runtimeSeconds"],
        "suggested": usage["suggested"],
    }


def suggested_yaml(templates: list[dict[str, Any]]) -> dict[str, Any]:
    """Jobmon's resources file: ``task_template_resources: {template: {cluster: {...}}}``."""
    return {
        "task_template_resources": {
            t["templateName"]: {t["clusterName"]: t["resourceUsage"]["suggested"]}
            for t in templates
            if t["resourceUsage"]["suggested"]
        }
    }
