"""``jobmon update_config KEY VALUE``: set a value in the client's config file.

Keys are dotted (``http.retries_attempts``) and become TOML tables
(``[http] retries_attempts = 15``) in ``~/.jobmon/config.toml`` (or ``JOBMON_CONFIG``, or
``--config-file``). Jobmon's ``http.service_url`` is this client's ``server_url``. Values
that read as numbers or true/false are stored as such.
"""

from __future__ import annotations

import json
import tomllib
from pathlib import Path
from typing import Annotated, Any

import typer

from jobmon_client.cli.output import UsageError
from jobmon_client.config import config_path

# Jobmon's keys that mean one of this client's.
KEY_ALIASES = {"http.service_url": "server_url", "http.token": "token"}
# The keys this client reads; others are stored for other tools, and said so.
KEYS_READ = frozenset({"server_url", "token"})


def update_config(
    key: Annotated[str, typer.Argument(help="Dotted key, such as http.retries_attempts.")],
    value: Annotated[str, typer.Argument(help="The new value.")],
    config_file: Annotated[
        Path | None, typer.Option("--config-file", help="The file to change.")
    ] = None,
) -> None:
    """Set KEY to VALUE in the client's config file."""
    name = KEY_ALIASES.get(key, key)
    parts = name.split(".")
    if not all(parts):
        raise UsageError(f"'{key}' is not a dotted key such as http.retries_attempts")
    path = config_file or config_path()
    data: dict[str, Any] = {}
    if path.exists():
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except tomllib.TOMLDecodeError as exc:
            raise UsageError(f"{path} is not valid TOML ({exc}); fix or remove it") from None
    node = data
    for part in parts[:-1]:
        child = node.setdefault(part, {})
        if not isinstance(child, dict):
            raise UsageError(f"'{part}' in {path} is a value, not a table; cannot set '{key}'")
        node = child
    node[parts[-1]] = _typed(value)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(dumps(data), encoding="utf-8")
    note = "" if name in KEYS_READ else " (this client does not read it)"
    print(f"{name} = {json.dumps(node[parts[-1]])} written to {path}{note}")


app = typer.Typer(help="The client's configuration file.")
app.command("set")(update_config)


@app.command("show")
def show_config(
    config_file: Annotated[
        Path | None, typer.Option("--config-file", help="The file to show.")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Print the client's configuration file and the server it points at."""
    from jobmon_client.config import server_url

    path = config_file or config_path()
    data: dict[str, Any] = {}
    if path.exists():
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    if as_json:
        print(json.dumps({"path": str(path), "config": data, "server_url": server_url()}))
        return
    print(f"# {path}{'' if path.exists() else ' (does not exist)'}")
    print(dumps(data), end="")
    print(f"# server: {server_url()}")


def _typed(value: str) -> Any:
    lowered = value.lower()
    if lowered in ("true", "false"):
        return lowered == "true"
    for kind in (int, float):
        try:
            return kind(value)
        except ValueError:
            continue
    return value


def dumps(data: dict[str, Any], prefix: str = "") -> str:
    """A small TOML writer: tables of strings, numbers, booleans and lists of them."""
    lines = [f"{_key(k)} = {_value(v)}" for k, v in data.items() if not isinstance(v, dict)]
    text = "\n".join(lines) + ("\n" if lines else "")
    for k, v in data.items():
        if isinstance(v, dict):
            name = f"{prefix}.{_key(k)}" if prefix else _key(k)
            text += f"\n[{name}]\n" + dumps(v, name)
    return text


def _key(key: str) -> str:
    return key if key.replace("_", "").replace("-", "").isalnum() else json.dumps(key)


def _value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, list):
        return "[" + ", ".join(_value(v) for v in value) + "]"
    return json.dumps(str(value))
