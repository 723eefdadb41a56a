"""The codec a task generator's parameter gets from its annotation: the base class, the
errors, and what every codec shares (see serialization.py for the forms)."""

from __future__ import annotations

import json
import re
import typing
from collections.abc import Callable, Mapping
from typing import Any

from jobmon_client.validation import WorkflowDefinitionError

ToStr = Callable[[Any], str]
FromStr = Callable[[str], Any]
Serializers = Mapping[Any, tuple[ToStr, FromStr]]

NONE_TEXT = "None"
ESCAPED_NONE = re.compile(r"\\*None")
JSON_SEPARATORS = (",", ":")
SUPPORTED = (
    "str, int, float, bool, None, date, datetime, time, Path, Enum subclasses, "
    "list[T], tuple[T, ...], tuple[T1, T2], set[T], frozenset[T], dict[K, V] and Optional[T] "
    "of these"
)


class TaskGeneratorError(WorkflowDefinitionError, TypeError):
    """A task generator, or one of its calls, that cannot be turned into a command.

    It is a ``TypeError`` as in upstream Jobmon, and a ``WorkflowDefinitionError`` (a
    ``ValueError``) as every definition error of this client.
    """


class Mismatch(Exception):
    """A value (or text) that does not fit its annotation; ``path`` says where inside it."""

    def __init__(self, detail: str, path: str = "") -> None:
        super().__init__(detail)
        self.detail = detail
        self.path = path

    def inside(self, step: str) -> Mismatch:
        return Mismatch(self.detail, step + self.path)


class Unsupported(Exception):
    """An annotation no codec can handle; the message says why."""


def type_name(annotation: Any) -> str:
    """A readable name for an annotation: ``int``, ``list[int]``, ``int | None``."""
    if annotation is type(None) or annotation is None:
        return "None"
    if isinstance(annotation, type) and not typing.get_args(annotation):
        return annotation.__qualname__
    return str(annotation).replace("typing.", "").replace("NoneType", "None")


def describe(value: Any) -> str:
    text = repr(value)
    if len(text) > 80:
        text = text[:77] + "..."
    return f"{text} ({type(value).__qualname__})"


def dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=JSON_SEPARATORS, allow_nan=True)


class Codec:
    """Converts values of one annotation to text and JSON values, and back."""

    name = "value"
    keyable = False  # can be a dict key (has a text form that JSON keeps as a key)

    def to_text(self, value: Any) -> str:
        raise NotImplementedError

    def from_text(self, text: str) -> Any:
        raise NotImplementedError

    def to_json(self, value: Any) -> Any:
        return self.to_text(value)

    def from_json(self, item: Any) -> Any:
        if not isinstance(item, str):
            raise Mismatch(f"expected {self.name} written as a string, got {describe(item)}")
        return self.from_text(item)

    def display(self, value: Any) -> str:
        """The value as it appears in a task's name."""
        return self.to_text(value)
