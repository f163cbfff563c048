"""CSV request bodies: RFC 4180 quoting, no BOM, LF line ends, the union of the batch's columns in first-seen order."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from itertools import chain


def csv_cell(value: str) -> str:
    if '"' in value or "," in value or "\n" in value or "\r" in value:
        return '"' + value.replace('"', '""') + '"'
    return value


class CsvBatch:
    """Rows are kept as ready CSV lines; a column first seen late pads the earlier lines when the body is built."""

    __slots__ = ("_last_keys", "_lines", "_pos", "_widths", "chars", "columns", "indexes", "key")

    def __init__(self, key: str) -> None:
        self.key = key
        self.columns: list[str] = []
        self._pos: dict[str, int] = {}
        self._lines: list[bytes] = []
        self._widths: list[int] = []
        self.indexes: list[int] = []  # the source index of each row, to report refusals against
        self.chars = 0
        self._last_keys: tuple[str, ...] = ()  # the columns of the last row, when they were all the columns

    @property
    def rows(self) -> int:
        return len(self._lines)

    def add(self, fields: dict[str, str], index: int, original: object = None) -> None:
        """Adds a row; the original is not kept (the sent row is what a rejected file shows)."""
        keys = tuple(fields)
        if keys == self._last_keys:  # the hot path: the same columns in the same order as the row before
            values = list(fields.values())
        else:
            pos = self._pos
            for name in keys:
                if name not in pos:
                    pos[name] = len(self.columns)
                    self.columns.append(name)
            values = [""] * len(self.columns)
            for name, value in fields.items():
                values[pos[name]] = value
            self._last_keys = keys if keys == tuple(self.columns) else ()
        line = ",".join(values)
        if '"' in line or "\n" in line or "\r" in line or line.count(",") != len(values) - 1:
            line = ",".join(csv_cell(value) for value in values)  # some cell needs quoting
        encoded = line.encode()  # kept as bytes: the body is then one join, with no text copy beside it
        self._lines.append(encoded)
        self._widths.append(len(values))
        self.indexes.append(index)
        self.chars += len(encoded) + 1

    def _body_lines(self) -> Iterator[bytes]:
        width = len(self.columns)
        yield ",".join(csv_cell(c) for c in self.columns).encode()
        for line, have in zip(self._lines, self._widths, strict=True):
            yield line if have == width else line + b"," * (width - have)

    def subset(self, positions: list[int]) -> CsvBatch:
        part = CsvBatch(self.key)
        part.columns, part._pos = self.columns, self._pos
        part._lines = [self._lines[p] for p in positions]
        part._widths = [self._widths[p] for p in positions]
        part.indexes = [self.indexes[p] for p in positions]
        part.chars = sum(len(line) + 1 for line in part._lines)
        return part

    def sample(self, limit: int) -> list[str]:
        lines = self._body_lines()
        return [next(lines).decode() for _ in range(min(limit, self.rows) + 1)]  # the header, then rows

    def body(self) -> bytes:
        return b"\n".join(chain(self._body_lines(), (b"",)))  # the last line ends too, with no copy of the body

    def records(self) -> list[dict[str, str]]:
        """The rows back as field maps (only on the rare path where the destination refuses a batch)."""
        reader = csv.DictReader(io.StringIO(self.body().decode("utf-8"), newline=""))
        return [{k: v for k, v in row.items() if v != ""} for row in reader]
