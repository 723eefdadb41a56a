"""GraphQL over HTTP for the client, the worker and the CLI.

One small surface, ``GraphQLClient.execute(document, variables)``, on top of gql. It
retries what is transient, with jittered exponential backoff capped at a few seconds: a
server that cannot be reached, and a server that answers that its database is unavailable
(error code UNAVAILABLE, HTTP 503). Every mutation the client sends is idempotent, so a
resend is safe. Other GraphQL errors become ``ServerError``.
"""

from __future__ import annotations

import functools
import logging
import random
import time
from typing import Any

import httpx
from gql import Client, GraphQLRequest, gql
from gql.transport.exceptions import (
    TransportConnectionFailed,
    TransportProtocolError,
    TransportQueryError,
    TransportServerError,
)
from gql.transport.httpx import HTTPXTransport

from jobmon_client.config import auth_headers, graphql_url

log = logging.getLogger(__name__)


class JobmonError(Exception):
    """Base of the errors the client raises."""


class ServerUnreachable(JobmonError):
    """The server did not answer after every retry.

    ``server_down`` says whether the failure shows the server itself is down (the
    connection was refused at its address, a proxy answered 502-504, or the server said its
    database is unavailable): then it cannot be checking leases either. Otherwise (a
    timeout, no route) it may be up and unreachable from here.
    """

    def __init__(self, message: str, server_down: bool = False) -> None:
        super().__init__(message)
        self.server_down = server_down


class ServerUnavailable(ServerUnreachable):
    """The server answered, after every retry, that its database is unavailable."""

    def __init__(self, message: str) -> None:
        super().__init__(message, server_down=True)


class ServerError(JobmonError):
    """The server answered with a GraphQL error."""


class InvalidTextError(JobmonError, ValueError):
    """A string holds a lone surrogate or a NUL, which are not text (no database stores
    them): refused before it is sent, as the server would refuse it."""


def check_text(value: Any, where: str = "variables") -> None:
    """Refuse lone surrogates (``"\\ud800"``) and NULs anywhere in ``value``, as the server
    does."""
    stack = [(value, where)]
    while stack:
        item, path = stack.pop()
        if isinstance(item, str):
            if "\x00" in item:
                raise InvalidTextError(
                    f"{path} is not valid text: it holds a NUL character at character "
                    f"{item.index(chr(0))}"
                )
            try:
                item.encode("utf-8")
            except UnicodeEncodeError as exc:
                raise InvalidTextError(
                    f"{path} is not valid text: it holds a lone surrogate "
                    f"(U+{ord(item[exc.start]):04X}) at character {exc.start}; send valid Unicode"
                ) from None
        elif isinstance(item, dict):
            for key, child in item.items():
                stack.append((key, f"a key in {path}"))
                stack.append((child, f"{path}.{key}"))
        elif isinstance(item, list | tuple):
            stack.extend((child, f"{path}[{i}]") for i, child in enumerate(item))


_RETRYABLE = (
    httpx.TransportError,
    TransportConnectionFailed,
    TransportServerError,
    TransportProtocolError,
    ConnectionError,
)


@functools.lru_cache(maxsize=256)
def _parse(document: str) -> Any:
    return gql(document).document


class GraphQLClient:
    """A synchronous GraphQL client bound to one server."""

    def __init__(
        self,
        url: str | None = None,
        *,
        timeout: float = 120.0,
        retries: int = 32,  # about a minute with the backoff capped at 2 s
        backoff_start: float = 0.2,
        backoff_max: float = 2.0,
        headers: dict[str, str] | None = None,
    ) -> None:
        self.url = graphql_url(url)
        self._options = {
            "timeout": timeout,
            "retries": retries,
            "backoff_start": backoff_start,
            "backoff_max": backoff_max,
            "headers": headers,
        }
        self.retries = retries
        self.backoff_start = backoff_start
        self.backoff_max = backoff_max
        transport = HTTPXTransport(
            url=self.url,
            timeout=timeout,
            headers={**auth_headers(), **(headers or {})},
            # Plain HTTP needs no certificates: loading them costs each process ~30 ms.
            verify=not self.url.startswith("http://"),
        )
        self._client = Client(transport=transport, execute_timeout=timeout)
        self._session: Any = None

    def _connected(self) -> Any:
        if self._session is None:
            self._session = self._client.connect_sync()
        return self._session

    def execute(self, document: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
        check_text(variables)
        request = GraphQLRequest(_parse(document), variable_values=variables)
        delay = self.backoff_start
        for attempt in range(self.retries + 1):
            try:
                return dict(self._connected().execute(request))
            except TransportQueryError as exc:
                errors = exc.errors or []
                messages = "; ".join(e.get("message", str(e)) for e in errors) or str(exc)
                if not any(_is_unavailable(e) for e in errors):
                    raise ServerError(messages) from None
                if attempt == self.retries:
                    raise ServerUnavailable(
                        f"the Jobmon server at {self.url} cannot use its database: {messages}"
                    ) from None
                log.info("server unavailable (%s); retrying in %.1fs", messages, delay)
            except _RETRYABLE as exc:
                if attempt == self.retries:
                    raise ServerUnreachable(
                        f"cannot reach the Jobmon server at {self.url} ({exc}); start it with "
                        "'jobmon up' or set JOBMON_SERVER_URL",
                        server_down=_shows_server_down(exc),
                    ) from None
                if attempt == 0:
                    log.info("cannot reach the Jobmon server at %s (%s); retrying", self.url, exc)
                log.debug("server not reachable (%s); retrying in %.1fs", exc, delay)
                self.close()
            time.sleep(delay * random.uniform(0.5, 1.0))
            delay = min(delay * 2, self.backoff_max)
        raise AssertionError("unreachable")

    def copy(self) -> GraphQLClient:
        """A client to the same server with the same settings and its own connection (one
        per thread: a client is not shared between threads)."""
        return GraphQLClient(self.url, **self._options)  # type: ignore[arg-type]

    def close(self) -> None:
        if self._session is not None:
            try:
                self._client.close_sync()
            finally:
                self._session = None

    def __enter__(self) -> GraphQLClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _shows_server_down(exc: BaseException) -> bool:
    """A refused connection (nothing listens at the server's address) or a proxy's 502-504."""
    if isinstance(exc, TransportServerError):
        return exc.code in (502, 503, 504)
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, ConnectionRefusedError) or "Connection refused" in str(seen):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


def _is_unavailable(error: Any) -> bool:
    extensions = error.get("extensions") if isinstance(error, dict) else None
    return isinstance(extensions, dict) and extensions.get("code") == "UNAVAILABLE"


def unwrap(result: dict[str, Any], field: str) -> dict[str, Any]:
    """Return a union result's success payload, or raise its error's message.

    Every mutation answers ``X | NotFound | ValidationError | ...``; the error members
    carry ``__typename`` and ``message``. Documents must select both.
    """
    payload = result[field]
    if payload is None:
        raise ServerError(f"the server returned no {field}")
    kind = payload.get("__typename", "")
    if kind in ERROR_TYPES:
        raise ERROR_TYPES[kind](payload.get("message", kind))
    return dict(payload)


class NotFoundError(JobmonError):
    pass


class ValidationFailed(JobmonError):
    pass


class PermissionDeniedError(JobmonError):
    pass


class ConflictError(JobmonError):
    pass


ERROR_TYPES: dict[str, type[JobmonError]] = {
    "NotFound": NotFoundError,
    "ValidationError": ValidationFailed,
    "PermissionDenied": PermissionDeniedError,
    "Conflict": ConflictError,
}
