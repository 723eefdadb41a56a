"""Decoding a request's JSON with bounds, so that a malformed body is a clear refusal.

Python's ``json`` answers some bodies with exceptions that are not ``JSONDecodeError`` (an
integer of thousands of digits, nesting deeper than the interpreter's stack, invalid UTF-8),
and keeps lone surrogates (``"\\ud800"``), which no database driver can encode. Every such
body is refused here, with where and why, before any GraphQL work starts.
"""

from __future__ import annotations

import json
import re
from typing import Any

MAX_INT_DIGITS = 400
"""Integers longer than this are refused: no id, count or limit needs them."""
MAX_NESTING = 64
"""Arrays and objects nested deeper than this are refused: no input of ours needs more."""

# A lone surrogate can only come from a \\uD800-\\uDFFF escape (raw bytes of one are not
# valid UTF-8), and a NUL (which PostgreSQL cannot store) from \\u0000: bodies without
# such an escape need no walk through their strings.
_SUSPECT_ESCAPE = re.compile(rb"\\u([dD][89a-fA-F]|0000)")


class BadBody(ValueError):
    """A request body or message that cannot be a GraphQL request; the text says why."""


def _parse_int(digits: str) -> int:
    if len(digits.lstrip("-")) > MAX_INT_DIGITS:
        raise BadBody(
            f"an integer of {len(digits.lstrip('-'))} digits; integers may have at most "
            f"{MAX_INT_DIGITS}"
        )
    return int(digits)


def decode(data: str | bytes) -> Any:
    """The JSON value of ``data``, or ``BadBody`` saying what is wrong with it."""
    raw = data.encode("utf-8", "surrogatepass") if isinstance(data, str) else data
    try:
        value = json.loads(raw, parse_int=_parse_int)
    except BadBody:
        raise
    except UnicodeDecodeError as exc:
        raise BadBody(f"the body is not valid UTF-8 (byte {exc.start})") from None
    except json.JSONDecodeError as exc:
        raise BadBody(f"the body is not valid JSON: {exc.msg} at character {exc.pos}") from None
    except RecursionError:
        raise BadBody(f"the body nests arrays or objects deeper than {MAX_NESTING}") from None
    except ValueError as exc:  # e.g. a float literal Python cannot hold
        raise BadBody(f"the body is not valid JSON: {exc}") from None
    check(value, look_for_surrogates=bool(_SUSPECT_ESCAPE.search(raw)))
    return value


def check(value: Any, *, look_for_surrogates: bool = True) -> None:
    """Refuse nesting deeper than ``MAX_NESTING`` and, when asked, lone surrogates."""
    stack: list[tuple[Any, str, int]] = [(value, "", 0)]
    while stack:
        item, path, depth = stack.pop()
        if isinstance(item, dict):
            if depth >= MAX_NESTING:
                raise BadBody(f"{path or 'the body'} nests deeper than {MAX_NESTING} levels")
            for key, child in item.items():
                where = f"{path}.{key}" if path else str(key)
                if look_for_surrogates:
                    _text(key, f"a key in {path or 'the body'}")
                stack.append((child, where, depth + 1))
        elif isinstance(item, list):
            if depth >= MAX_NESTING:
                raise BadBody(f"{path or 'the body'} nests deeper than {MAX_NESTING} levels")
            stack.extend((child, f"{path}[{i}]", depth + 1) for i, child in enumerate(item))
        elif look_for_surrogates and isinstance(item, str):
            _text(item, path)


def _text(text: str, where: str) -> None:
    if "\x00" in text:
        raise BadBody(
            f"{where} is not valid text: it holds a NUL character (\\u0000) at character "
            f"{text.index(chr(0))}; no command, name or message may"
        )
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:
        code = ord(text[exc.start])
        raise BadBody(
            f"{where} is not valid text: it holds a lone surrogate (U+{code:04X}) at "
            f"character {exc.start}; send valid Unicode"
        ) from None


def request_of(value: Any, *, what: str = "the body") -> dict[str, Any]:
    """``value`` as one GraphQL request: an object with query, variables, operationName."""
    if isinstance(value, list):
        raise BadBody(
            f"{what} is a list: this server does not batch requests; send one "
            "{query, variables, operationName} object a request"
        )
    if not isinstance(value, dict):
        raise BadBody(
            f"{what} must be a JSON object with query, variables and operationName, not "
            f"{json.dumps(value)[:40]}"
        )
    for key in ("query", "operationName"):
        if value.get(key) is not None and not isinstance(value[key], str):
            raise BadBody(f"{key} must be a string")
    for key in ("variables", "extensions"):
        if value.get(key) is not None and not isinstance(value[key], dict):
            raise BadBody(f"{key} must be an object of names to values")
    return value
