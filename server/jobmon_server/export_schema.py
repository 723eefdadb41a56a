"""Write the schema as SDL: ``python -m jobmon_server.export_schema`` (kept in the repo)."""

from __future__ import annotations

import sys
from pathlib import Path

from jobmon_server.graphql.schema import schema

SCHEMA_FILE = Path(__file__).resolve().parent / "schema.graphql"


def sdl() -> str:
    return schema.as_str() + "\n"


if __name__ == "__main__":
    target = Path(sys.argv[1]) if len(sys.argv) > 1 else SCHEMA_FILE
    target.write_text(sdl())
    print(f"wrote {target}")
