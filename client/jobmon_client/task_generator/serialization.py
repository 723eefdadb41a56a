"""How a task generator's arguments become command-line text and back.

Each parameter's annotation gets a codec when the generator is made. A codec turns a
value into its *text* (what the command line carries for a top-level argument) and back,
and into a JSON value (what it is inside a list, tuple, set or dict) and back:

======================  ==========================  ==================================
annotation              text                        inside a container
======================  ==========================  ==================================
``str``                 the string itself           JSON string
``int``                 ``42``                      JSON number
``float``               ``0.1`` (shortest exact)    JSON number (``NaN``, ``Infinity``)
``bool``                ``True`` / ``False``        ``true`` / ``false``
``None``                ``None``                    ``null``
``date``, ``datetime``  ISO 8601                    JSON string
``time``                ISO 8601                    JSON string
``Path`` (any PurePath) the path                    JSON string
an ``Enum`` subclass    the member's name           JSON string
a custom type           ``to_str(value)``           JSON string of ``to_str(value)``
``list[T]`` and others  compact JSON                JSON array / object
``Optional[T]``         ``None``, or T's text       ``null``, or T's JSON value
======================  ==========================  ==================================

Every form reads back to an equal value. Sets are written sorted and dicts with sorted
keys, so that equal arguments always give the same command (a task's identity). An
``Optional[T]`` whose value's text is itself ``None`` (the string ``"None"``) is written
``\\None``, and a backslash is added likewise to ``\\None``, ``\\\\None``, ...

Reading also takes the list forms upstream Jobmon writes: ``[a,b]`` and Python literals.
"""

from __future__ import annotations

import ast
import datetime
import enum
import json
import types
import typing
from collections.abc import Callable, Iterable, Mapping
from pathlib import PurePath
from typing import Any

from jobmon_client.task_generator.codec import (
    ESCAPED_NONE,
    NONE_TEXT,
    SUPPORTED,
    Codec,
    FromStr,
    Mismatch,
    Serializers,
    TaskGeneratorError,
    ToStr,
    Unsupported,
    describe,
    dumps,
    type_name,
)
from jobmon_client.task_generator.scalars import (
    BoolCodec,
    CustomCodec,
    EnumCodec,
    FloatCodec,
    IntCodec,
    NoneCodec,
    PathCodec,
    StrCodec,
    TemporalCodec,
)

__all__ = [
    "NONE_TEXT",
    "SUPPORTED",
    "Codec",
    "Mismatch",
    "NoneCodec",
    "OptionalCodec",
    "Serializers",
    "TaskGeneratorError",
    "Unsupported",
    "codec_for",
    "type_name",
]


class OptionalCodec(Codec):
    def __init__(self, inner: Codec) -> None:
        self.inner = inner
        self.name = f"{inner.name} | None"

    def to_text(self, value: Any) -> str:
        if value is None:
            return NONE_TEXT
        text = self.inner.to_text(value)
        return "\\" + text if ESCAPED_NONE.fullmatch(text) else text

    def from_text(self, text: str) -> Any:
        if text == NONE_TEXT:
            return None
        if ESCAPED_NONE.fullmatch(text):
            text = text[1:]
        return self.inner.from_text(text)

    def to_json(self, value: Any) -> Any:
        return None if value is None else self.inner.to_json(value)

    def from_json(self, item: Any) -> Any:
        return None if item is None else self.inner.from_json(item)

    def display(self, value: Any) -> str:
        return NONE_TEXT if value is None else self.inner.display(value)


def _parse_container(text: str) -> tuple[Any, bool]:
    """Parse a container's text: JSON (what this client writes), else a Python literal,
    else upstream's bare ``[a,b]``. The flag says whether the items are still texts."""
    try:
        return json.loads(text), False
    except ValueError:
        pass
    try:
        return ast.literal_eval(text), False
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
        pass
    bare = text.strip()
    if len(bare) >= 2 and bare[0] == bare[-1] == "'":
        bare = bare[1:-1]
    if len(bare) >= 2 and bare[0] in "[(" and bare[-1] in "])":
        bare = bare[1:-1]
    return ([] if not bare else bare.split(",")), True


class SequenceCodec(Codec):
    """``list[T]``, ``tuple[T, ...]``, ``set[T]`` and ``frozenset[T]``."""

    def __init__(self, kind: type, item: Codec) -> None:
        self.kind = kind
        self.item = item
        suffix = ", ..." if kind is tuple else ""
        self.name = f"{kind.__name__}[{item.name}{suffix}]"

    def to_json(self, value: Any) -> list[Any]:
        if not isinstance(value, self.kind):
            raise Mismatch(f"expected a {self.name}, got {describe(value)}")
        items = []
        element: Any
        for index, element in enumerate(typing.cast(Iterable[Any], value)):
            try:
                items.append(self.item.to_json(element))
            except Mismatch as exc:
                raise exc.inside(f"[{index}]") from exc.__cause__
        if self.kind in (set, frozenset):
            items.sort(key=lambda item: json.dumps(item, sort_keys=True))
        return items

    def to_text(self, value: Any) -> str:
        return dumps(self.to_json(value))

    def from_text(self, text: str) -> Any:
        parsed, texts = _parse_container(text)
        if not isinstance(parsed, list | tuple | set):
            parsed = [parsed]  # upstream reads a lone value as a list of one
        read = self.item.from_text if texts else self.item.from_json
        return self._build(parsed, read)

    def from_json(self, item: Any) -> Any:
        if not isinstance(item, list):
            raise Mismatch(f"expected a {self.name} written as a JSON array, got {describe(item)}")
        return self._build(item, self.item.from_json)

    def _build(self, items: Any, read: Callable[[Any], Any]) -> Any:
        values = []
        for index, element in enumerate(items):
            try:
                values.append(read(element))
            except Mismatch as exc:
                raise exc.inside(f"[{index}]") from exc.__cause__
        return values if self.kind is list else self.kind(values)

    def display(self, value: Any) -> str:
        self.to_json(value)  # checks the value
        shown = [self.item.display(element) for element in value]
        if self.kind in (set, frozenset):
            shown.sort()
        return "[" + ",".join(shown) + "]"


class FixedTupleCodec(Codec):
    """``tuple[T1, T2, ...]`` of a fixed length."""

    def __init__(self, items: list[Codec]) -> None:
        self.items = items
        self.name = "tuple[" + ", ".join(item.name for item in items) + "]"

    def _check_length(self, count: int) -> None:
        if count != len(self.items):
            raise Mismatch(f"expected a {self.name} of {len(self.items)} items, got {count}")

    def to_json(self, value: Any) -> list[Any]:
        if not isinstance(value, tuple):
            raise Mismatch(f"expected a {self.name}, got {describe(value)}")
        self._check_length(len(value))
        items = []
        for index, (codec, element) in enumerate(zip(self.items, value, strict=True)):
            try:
                items.append(codec.to_json(element))
            except Mismatch as exc:
                raise exc.inside(f"[{index}]") from exc.__cause__
        return items

    def to_text(self, value: Any) -> str:
        return dumps(self.to_json(value))

    def from_text(self, text: str) -> tuple[Any, ...]:
        parsed, texts = _parse_container(text)
        if not isinstance(parsed, list | tuple):
            parsed = [parsed]
        return self._build(list(parsed), texts)

    def from_json(self, item: Any) -> tuple[Any, ...]:
        if not isinstance(item, list):
            raise Mismatch(f"expected a {self.name} written as a JSON array, got {describe(item)}")
        return self._build(item, False)

    def _build(self, items: list[Any], texts: bool) -> tuple[Any, ...]:
        self._check_length(len(items))
        values = []
        for index, (codec, element) in enumerate(zip(self.items, items, strict=True)):
            try:
                values.append(codec.from_text(element) if texts else codec.from_json(element))
            except Mismatch as exc:
                raise exc.inside(f"[{index}]") from exc.__cause__
        return tuple(values)

    def display(self, value: Any) -> str:
        self.to_json(value)
        return "[" + ",".join(c.display(v) for c, v in zip(self.items, value, strict=True)) + "]"


class DictCodec(Codec):
    """``dict[K, V]``: a JSON object whose keys are the keys' texts, sorted."""

    def __init__(self, key: Codec, value: Codec) -> None:
        self.key = key
        self.value = value
        self.name = f"dict[{key.name}, {value.name}]"

    def to_json(self, value: Any) -> dict[str, Any]:
        if not isinstance(value, Mapping):
            raise Mismatch(f"expected a {self.name}, got {describe(value)}")
        items: dict[str, Any] = {}
        for key, element in value.items():
            try:
                key_text = self.key.to_text(key)
            except Mismatch as exc:
                raise exc.inside(f" key {key!r}") from exc.__cause__
            try:
                items[key_text] = self.value.to_json(element)
            except Mismatch as exc:
                raise exc.inside(f"[{key!r}]") from exc.__cause__
        return dict(sorted(items.items()))

    def to_text(self, value: Any) -> str:
        return dumps(self.to_json(value))

    def from_text(self, text: str) -> dict[Any, Any]:
        parsed, _ = _parse_container(text)
        return self.from_json(parsed)

    def from_json(self, item: Any) -> dict[Any, Any]:
        if not isinstance(item, dict):
            raise Mismatch(f"expected a {self.name} written as a JSON object, got {describe(item)}")
        values = {}
        for key_text, element in item.items():
            try:
                key = self.key.from_text(str(key_text))
                values[key] = self.value.from_json(element)
            except Mismatch as exc:
                raise exc.inside(f"[{key_text!r}]") from exc.__cause__
        return values

    def display(self, value: Any) -> str:
        self.to_json(value)
        shown = sorted(f"{self.key.display(k)}={self.value.display(v)}" for k, v in value.items())
        return "[" + ",".join(shown) + "]"


_SIMPLE: dict[Any, Codec] = {
    str: StrCodec(),
    int: IntCodec(),
    float: FloatCodec(),
    bool: BoolCodec(),
    type(None): NoneCodec(),
    None: NoneCodec(),
}
_SEQUENCES = (list, set, frozenset)
_UNIONS = (typing.Union, types.UnionType)


def _lookup(serializers: Serializers, annotation: Any) -> tuple[ToStr, FromStr] | None:
    try:
        pair = serializers.get(annotation)
    except TypeError:  # an unhashable annotation has no serializer
        return None
    if pair is None:
        return None
    if not (isinstance(pair, tuple | list) and len(pair) == 2 and all(map(callable, pair))):
        raise Unsupported(
            f"has the serializer {pair!r}; a serializer is a pair of functions "
            "(to_str, from_str), such as {YearRange: (str, YearRange.parse)}"
        )
    return pair[0], pair[1]


def codec_for(annotation: Any, serializers: Serializers) -> Codec:
    """The codec of ``annotation``; raises ``Unsupported`` for what none can handle."""
    custom = _lookup(serializers, annotation)
    if custom is not None:
        return CustomCodec(annotation, *custom)
    simple = _SIMPLE.get(annotation) if _hashable(annotation) else None
    if simple is not None:
        return simple
    origin = typing.get_origin(annotation)
    args = typing.get_args(annotation)
    if origin in _UNIONS:
        others = [a for a in args if a is not type(None)]
        if len(others) == len(args) or len(others) != 1:
            raise Unsupported(
                "is a union; only Optional[T] (T | None) is supported. Annotate one type, "
                "or give a serializer for a type of your own"
            )
        return OptionalCodec(codec_for(others[0], serializers))
    if origin in _SEQUENCES:
        if len(args) != 1:
            raise Unsupported(f"needs one item type, such as {origin.__name__}[int]")
        return SequenceCodec(origin, codec_for(args[0], serializers))
    if origin is tuple:
        if len(args) == 2 and args[1] is Ellipsis:
            return SequenceCodec(tuple, codec_for(args[0], serializers))
        if not args or Ellipsis in args:
            raise Unsupported("needs item types, such as tuple[int, ...] or tuple[int, str]")
        return FixedTupleCodec([codec_for(a, serializers) for a in args])
    if origin is dict:
        if len(args) != 2:
            raise Unsupported("needs key and value types, such as dict[str, int]")
        key = codec_for(args[0], serializers)
        if not key.keyable:
            raise Unsupported(
                f"has keys of type {type_name(args[0])}; dict keys must be str, int, float, "
                "bool, date, Path, an Enum or a type with a serializer"
            )
        return DictCodec(key, codec_for(args[1], serializers))
    if annotation in (list, tuple, set, frozenset, dict):
        raise Unsupported(
            "does not say the type of its items; annotate it like list[int], tuple[str, ...] "
            "or dict[str, float]"
        )
    if isinstance(annotation, type):
        if issubclass(annotation, enum.Enum):
            return EnumCodec(annotation)
        if issubclass(annotation, PurePath):
            return PathCodec(annotation)
        if annotation in (datetime.datetime, datetime.date, datetime.time):
            return TemporalCodec(annotation)
    raise Unsupported(
        "has no serializer; give one in serializers={Type: (to_str, from_str)}, or annotate "
        f"it with a supported type: {SUPPORTED}"
    )


def _hashable(annotation: Any) -> bool:
    try:
        hash(annotation)
    except TypeError:
        return False
    return True
