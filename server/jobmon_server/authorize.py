"""Who may write what, on a server with tokens.

- Binding into an existing workflow (its tasks, edges, the end of its bind, binding it
  again) and starting a run of it are for its owner or an admin: a task's command changes
  only through its owner's bind.
- Worker mutations need a worker token (made with ``jobmon token create --worker --cluster
  NAME``) for the cluster they name, or an admin's token. A worker id belongs to the token
  that announced it: no other token claims, reports or heartbeats under it (an admin's
  may). Which instances a worker may report on is the lease's to say (``workers``).

Without tokens (``jobmon up`` on loopback) there is no identity and nothing here refuses:
whoever can reach the server is trusted, and the user a client names is who acts.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from jobmon_server.auth import Identity
from jobmon_server.context import Services
from jobmon_server.db import models
from jobmon_server.errors import NotFoundError, PermissionDeniedError

WORKER_TOKEN_HINT = (
    "ask an admin for a worker token ('jobmon token create --user NAME --worker --cluster "
    "CLUSTER' on the server) and give it to the worker in JOBMON_WORKER_TOKEN"
)


def check_owner(session: Session, workflow_id: int, identity: Identity | None, action: str) -> None:
    """Refuse ``action`` on the workflow unless the caller owns it (or is an admin)."""
    if identity is None or identity.admin:
        return
    owner = session.connection().scalar(
        select(models.Workflow.user).where(models.Workflow.id == workflow_id)
    )
    if owner is None:
        raise NotFoundError(f"workflow {workflow_id} does not exist")
    refuse_unless_owner(workflow_id, owner, identity, action)


def refuse_unless_owner(
    workflow_id: int, owner: str, identity: Identity | None, action: str
) -> None:
    if identity is None or identity.admin or owner == identity.user:
        return
    raise PermissionDeniedError(
        f"workflow {workflow_id} belongs to {owner}; only its owner or an admin may {action}"
    )


def check_worker_role(identity: Identity | None, cluster_name: str | None = None) -> None:
    """Refuse a worker mutation from a token that is not a worker's (of this cluster)."""
    if identity is None or identity.admin:
        return
    if identity.cluster is None:
        raise PermissionDeniedError(
            f"only a worker may do this, and the token of {identity.user} is not a worker "
            f"token: {WORKER_TOKEN_HINT}"
        )
    if cluster_name is not None and cluster_name != identity.cluster:
        raise PermissionDeniedError(
            f"this worker token serves cluster '{identity.cluster}', not '{cluster_name}': "
            f"{WORKER_TOKEN_HINT}"
        )


# Guards each server's ``Services.worker_tokens``: which token announced which worker id,
# remembered once seen (an id never passes to another token, so what is remembered stays
# true).
_worker_tokens_lock = threading.Lock()


def announced_token(session: Session, worker_id: str) -> tuple[bool, int | None]:
    """Whether the worker announced itself, and with which token."""
    row = (
        session.connection()
        .execute(select(models.Worker.token_id).where(models.Worker.id == worker_id))
        .first()
    )
    return (False, None) if row is None else (True, row[0])


def refuse_foreign_worker(
    worker_id: str, identity: Identity, found: bool, token_id: int | None
) -> None:
    if not found:
        raise PermissionDeniedError(
            f"worker {worker_id} has not announced itself: a worker announces itself "
            "(announceWorker) with its token before it claims, reports or adopts"
        )
    if token_id != identity.token_id:
        raise PermissionDeniedError(
            f"worker {worker_id} was announced with another token; a worker claims, reports "
            "and sends heartbeats with the token it announced itself with"
        )


async def check_worker(
    services: Services,
    identity: Identity | None,
    worker_ids: Sequence[str],
    cluster_name: str | None = None,
) -> None:
    """Refuse a worker mutation unless the token is a worker's (of ``cluster_name``) and
    each of ``worker_ids`` was announced with this very token."""
    check_worker_role(identity, cluster_name)
    if identity is None or identity.admin or identity.token_id is None:
        return
    token_id = identity.token_id
    for worker_id in dict.fromkeys(worker_ids):
        with _worker_tokens_lock:
            if services.worker_tokens.get(worker_id) == token_id:
                continue
        found, owner = await services.read(announced_token, worker_id)
        refuse_foreign_worker(worker_id, identity, found, owner)
        with _worker_tokens_lock:
            if len(services.worker_tokens) > 100_000:
                services.worker_tokens.clear()
            services.worker_tokens[worker_id] = token_id


def announcing_token(session: Session, worker_id: str, identity: Identity | None) -> int | None:
    """The token a worker announcing itself under ``worker_id`` is recorded with; refused
    when another token announced that id before (an admin may announce any, and leaves
    the id to the token it had)."""
    if identity is None:
        return None
    found, owner = announced_token(session, worker_id)
    if found and owner is not None and owner != identity.token_id:
        if identity.admin:
            return owner
        raise PermissionDeniedError(
            f"worker {worker_id} was announced with another token; start this worker "
            "under a worker id of its own"
        )
    return identity.token_id
