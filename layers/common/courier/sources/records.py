"""Records already in memory (an SQS message's body, an HTTPS request's body) as a source the driver reads."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from courier.model import Mark, SourceRow


def object_row(index: int, record: Any, what: str = "record") -> SourceRow:
    """A decoded JSON value as a row: one that is not an object is refused with a reason."""
    if isinstance(record, dict):
        return index, record, ""
    return index, record, f"{what}: must be a JSON object, not {type(record).__name__}"


def as_rows(records: Iterable[Any]) -> Iterator[SourceRow]:
    """Records of a JSON message or body."""
    for index, record in enumerate(records):
        yield object_row(index, record)


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
