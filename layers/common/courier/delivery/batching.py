"""Grouping prepared records into requests: by the destination's batch key, up to its row and size caps."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, cast

from courier.model import Batch, CsvLine, Fields, ForwardedLines, LineBatch


class Batcher:
    """The open batches of one chunk, one per batch key; `add` says when one of them is full."""

    def __init__(
        self, key_of: Callable[[dict[str, Any]], str], new_batch: Callable[[str], Batch], max_rows: int, max_chars: int
    ) -> None:
        self._key_of = key_of
        self._new_batch = new_batch
        self._max_rows = max_rows
        self._max_chars = max_chars
        self.open: dict[str, Batch] = {}

    def add(self, fields: Fields, index: int, original: Any = None) -> bool:
        batch = self._batch(fields.key if isinstance(fields, CsvLine) else self._key_of(fields))
        batch.add(fields, index, original)
        return self._full(batch)

    def add_lines(self, lines: ForwardedLines, first_index: int) -> tuple[int, bool]:
        """A forwarded run's lines, as many as its batch takes: how many, and whether that batch is full."""
        batch = self._batch(lines.key)
        room = self._max_rows - batch.rows
        added = cast(LineBatch, batch).add_lines(lines, first_index, room, self._max_chars)  # a CSV destination's
        return added, self._full(batch)

    def _batch(self, key: str) -> Batch:
        batch = self.open.get(key)
        if batch is None:
            batch = self.open[key] = self._new_batch(key)
        return batch

    def _full(self, batch: Batch) -> bool:
        return batch.rows >= self._max_rows or batch.chars >= self._max_chars
