"""The Python client's hashes against tests/data/hash_vectors.json.

The R client's tests read the same file (client/R/jobmonr/tests/testthat/test-hashing.R),
so both clients are held to the same values and bind the same workflow.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from jobmon_client import hashing

VECTORS: dict[str, Any] = json.loads(
    (Path(__file__).parent / "data" / "hash_vectors.json").read_text(encoding="utf-8")
)
KEYS = [task["task_key"] for task in VECTORS["task_keys"]]


def test_canonical_args() -> None:
    for vector in VECTORS["canonical"]:
        assert hashing.canonical(vector["args"]) == vector["canonical"]


def test_task_keys() -> None:
    for task in VECTORS["task_keys"]:
        key = hashing.task_key(
            task["template"], task["command_template"], task["node_args"], task["task_args"]
        )
        assert key == task["task_key"]


def test_task_set_and_dag_hashes() -> None:
    for task_set in VECTORS["task_hash"]:
        assert hashing.task_hash([KEYS[i] for i in task_set["tasks"]]) == task_set["task_hash"]
    for dag in VECTORS["dag_hash"]:
        edges = [(KEYS[up], KEYS[down]) for up, down in dag["edges"]]
        assert hashing.dag_hash(edges) == dag["dag_hash"]
