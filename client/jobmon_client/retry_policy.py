"""How a task asks for more after running out of memory or runtime, and where it may go.

``resource_scales`` gives, per resource (``memory``, ``runtime``), one of:

- a fraction to add at each retry: ``{"memory": 0.5}`` asks for 1.5 times as much
  (the default when nothing is given);
- the values of the successive retries: ``{"memory": iter(["2G", "4G", "8G"])}``
  (any iterable; the first value larger than the last request is taken);
- a function of the previous value (memory in MiB, runtime in seconds), expanded into
  the values of the retries when the task is bound, since the scheduler runs in the server.

``fallback_queues`` names queues to move to, in order, when a request outgrows its queue.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from jobmon_client.units import memory_mb, runtime_seconds
from jobmon_client.validation import WorkflowDefinitionError

SCALABLE = {"memory": memory_mb, "runtime": runtime_seconds}
UNITS = {"memory": "M", "runtime": "s"}


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    resource_scales: Mapping[str, Any] | None = None
    fallback_queues: tuple[str, ...] | None = None

    @classmethod
    def checked(
        cls,
        resource_scales: Mapping[str, Any] | None,
        fallback_queues: Iterable[str] | None,
        what: str,
    ) -> RetryPolicy | None:
        if resource_scales is None and fallback_queues is None:
            return None
        scales = None if resource_scales is None else _check_scales(resource_scales, what)
        queues = None
        if fallback_queues is not None:
            if isinstance(fallback_queues, str) or not all(
                isinstance(q, str) and q for q in fallback_queues
            ):
                raise WorkflowDefinitionError(
                    f"{what}: fallback_queues must be a list of queue names, such as "
                    f'["long", "bigmem"]; got {fallback_queues!r}'
                )
            queues = tuple(fallback_queues)
        return cls(scales, queues)

    def wire_scales(self, requested: Mapping[str, Any], max_attempts: int) -> dict[str, Any] | None:
        """Scales as the server takes them: fractions or lists of values (functions expanded
        from the resolved request into one value per retry)."""
        if not self.resource_scales:
            return None
        wire: dict[str, Any] = {}
        for kind, scale in self.resource_scales.items():
            if callable(scale):
                if kind not in requested:
                    continue
                value = SCALABLE[kind](requested[kind])
                values = []
                for _ in range(max(0, max_attempts - 1)):
                    value = float(scale(value))
                    values.append(f"{round(value)}{UNITS[kind]}")
                wire[kind] = values
            else:
                wire[kind] = scale
        return wire


def _check_scales(scales: Mapping[str, Any], what: str) -> dict[str, Any]:
    if not isinstance(scales, Mapping):
        raise WorkflowDefinitionError(
            f'{what}: resource_scales must be a dict such as {{"memory": 0.5, "runtime": 1.0}}, '
            f"got {scales!r}"
        )
    checked: dict[str, Any] = {}
    for kind, scale in scales.items():
        if kind not in SCALABLE:
            raise WorkflowDefinitionError(
                f"{what}: resource_scales can scale memory and runtime, not {kind!r}"
            )
        if isinstance(scale, bool):
            raise WorkflowDefinitionError(f"{what}: resource_scales[{kind!r}] cannot be {scale!r}")
        if isinstance(scale, int | float):
            if scale < 0:
                raise WorkflowDefinitionError(
                    f"{what}: resource_scales[{kind!r}] is a fraction to add, at least 0, "
                    f"not {scale!r}"
                )
            checked[kind] = float(scale)
        elif callable(scale):
            checked[kind] = scale
        elif isinstance(scale, Iterable) and not isinstance(scale, str | bytes | Mapping):
            values = list(scale)
            for value in values:
                try:
                    SCALABLE[kind](value)
                except ValueError as exc:
                    raise WorkflowDefinitionError(
                        f"{what}: resource_scales[{kind!r}]: {exc}"
                    ) from None
            if not values:
                raise WorkflowDefinitionError(f"{what}: resource_scales[{kind!r}] is empty")
            checked[kind] = values
        else:
            raise WorkflowDefinitionError(
                f"{what}: resource_scales[{kind!r}] must be a fraction, a list of values or a "
                f"function of the previous value, not {scale!r}"
            )
    return checked


ScaleFunction = Callable[[float], float]
__all__ = ["RetryPolicy", "ScaleFunction"]
