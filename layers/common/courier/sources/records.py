"""Records already in memory (an SQS message's body, an HTTPS request's body) as a source the driver reads."""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Iterator
from typing import Any

from courier.model import Mark, SourceRow


def object_row(index: int, record: Any, what: str = "record") -> SourceRow:
    """A decoded JSON value as a row: one that is not an object is refused with a reason."""
    if isinstance(record, dict):
        return index, record, ""
    return index, record, f"{what}: must be a JSON object, not {type(record).__name__}"


# Lone surrogates (no UTF-8 encoding exists for them) and the 66 Unicode non-characters
UNFIT_CHARS = re.compile(
    "[\\ud800-\\udfff\\ufdd0-\\ufdef" + "".join(f"\\U{plane:04x}fffe\\U{plane:04x}ffff" for plane in range(17)) + "]"
)
# What a JSON text holding one of them, NaN, Infinity or a number too large for a float must contain: a text without
# any of these needs no look at its values
_SUSPECT = re.compile(
    r"\\u[dD][89a-fA-F]|\\u[fF][dD][dDeE]|\\u[fF]{3}[eEfF]|NaN|Infinity|[eE][+]?[0-9]{3}|-?[0-9]{20}|-[0-9]{19}|"
    + UNFIT_CHARS.pattern
)
UNFIT_TEXT = "holds a lone surrogate or a Unicode non-character (U+D800–U+DFFF, U+FDD0–U+FDEF, U+FFFE, U+FFFF, …)"
UNFIT_NUMBER = "NaN and Infinity are not JSON numbers (send a finite number)"
# No field of either API holds a whole number outside 64 bits (AppMetrica's device id is the one unsigned 64-bit one)
INT64_MIN, INT64_MAX, UINT64_MAX = -(2**63), 2**63 - 1, 2**64 - 1
MAX_DIGITS = len(str(UINT64_MAX))  # digit text longer than this is beyond 64 bits: refused without being parsed
UNFIT_INTEGER = "a whole number beyond 64 bits, which no field of the destination holds"


def as_rows(records: Iterable[Any], text: str | None = None) -> Iterator[SourceRow]:
    """Records of a JSON message or body (`text`: the JSON they were read from, when known). A record holding a
    lone surrogate, a non-character, NaN, ±Infinity or a whole number beyond 64 bits anywhere is refused with a
    reason, before anything is sent."""
    check = text is None or _SUSPECT.search(text) is not None
    for index, record in enumerate(records):
        row = object_row(index, record)
        yield fit_row(row) if check else row


def fit_row(row: SourceRow) -> SourceRow:
    """The row, or the row refused with the reason its record cannot be sent (unfit_record)."""
    index, record, problem = row
    if problem or not isinstance(record, dict):
        return row
    unfit = unfit_record(record)
    return (index, record, unfit) if unfit else row


def unfit_record(record: dict[str, Any]) -> str:
    """The reason a record's names or values cannot be sent as JSON or UTF-8 text, or ''."""
    for name, value in record.items():
        if isinstance(name, str) and UNFIT_CHARS.search(name):
            return f"record: a field name {UNFIT_TEXT}"
        problem = unfit_value(value)
        if problem:
            return f"{str(name)[:100]}: {problem}"
    return ""


def unfit_value(value: Any) -> str:
    """UNFIT_TEXT, UNFIT_NUMBER or UNFIT_INTEGER when the value holds such text or number anywhere (looked at without
    recursion), else ''."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            if UNFIT_CHARS.search(item):
                return UNFIT_TEXT
        elif isinstance(item, float):
            if not math.isfinite(item):
                return UNFIT_NUMBER
        elif isinstance(item, int) and not INT64_MIN <= item <= UINT64_MAX:
            return UNFIT_INTEGER
        elif isinstance(item, dict):
            stack.extend(item)
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return ""


class RecordsSource:
    """Rows in a list, indexed as given (indexes grow, gaps allowed)."""

    columns: list[str] | None = None

    def __init__(self, rows: list[SourceRow]) -> None:
        self._rows = rows
        self._taken = 0

    def __iter__(self) -> Iterator[SourceRow]:
        while self._taken < len(self._rows):
            self._taken += 1
            yield self._rows[self._taken - 1]

    def mark(self) -> Mark:
        last = self._rows[self._taken - 1][0] if self._taken else (self._rows[0][0] - 1 if self._rows else -1)
        return {"index": last, "offset": -1}

    def after(self, mark: Mark) -> list[int]:
        """The indexes of the rows after a mark (the ones a delivery that stopped there left)."""
        return [row[0] for row in self._rows if row[0] > mark["index"]]

    def originals(self, start: Mark, indexes: set[int]) -> dict[int, Any]:
        return {index: record for index, record, _ in self._rows if index in indexes}
