"""Task generators that the task generator tests run on real workers.

Each function writes what it received (as JSON, with the type of every value) to a file
in ``out``, so that a test can compare it with what it passed. The compute node imports
this module as ``tests.task_generator_funcs`` (the repository is on its PYTHONPATH).
"""

from __future__ import annotations

import datetime
import enum
import json
from pathlib import Path
from typing import Any

from jobmon_client import task_generator


class YearRange:
    """A custom type, written as ``2020-2025``."""

    def __init__(self, start: int, end: int) -> None:
        self.start = start
        self.end = end

    @staticmethod
    def parse(text: str) -> YearRange:
        start, end = text.split("-")
        return YearRange(int(start), int(end))

    def __str__(self) -> str:
        return f"{self.start}-{self.end}"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, YearRange) and (self.start, self.end) == (other.start, other.end)

    def __hash__(self) -> int:
        return hash((self.start, self.end))


class Draws:
    """A custom type whose text is a list, as upstream's FHS ``Versions``: ``[0.1, 0.9]``."""

    def __init__(self, *quantiles: float) -> None:
        self.quantiles = list(quantiles)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Draws) and self.quantiles == other.quantiles


def draws_to_str(draws: Draws) -> str:
    return "[" + ", ".join(repr(q) for q in draws.quantiles) + "]"


def draws_from_str(text: str) -> Draws:
    return Draws(*(float(q) for q in text.strip("[]").split(", ") if q))


class Measure(enum.Enum):
    DEATHS = "deaths"
    CASES = "cases"


REPO = Path(__file__).resolve().parent.parent

# Strings that a shell would take apart, expand or run, and other awkward ones.
NASTY = [
    "",
    "plain",
    "it's",
    'b"c"b',
    "$(touch pwned)",
    "`touch pwned`",
    "a; rm -rf /tmp/x && echo",
    "line one\nline two\r\n",
    "tab\there",
    "é漢字🙂",
    "back\\slash\\",
    "None",
    "\\None",
    "-x",
    "--module_name=evil",
    "a=b=c",
    "{braces} and {{doubled}}",
    "%s %(x)s *? ~ !",
    " leading and trailing ",
    "[a,b]",
    '["json"]',
]

SERIALIZERS = {YearRange: (str, YearRange.parse), Draws: (draws_to_str, draws_from_str)}


def describe(value: Any) -> Any:
    """A JSON picture of a value, with the type of everything in it."""
    if isinstance(value, YearRange):
        return {"YearRange": [value.start, value.end]}
    if isinstance(value, Draws):
        return {"Draws": value.quantiles}
    if isinstance(value, enum.Enum):
        return {type(value).__name__: value.name}
    if isinstance(value, datetime.datetime | datetime.date):
        return {type(value).__name__: value.isoformat()}
    if isinstance(value, Path):
        return {"Path": str(value)}
    if isinstance(value, dict):
        return {"dict": {str(k): describe(v) for k, v in value.items()}}
    if isinstance(value, list | tuple | set | frozenset):
        items = sorted(value, key=repr) if isinstance(value, set | frozenset) else value
        return {type(value).__name__: [describe(v) for v in items]}
    return {type(value).__name__: value}


def record(out: Path, label: str, **values: Any) -> None:
    (out / f"{label}.json").write_text(
        json.dumps({name: describe(v) for name, v in values.items()}), encoding="utf-8"
    )


@task_generator(serializers=SERIALIZERS, tool_name="tg_demo", naming_args=["location_id"])
def fit(
    location_id: int,
    years: YearRange,
    out: Path,
    draws: Draws | None = None,
    measure: Measure = Measure.DEATHS,
    ranges: list[YearRange] = [],  # noqa: B006 - a default, never mutated
    start: datetime.date = datetime.date(2020, 1, 1),
    weights: dict[str, float] | None = None,
    tags: frozenset[str] = frozenset(),
    pair: tuple[int, bool] = (0, False),
) -> None:
    """Fit one location: records every argument."""
    record(
        out,
        f"fit_{location_id}",
        location_id=location_id,
        years=years,
        draws=draws,
        measure=measure,
        ranges=ranges,
        start=start,
        weights=weights,
        tags=tags,
        pair=pair,
    )


@task_generator(serializers={}, tool_name="tg_demo", naming_args=[])
def summarize(out: Path) -> None:
    """Count what the fits wrote."""
    fits = sorted(p.name for p in out.glob("fit_*.json"))
    (out / "summary.json").write_text(json.dumps(fits), encoding="utf-8")


@task_generator(serializers={}, tool_name="tg_demo", naming_args=["label"], max_attempts=1)
def echo(
    out: Path,
    label: str,
    text: str,
    maybe: str | None,
    items: list[str],
    mapping: dict[str, str],
    path: Path,
) -> None:
    """Record strings exactly as they arrived."""
    record(out, label, text=text, maybe=maybe, items=items, mapping=mapping, path=path)


@task_generator(serializers={}, tool_name="tg_demo", naming_args=["location_id"], max_attempts=1)
def fails_for_odd(location_id: int, out: Path) -> None:
    """Raise for odd locations."""
    if location_id % 2:
        raise ValueError(f"location {location_id} has no data")
    record(out, f"even_{location_id}", location_id=location_id)
