"""The codecs of single values: strings, numbers, booleans, None, dates and times, paths,
enums and custom types."""

from __future__ import annotations

import datetime
import enum
import operator
from pathlib import PurePath
from typing import Any

from jobmon_client.task_generator.codec import (
    NONE_TEXT,
    Codec,
    FromStr,
    Mismatch,
    ToStr,
    describe,
    type_name,
)


class StrCodec(Codec):
    name = "str"
    keyable = True

    def to_text(self, value: Any) -> str:
        if not isinstance(value, str):
            raise Mismatch(f"expected a str, got {describe(value)}")
        if "\x00" in value:
            raise Mismatch(
                "the string contains a NUL character, which no command line can carry; "
                "remove it or pass the data in a file"
            )
        return value

    def from_text(self, text: str) -> str:
        return text

    def from_json(self, item: Any) -> str:
        if isinstance(item, str):
            return item
        if isinstance(item, bool | int | float):
            return str(item)  # upstream's bare lists: [1,2] for list[str]
        raise Mismatch(f"expected a string, got {describe(item)}")


class IntCodec(Codec):
    name = "int"
    keyable = True

    def _check(self, value: Any) -> int:
        if isinstance(value, bool):
            raise Mismatch(f"expected an int, got {describe(value)}; pass 1 or 0")
        try:
            return operator.index(value)  # int, and integer types such as numpy's
        except TypeError:
            raise Mismatch(f"expected an int, got {describe(value)}") from None

    def to_text(self, value: Any) -> str:
        return str(self._check(value))

    def to_json(self, value: Any) -> int:
        return self._check(value)

    def from_text(self, text: str) -> int:
        try:
            return int(text)
        except ValueError:
            raise Mismatch(f"{text!r} is not an int") from None

    def from_json(self, item: Any) -> int:
        if isinstance(item, int) and not isinstance(item, bool):
            return item
        if isinstance(item, str):
            return self.from_text(item)
        raise Mismatch(f"expected an int, got {describe(item)}")


class FloatCodec(Codec):
    name = "float"
    keyable = True

    def _check(self, value: Any) -> float:
        if isinstance(value, bool | str | bytes):
            raise Mismatch(f"expected a float, got {describe(value)}")
        try:
            return float(value)  # float, int, and number types such as numpy's
        except (TypeError, ValueError):
            raise Mismatch(f"expected a float, got {describe(value)}") from None

    def to_text(self, value: Any) -> str:
        return repr(self._check(value))

    def to_json(self, value: Any) -> float:
        return self._check(value)

    def from_text(self, text: str) -> float:
        try:
            return float(text)
        except ValueError:
            raise Mismatch(f"{text!r} is not a float") from None

    def from_json(self, item: Any) -> float:
        if isinstance(item, int | float) and not isinstance(item, bool):
            return float(item)
        if isinstance(item, str):
            return self.from_text(item)
        raise Mismatch(f"expected a float, got {describe(item)}")


class BoolCodec(Codec):
    name = "bool"
    keyable = True
    _TEXTS = {"True": True, "False": False, "true": True, "false": False}

    def to_text(self, value: Any) -> str:
        return "True" if self.to_json(value) else "False"

    def to_json(self, value: Any) -> bool:
        if not isinstance(value, bool):
            raise Mismatch(f"expected a bool, got {describe(value)}")
        return value

    def from_text(self, text: str) -> bool:
        try:
            return self._TEXTS[text]
        except KeyError:
            raise Mismatch(f"{text!r} is not a bool; expected True or False") from None

    def from_json(self, item: Any) -> bool:
        if isinstance(item, bool):
            return item
        if isinstance(item, str):
            return self.from_text(item)
        raise Mismatch(f"expected a bool, got {describe(item)}")


class NoneCodec(Codec):
    name = "None"

    def to_text(self, value: Any) -> str:
        self.to_json(value)
        return NONE_TEXT

    def to_json(self, value: Any) -> None:
        if value is not None:
            raise Mismatch(f"expected None, got {describe(value)}")
        return None

    def from_text(self, text: str) -> None:
        if text != NONE_TEXT:
            raise Mismatch(f"{text!r} is not None")
        return None

    def from_json(self, item: Any) -> None:
        if item is None or item == NONE_TEXT:
            return None
        raise Mismatch(f"expected null, got {describe(item)}")


class TemporalCodec(Codec):
    """``datetime.date``, ``datetime.datetime`` and ``datetime.time`` in ISO 8601."""

    keyable = True

    def __init__(self, kind: type) -> None:
        self.kind = kind
        self.name = kind.__name__

    def to_text(self, value: Any) -> str:
        if not isinstance(value, self.kind):
            raise Mismatch(f"expected a {self.name}, got {describe(value)}")
        if self.kind is datetime.date and isinstance(value, datetime.datetime):
            raise Mismatch(
                f"expected a date, got the datetime {value!r}; pass value.date(), or "
                "annotate the parameter as datetime"
            )
        return str(value.isoformat())  # type: ignore[attr-defined]

    def from_text(self, text: str) -> Any:
        try:
            return self.kind.fromisoformat(text)  # type: ignore[attr-defined]
        except ValueError:
            raise Mismatch(f"{text!r} is not an ISO 8601 {self.name}") from None


class PathCodec(Codec):
    keyable = True

    def __init__(self, kind: type[PurePath]) -> None:
        self.kind = kind
        self.name = kind.__name__

    def to_text(self, value: Any) -> str:
        if isinstance(value, str):
            value = self.kind(value)  # a path given as a str is taken as the path
        elif not isinstance(value, PurePath):
            raise Mismatch(f"expected a {self.name} (or a str), got {describe(value)}")
        text = str(value)
        if "\x00" in text:
            raise Mismatch("the path contains a NUL character, which no command line can carry")
        return text

    def from_text(self, text: str) -> PurePath:
        return self.kind(text)


class EnumCodec(Codec):
    keyable = True

    def __init__(self, kind: type[enum.Enum]) -> None:
        self.kind = kind
        self.name = kind.__qualname__

    def to_text(self, value: Any) -> str:
        if not isinstance(value, self.kind):
            members = ", ".join(m.name for m in self.kind)
            raise Mismatch(f"expected a member of {self.name} ({members}), got {describe(value)}")
        return value.name

    def from_text(self, text: str) -> enum.Enum:
        try:
            return self.kind[text]
        except KeyError:
            for member in self.kind:
                if str(member.value) == text:
                    return member
        members = ", ".join(m.name for m in self.kind)
        raise Mismatch(f"{text!r} is not a member of {self.name} ({members})")


class CustomCodec(Codec):
    """A type with a serializer and deserializer given by the user."""

    keyable = True

    def __init__(self, kind: Any, to_str: ToStr, from_str: FromStr) -> None:
        self.kind = kind
        self.to_str = to_str
        self.from_str = from_str
        self.name = type_name(kind)

    def to_text(self, value: Any) -> str:
        if isinstance(self.kind, type) and not isinstance(value, self.kind):
            raise Mismatch(f"expected a {self.name}, got {describe(value)}")
        try:
            text = self.to_str(value)
        except Exception as exc:  # noqa: BLE001 - the user's serializer; say which one failed
            raise Mismatch(
                f"the serializer for {self.name} raised {type(exc).__name__}: {exc}"
            ) from exc
        if not isinstance(text, str):
            raise Mismatch(
                f"the serializer for {self.name} returned {describe(text)}; it must return a str"
            )
        if "\x00" in text:
            raise Mismatch(
                f"the serializer for {self.name} returned a string with a NUL character, "
                "which no command line can carry"
            )
        return text

    def from_text(self, text: str) -> Any:
        try:
            return self.from_str(text)
        except Exception as exc:  # noqa: BLE001 - the user's deserializer; say which one failed
            raise Mismatch(
                f"the deserializer for {self.name} raised {type(exc).__name__}: {exc}"
            ) from exc

    def from_json(self, item: Any) -> Any:
        if isinstance(item, int | float) and not isinstance(item, bool):
            item = str(item)  # upstream's bare lists: [1.0,2.0]
        return super().from_json(item)
