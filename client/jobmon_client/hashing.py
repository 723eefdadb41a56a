"""Content hashes that give a workflow its identity.

The same tool, ``workflow_args``, task set and edges bind to the same workflow, which is
what makes resume work. The hashes are computed by the client only from what the user
wrote (no server ids), so every client language must compute them exactly like this:

* ``sha1(s)`` is the lowercase hex SHA-1 of the UTF-8 bytes of ``s``.
* ``canonical(args)`` of a mapping of arg name to value: the values are converted to
  strings (Python ``str(value)``; on the wire the values are these strings), the items are
  sorted by name (by code point), and each item contributes ``f"{len(k)}:{k}{len(v)}:{v}"``
  where ``len`` counts Unicode code points (R: ``nchar(x, type = "chars")``). The empty
  mapping gives ``""``.
* ``task_key = sha1(template_name + "\\x1f" + command_template + "\\x1f"
  + canonical(node_args) + "\\x1f" + canonical(task_args))``. Op args do not count.
* ``taskHash = sha1("\\n".join(sorted(task_keys)))`` over the distinct tasks.
* ``dagHash = sha1("\\n".join(sorted(f"{upstream_key}>{downstream_key}" for each edge)))``
  over the distinct edges; a workflow without edges has ``sha1("")``.
* ``node_args_hash = sha1(canonical(node_args))``: a task's node within its template
  version (the server's key for it).

The bind digest (``binding.bind_digest``) is not identity: it is how a client learns
cheaply that a workflow bound before holds exactly what it would bind (commands, task
args, attempts, resources, edges), so that a resume sends no task and computes none of
the hashes above. Any client may compute it its own way.

Sorting is by code point (Python's default string order; R: ``sort(method = "radix")``).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Mapping

SEPARATOR = "\x1f"


def sha1_hex(text: str) -> str:
    return hashlib.sha1(text.encode("utf-8")).hexdigest()


def canonical(args: Mapping[str, object]) -> str:
    """Length-prefixed, name-sorted encoding of an arg mapping."""
    items = sorted([(name, str(value)) for name, value in args.items()])
    return "".join([f"{len(k)}:{k}{len(v)}:{v}" for k, v in items])


def task_key(
    template_name: str,
    command_template: str,
    node_args: Mapping[str, object],
    task_args: Mapping[str, object],
) -> str:
    """The identity of one task, independent of any server id."""
    return sha1_hex(
        SEPARATOR.join(
            (template_name, command_template, canonical(node_args), canonical(task_args))
        )
    )


def template_task_key(template_name: str, command_template: str) -> Callable[[str, str], str]:
    """``task_key`` for the tasks of one template, from ``canonical`` of their node args
    and of their task args: the same keys, with the template's part hashed only once."""
    head = hashlib.sha1(f"{template_name}{SEPARATOR}{command_template}{SEPARATOR}".encode())

    def key(node_args: str, task_args: str) -> str:
        digest = head.copy()
        digest.update(f"{node_args}{SEPARATOR}{task_args}".encode())
        return digest.hexdigest()

    return key


def task_hash(task_keys: Iterable[str]) -> str:
    """The identity of a set of tasks (order does not matter)."""
    return sha1_hex("\n".join(sorted(task_keys)))


def dag_hash(edges: Iterable[tuple[str, str]]) -> str:
    """The identity of a set of ``(upstream_key, downstream_key)`` edges."""
    return sha1_hex("\n".join(sorted(f"{up}>{down}" for up, down in edges)))


def node_args_hash(node_args: Mapping[str, object]) -> str:
    return sha1_hex(canonical(node_args))
