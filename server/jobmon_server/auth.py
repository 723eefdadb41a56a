"""Tokens for a shared server.

The embedded default (``jobmon up`` on loopback) needs no login. A shared server runs with
``--auth token``: every GraphQL request then carries ``Authorization: Bearer <token>``,
and the token's user is who acts: reads are open to any user with a token; changing a
workflow is for its owner or an admin. Worker mutations need a worker token, bound to one
cluster (or an admin's). Tokens are made by an admin on the server (``jobmon token create
--user NAME``, with ``--worker --cluster NAME`` for a worker's); the database keeps only
their SHA-256. Who may do what is checked in ``authorize``.
"""

from __future__ import annotations

import hashlib
import secrets
import threading
import time
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from jobmon_server.db import models
from jobmon_server.errors import ValidationFailed
from jobmon_server.transitions import utcnow

CACHE_SECONDS = 30.0
MISSING_TOKEN = (
    "this Jobmon server requires a token: ask an admin for one ('jobmon token create "
    '--user NAME\' on the server) and set JOBMON_TOKEN, or token = "..." in '
    "~/.jobmon/config.toml"
)


@dataclass(frozen=True)
class Identity:
    user: str
    admin: bool = False
    # The token's row (None without tokens) and, for a worker token, the cluster it serves.
    token_id: int | None = None
    cluster: str | None = None


def digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create_token(
    session: Session, user: str, admin: bool = False, cluster: str | None = None
) -> str:
    """A new token for ``user``; with ``cluster``, a worker token for that cluster."""
    if not user or len(user) > 150:
        raise ValidationFailed("a user name needs 1 to 150 characters", "user")
    if cluster is not None and not 1 <= len(cluster) <= 255:
        raise ValidationFailed("a cluster name needs 1 to 255 characters", "cluster")
    token = secrets.token_urlsafe(32)
    session.add(
        models.ApiToken(
            token_hash=digest(token),
            user=user,
            admin=admin,
            revoked=False,
            created=utcnow(),
            cluster=cluster,
        )
    )
    return token


class TokenCache:
    """Token checks without a database read per request (a revocation takes up to 30 s)."""

    def __init__(self) -> None:
        self._known: dict[str, tuple[Identity | None, float]] = {}
        self._lock = threading.Lock()

    def identify(self, session_factory: object, token: str) -> Identity | None:
        key = digest(token)
        now = time.monotonic()
        with self._lock:
            hit = self._known.get(key)
            if hit is not None and hit[1] > now:
                return hit[0]
        with session_factory() as session:  # type: ignore[operator]
            row = session.scalars(
                select(models.ApiToken).where(
                    models.ApiToken.token_hash == key, models.ApiToken.revoked.is_(False)
                )
            ).first()
            identity = (
                Identity(row.user, row.admin, row.id, row.cluster) if row is not None else None
            )
        with self._lock:
            if len(self._known) > 10_000:
                self._known.clear()
            self._known[key] = (identity, now + CACHE_SECONDS)
        return identity


def bearer(headers: list[tuple[bytes, bytes]]) -> str | None:
    for name, value in headers:
        if name == b"authorization":
            scheme, _, token = value.decode("latin-1").partition(" ")
            if scheme.lower() == "bearer" and token.strip():
                return token.strip()
    return None


def init_token(payload: object) -> str | None:
    """A websocket's token from its ``connection_init`` payload: ``{"token": ...}``, or
    ``{"Authorization": "Bearer ..."}`` as some GraphQL clients send it."""
    if not isinstance(payload, dict):
        return None
    token = payload.get("token")
    if isinstance(token, str) and token.strip():
        return token.strip()
    for key in ("Authorization", "authorization"):
        value = payload.get(key)
        if isinstance(value, str):
            scheme, _, found = value.partition(" ")
            if scheme.lower() == "bearer" and found.strip():
                return found.strip()
    return None
