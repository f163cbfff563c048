"""Typed values from CSV text, shared by the destinations' typed columns (`name:number`, `:bool`, …).
A conversion raises ValueError with a reason that never quotes the value."""

from __future__ import annotations

import json
import math
import re
from typing import Any

from courier.sources.records import INT64_MAX, INT64_MIN, MAX_DIGITS

TRUE, FALSE = frozenset({"true", "1", "yes"}), frozenset({"false", "0", "no"})
TOO_LARGE = "must be a whole number within 64 bits (a larger one is no number either API holds)"
INTEGER = re.compile(r"-?(?:0|[1-9][0-9]*)")
# One encoder for every compact JSON text a request carries (json.dumps would build one per call).
compact_json = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode


_DECODER = json.JSONDecoder()
# Where NaN, Infinity or a float too large to hold (1e400: inf) may hide: a text without these holds none
_NOT_FINITE = re.compile(r"NaN|Infinity|[eE][+]?[0-9]{3}|[0-9]{300}")


def parse_json(text: str) -> Any:
    """json.loads, in a third of its time on the usual text with no surrounding whitespace (loads runs two regex
    passes for it); anything else goes to json.loads, which refuses it exactly as always. NaN, Infinity and numbers
    too large for a float, which json.loads reads, are refused too (ValueError): they are not JSON."""
    try:
        parsed, end = _DECODER.raw_decode(text)
    except ValueError:
        parsed, end = json.loads(text), len(text)
    if end != len(text):
        parsed = json.loads(text)
    if _NOT_FINITE.search(text) and not _finite(parsed):
        raise ValueError("NaN, Infinity and numbers too large for a float are not JSON")
    return parsed


def _finite(value: Any) -> bool:
    """No float anywhere in the value is NaN or infinite (looked at without recursion)."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, float) and not math.isfinite(item):
            return False
        if isinstance(item, dict):
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return True


def as_bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in TRUE or text in FALSE:
        return text in TRUE
    raise ValueError("must be true or false")


def as_number(value: Any) -> int | float:
    """A whole number stays an int (`42`, not `42.0`), within 64 bits; JSON numbers pass as they are."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        if isinstance(value, float) and not math.isfinite(value):
            raise ValueError("must be a finite number")
        if isinstance(value, int) and not INT64_MIN <= value <= INT64_MAX:
            raise ValueError(TOO_LARGE)
        return value
    text = str(value).strip()
    if INTEGER.fullmatch(text):
        if len(text) > MAX_DIGITS:  # never parsed: no 64-bit number is written longer
            raise ValueError(TOO_LARGE)
        return as_number(int(text))
    try:
        number = float(text)
    except ValueError:
        raise ValueError("must be a number") from None
    if not math.isfinite(number):
        raise ValueError("must be a finite number")
    return number


def split_list(text: str) -> list[str]:
    """'a; b;;c' → ['a', 'b', 'c']: several values in one CSV cell."""
    return [part.strip() for part in text.split(";") if part.strip()]


MAX_DEPTH = 32  # JSON nesting a record may carry: deeper is refused, not recursed into
MAX_TEXT_CHARS = 10_000  # one text value


def too_deep(value: Any, limit: int = MAX_DEPTH) -> bool:
    """True when objects and arrays nest more than `limit` levels (checked without recursion)."""
    if isinstance(value, str):  # JSON text: fewer brackets than the limit cannot nest deeper
        if value.count("{") + value.count("[") <= limit:
            return False
        try:
            value = json.loads(value)
        except RecursionError:
            return True
        except ValueError:
            return False  # not JSON at all: the caller says so
    stack: list[tuple[Any, int]] = [(value, 0)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict | list):
            if depth >= limit:
                return True
            children = item.values() if isinstance(item, dict) else item
            stack.extend((child, depth + 1) for child in children)
    return False
