"""Decoding a request's JSON with bounds, so that a malformed body is a clear refusal.

Python's ``json`` answers some bodies with exceptions that are not ``JSONDecodeError`` (an
integer of more than 4300 digits, nesting deeper than the interpreter's stack, invalid UTF-8),
and keeps lone surrogates (``"\\ud800"``), which no database driver can encode. Every such
body is refused here, with where and why, before any GraphQL work starts.
"""

from __future__ import annotations

import json
import re
import sys
from typing import Any

MAX_NESTING = 64
"""Arrays and objects nested deeper than this are refused: no input of ours needs more."""
MAX_QUERY_CHARACTERS = 8 * 2**10
"""A query document longer than this is refused before it is parsed: parsing and
validating cost the event loop about 10 us a character, so a new query of this length
takes up to about 80 ms (every query accepted is short enough to be cached, after which it
costs nothing). Data travels in the variables, which are not counted; the dashboard's
largest query is 2,000 characters, the clients' a few hundred."""

# A lone surrogate can only come from a \\uD800-\\uDFFF escape (raw bytes of one are not
# valid UTF-8), and a NUL (which PostgreSQL cannot store) from \\u0000: bodies without
# such an escape need no walk through their strings.
_SUSPECT_ESCAPE = re.compile(rb"\\u([dD][89a-fA-F]|0000)")


class BadBody(ValueError):
    """A request body or message that cannot be a GraphQL request; the text says why."""


def decode(data: str | bytes) -> Any:
    """The JSON value of ``data``, or ``BadBody`` saying what is wrong with it."""
    raw = data.encode("utf-8", "surrogatepass") if isinstance(data, str) else data
    try:
        value = json.loads(raw)
    except UnicodeDecodeError as exc:
        raise BadBody(f"the body is not valid UTF-8 (byte {exc.start})") from None
    except json.JSONDecodeError as exc:
        raise BadBody(f"the body is not valid JSON: {exc.msg} at character {exc.pos}") from None
    except RecursionError:
        raise BadBody(f"the body nests arrays or objects deeper than {MAX_NESTING}") from None
    except ValueError as exc:  # Python refuses integers of more than 4300 digits
        digits = _DIGITS.search(str(exc))
        raise BadBody(
            f"the body holds an integer of {digits.group(1) if digits else 'too many'} digits; "
            f"integers may have at most {sys.get_int_max_str_digits()}"
        ) from None
    check_nesting(value)
    # Only an escape can make a lone surrogate or a NUL: most bodies have none to look for.
    if b"\\u" in raw and _SUSPECT_ESCAPE.search(raw):
        check_text(value)
    return value


_DIGITS = re.compile(r"value has (\d+) digits")
_CONTAINERS = (dict, list)


def check_nesting(value: Any) -> None:
    """Refuse arrays and objects nested deeper than ``MAX_NESTING``; only containers are
    visited (a long list of numbers or strings costs one type test per item)."""
    stack: list[tuple[Any, int]] = [(value, 1)] if type(value) in _CONTAINERS else []
    while stack:
        item, depth = stack.pop()
        if depth > MAX_NESTING:
            raise BadBody(f"the body nests arrays or objects deeper than {MAX_NESTING}")
        children = item.values() if type(item) is dict else item
        for child in children:
            if type(child) in _CONTAINERS:
                stack.append((child, depth + 1))


def check_text(value: Any) -> None:
    """Refuse lone surrogates and NULs in any string or key, naming where."""
    stack: list[tuple[Any, str]] = [(value, "")]
    while stack:
        item, path = stack.pop()
        if isinstance(item, dict):
            for key, child in item.items():
                _text(key, f"a key in {path or 'the body'}")
                stack.append((child, f"{path}.{key}" if path else str(key)))
        elif isinstance(item, list):
            stack.extend((child, f"{path}[{i}]") for i, child in enumerate(item))
        elif isinstance(item, str):
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
    query = value.get("query")
    if query is not None and len(query) > MAX_QUERY_CHARACTERS:
        raise BadBody(
            f"the query is {len(query):,} characters; this server reads queries of at most "
            f"{MAX_QUERY_CHARACTERS:,}: pass values as variables, or split a query of many "
            "aliases into several requests"
        )
    for key in ("variables", "extensions"):
        if value.get(key) is not None and not isinstance(value[key], dict):
            raise BadBody(f"{key} must be an object of names to values")
    return value
