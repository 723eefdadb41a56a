"""How commands talk to the server and show what they found: rich tables or JSON."""

from __future__ import annotations

import getpass
import json
import math
import os
import sys
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any

import typer
from rich.cells import cell_len
from rich.console import Console
from rich.table import Table

from jobmon_client.transport import GraphQLClient, unwrap

ServerOption = Annotated[
    str | None,
    typer.Option("--server", envvar="JOBMON_SERVER_URL", help="Server URL (default from config)."),
]
JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")]
WorkflowOption = Annotated[int, typer.Option("--workflow-id", "-w", help="Workflow id.")]

# Statuses as Jobmon's status commands group them.
STATUS_GROUPS: dict[str, tuple[str, ...]] = {
    "PENDING": ("REGISTERING", "QUEUED", "ERROR_RECOVERABLE", "ADJUSTING_RESOURCES"),
    "SCHEDULED": ("INSTANTIATING", "LAUNCHED"),
    "RUNNING": ("RUNNING",),
    "DONE": ("DONE",),
    "FATAL": ("ERROR_FATAL",),
}
TASK_STATUSES = tuple(s for group in STATUS_GROUPS.values() for s in group)
PIPED_WIDTH = 200
STATUS_STYLE = {
    "PENDING": "dim",
    "SCHEDULED": "cyan",
    "RUNNING": "blue",
    "DONE": "green",
    "FATAL": "bold red",
    "FAILED": "bold red",
    "HALTED": "yellow",
    "ERROR": "red",
    "RESOURCE_ERROR": "red",
    "UNKNOWN_ERROR": "red",
    "NO_HEARTBEAT": "red",
    "ERROR_FATAL": "bold red",
}

# Piped output is read by scripts and people alike: don't squeeze it into 80 columns.
console = Console(width=None if sys.stdout.isatty() or "COLUMNS" in os.environ else PIPED_WIDTH)


class UsageError(Exception):
    """A command was given something it cannot use; the message says what to do."""


def connect(server: str | None) -> GraphQLClient:
    """A client that gives up quickly: a person is waiting at the terminal."""
    return GraphQLClient(server, timeout=30.0, retries=2, backoff_start=0.2)


def current_user() -> str:
    return getpass.getuser()


def query(client: GraphQLClient, document: str, variables: dict[str, Any], field: str) -> Any:
    """Run a query or mutation whose field is a result union; raise its error if any."""
    return unwrap(client.execute(document, variables), field)


def paged(
    client: GraphQLClient,
    document: str,
    variables: dict[str, Any],
    path: tuple[str, str],
    limit: int,
    page_size: int = 1000,
) -> tuple[list[dict[str, Any]], bool]:
    """Items of a paginated list up to ``limit``, and whether more remain.

    ``path`` names the union field and its list field (``("workflow", "tasks")``); the
    document takes ``$first`` and ``$after``.
    """
    field, list_field = path
    items: list[dict[str, Any]] = []
    after: str | None = None
    while True:
        page_vars = {**variables, "first": min(page_size, limit - len(items)), "after": after}
        page = query(client, document, page_vars, field)[list_field]
        items += page["items"]
        if not page["hasNextPage"]:
            return items, False
        if len(items) >= limit:
            return items, True
        after = page["endCursor"]


def expand_statuses(values: Sequence[str] | None) -> list[str]:
    """Task statuses from names or Jobmon's groups (PENDING, SCHEDULED, RUNNING, DONE, FATAL)."""
    statuses: list[str] = []
    for value in values or []:
        name = value.upper()
        if name in STATUS_GROUPS:
            statuses += STATUS_GROUPS[name]
        elif name in TASK_STATUSES:
            statuses.append(name)
        else:
            raise UsageError(
                f"unknown task status '{value}'; use one of "
                + ", ".join([*STATUS_GROUPS, *[s for s in TASK_STATUSES if s not in STATUS_GROUPS]])
            )
    return list(dict.fromkeys(statuses))


def group_of(status: str) -> str:
    return next((g for g, members in STATUS_GROUPS.items() if status in members), status)


def grouped_counts(counts: Sequence[dict[str, Any]]) -> dict[str, int]:
    grouped = dict.fromkeys(STATUS_GROUPS, 0)
    for c in counts:
        grouped[group_of(c["status"])] += int(c["count"])
    return grouped


@dataclass(frozen=True)
class Column:
    """A table column. Values are kept whole (a name is not split mid-word) up to
    ``WHOLE_UP_TO`` characters; ``wrap`` columns are free text that wraps at spaces into
    the room left. On a narrow terminal, columns with the highest ``drop`` go first
    (0: never dropped)."""

    header: str
    value: Callable[[dict[str, Any]], Any]
    justify: str = "left"
    style: Callable[[Any], str | None] | None = None
    wrap: bool = False
    drop: int = 0
    min_width: int = 0  # a wrap column's least width (default WRAP_MIN)


WHOLE_UP_TO = 40
WRAP_MIN = 20
BORDERS = 3  # a column's padding and rule in the table's box


def status_style(value: Any) -> str | None:
    return STATUS_STYLE.get(str(value))


def show(
    rows: Sequence[dict[str, Any]],
    columns: Sequence[Column],
    *,
    as_json: bool,
    data: Any = None,
    title: str | None = None,
    empty: str = "nothing to show",
    more: str | None = None,
) -> None:
    """Print ``rows`` as a table, or ``data`` (default: the rows) as JSON."""
    if as_json:
        typer.echo(json.dumps(rows if data is None else data, indent=2, default=str))
        return
    if not rows:
        console.print(f"[dim]{empty}[/dim]")
        return
    values = [[column.value(row) for column in columns] for row in rows]
    texts = [["" if v is None else str(v) for v in line] for line in values]
    kept = _fitting(columns, texts, console.width)
    texts = [[line[i] for i in kept] for line in texts]
    values = [[line[i] for i in kept] for line in values]
    shown = [columns[i] for i in kept]
    widths = _widened(shown, texts, _widths(shown, texts, console.width), console.width)
    table = Table(title=title, title_justify="left", header_style="bold")
    for column, width in zip(shown, widths, strict=True):
        table.add_column(
            column.header,
            justify=column.justify,  # type: ignore[arg-type]
            overflow="fold",
            width=width or None,  # set here: rich's own narrowing splits names first
        )
    for line, text_line in zip(values, texts, strict=True):
        cells = []
        for column, value, text in zip(shown, line, text_line, strict=True):
            style = column.style(value) if column.style else None
            cells.append(f"[{style}]{escape(text)}[/{style}]" if style else escape(text))
        table.add_row(*cells)
    console.print(table)
    dropped = [columns[i].header for i in range(len(columns)) if i not in kept]
    if dropped:
        console.print(f"[dim]hidden at this width: {', '.join(dropped)} (--json has all)[/dim]")
    if more:
        console.print(f"[dim]{more}[/dim]")


def _widths(
    columns: Sequence[Column], texts: Sequence[Sequence[str]], room: int, widest: bool = False
) -> list[int]:
    """Least widths that fit ``room``, from the widest layout to the narrowest: whole values
    and headers; then free text down to its header's longest word; then headers wrapped at
    their spaces; else none (0: values fold where they must). ``widest``: only the first,
    or [] when it does not fit."""
    longest = [max((cell_len(line[i]) for line in texts), default=0) for i in range(len(columns))]
    words = [max(cell_len(word) for word in c.header.split()) for c in columns]
    values = [
        min(n, c.min_width or WRAP_MIN) if c.wrap else min(n, WHOLE_UP_TO)
        for c, n in zip(columns, longest, strict=True)
    ]
    headers = [words[i] if c.wrap else cell_len(c.header) for i, c in enumerate(columns)]
    whole = [max(h, v) for h, v in zip(headers, values, strict=True)]
    layouts = [
        whole,
        [w if c.wrap else x for c, w, x in zip(columns, words, whole, strict=True)],
        [w if c.wrap else max(w, v) for c, w, v in zip(columns, words, values, strict=True)],
    ]
    for widths in layouts[:1] if widest else layouts:
        if _needed(widths) <= room:
            return widths
    return [] if widest else [0] * len(columns)


def _widened(
    columns: Sequence[Column], texts: Sequence[Sequence[str]], widths: list[int], room: int
) -> list[int]:
    """Free text columns given the room left, in even shares, up to what their text needs."""
    if not any(widths):
        return widths
    widths = list(widths)
    wants = {
        i: max([cell_len(c.header), *(cell_len(line[i]) for line in texts)]) - widths[i]
        for i, c in enumerate(columns)
        if c.wrap
    }
    left = room - _needed(widths)
    while left > 0 and any(w > 0 for w in wants.values()):
        wanting = [i for i, w in wants.items() if w > 0]
        share = max(left // len(wanting), 1)
        for i in wanting:
            more = min(share, wants[i], left)
            widths[i] += more
            wants[i] -= more
            left -= more
    return widths


def _needed(widths: Sequence[int]) -> int:
    return sum(w + BORDERS for w in widths) + 1


def _fitting(columns: Sequence[Column], texts: Sequence[Sequence[str]], room: int) -> list[int]:
    """The columns that fit in ``room`` at their widest, dropping the most droppable first."""
    kept = list(range(len(columns)))
    droppable = sorted(
        (i for i, c in enumerate(columns) if c.drop), key=lambda i: (-columns[i].drop, -i)
    )
    for i in droppable:
        shown = [columns[k] for k in kept]
        if _widths(shown, [[line[k] for k in kept] for line in texts], room, widest=True):
            break
        kept.remove(i)
    return kept


def escape(text: str) -> str:
    from rich.markup import escape as rich_escape

    return rich_escape(text)


def print_line(message: str, *, as_json: bool, data: Any) -> None:
    """A one-line confirmation, or its data as JSON."""
    if as_json:
        typer.echo(json.dumps(data, indent=2, default=str))
    else:
        console.print(message, highlight=False)


def when(value: str | None) -> str:
    """A server time (ISO, UTC) in the local time zone, to the minute."""
    if not value:
        return ""
    return datetime.fromisoformat(value).astimezone().strftime("%Y-%m-%d %H:%M")


def size(value: float | None) -> str:
    if value is None:
        return ""
    for unit in ("B", "K", "M", "G", "T"):
        if value < 1024 or unit == "T":
            return f"{value:.0f}{unit}" if unit == "B" else f"{value:.1f}{unit}"
        value /= 1024
    return ""


def duration(seconds: float | None) -> str:
    if seconds is None or math.isnan(seconds):
        return ""
    if seconds < 60:
        return f"{seconds:.1f}s"
    minutes, secs = divmod(round(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}"


def last_line(text: str | None, width: int = 80) -> str:
    if not text:
        return ""
    lines = [line for line in text.strip().splitlines() if line.strip()]
    line = lines[-1].strip() if lines else ""
    return line if len(line) <= width else line[: width - 1] + "…"


def requested(resources: dict[str, Any] | None) -> str:
    """Cores, memory and runtime asked for, as in "1c 1G 10m"."""
    if not resources:
        return ""
    parts = [f"{resources['cores']}c"] if "cores" in resources else []
    parts += [str(resources[k]) for k in ("memory", "runtime") if k in resources]
    return " ".join(parts)


def chunked(ids: Sequence[int], size: int) -> Iterator[Sequence[int]]:
    for start in range(0, len(ids), size):
        yield ids[start : start + size]


def attributes_text(attributes: dict[str, Any]) -> str:
    """Workflow or task attributes on one line: ``release_id=3, model=2.1``."""
    return ", ".join(f"{k}={'' if v is None else v}" for k, v in attributes.items())
