"""Grouping prepared records into requests: by the destination's batch key, up to its row and size caps."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from courier.destinations import Batch


class Batcher:
    """Hands back each batch as soon as it is full; `drain` gives the rest at the end.

    The row cap starts at `first_rows` and doubles with each full batch up to `max_rows`: the first request leaves
    early, so sending overlaps reading even in a small file, and a large file still goes in the largest requests."""

    def __init__(
        self,
        key_of: Callable[[dict[str, Any]], str],
        new_batch: Callable[[str], Batch],
        max_rows: int,
        max_chars: int,
        first_rows: int | None = None,
    ) -> None:
        self._key_of = key_of
        self._new_batch = new_batch
        self._max_rows = max_rows
        self._rows_cap = min(max_rows, first_rows or max_rows)
        self._max_chars = max_chars
        self._open: dict[str, Batch] = {}

    def add(self, fields: dict[str, Any], index: int, original: Any = None) -> Batch | None:
        key = self._key_of(fields)
        batch = self._open.get(key)
        if batch is None:
            batch = self._open[key] = self._new_batch(key)
        batch.add(fields, index, original)
        if batch.rows >= self._rows_cap or batch.chars >= self._max_chars:
            del self._open[key]
            self._rows_cap = min(self._max_rows, self._rows_cap * 2)
            return batch
        return None

    def drain(self) -> list[Batch]:
        batches, self._open = list(self._open.values()), {}
        return batches
