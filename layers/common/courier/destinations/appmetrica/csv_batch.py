"""CSV request bodies: RFC 4180 quoting, no BOM, LF line ends, the union of the batch's columns in first-seen order."""

from __future__ import annotations

import csv
import io
from array import array
from bisect import bisect_left, bisect_right
from itertools import accumulate, repeat
from operator import add

from courier.model import CsvLine, Fields, ForwardedLines


def csv_cell(value: str) -> str:
    if '"' in value or "," in value or "\n" in value or "\r" in value:
        return '"' + value.replace('"', '""') + '"'
    return value


class CsvBatch:
    """Rows go into one growing buffer of CSV lines (no object kept per row); the header is put in front of them when
    the body is built, so the body is that same buffer and a batch in flight holds one copy of its rows.

    A column first seen late pads the earlier lines when the body is built. Columns only grow, so a row's width is
    the column count when it was added: `_growth` records where that count changed."""

    __slots__ = (
        "_ends",
        "_growth",
        "_header_length",
        "_last_keys",
        "_pos",
        "_quoting",
        "_rows",
        "chars",
        "columns",
        "indexes",
        "key",
    )

    def __init__(self, key: str) -> None:
        self.key = key
        self.columns: list[str] = []
        self._pos: dict[str, int] = {}
        self._rows = bytearray()  # the rows' lines, each ending in \n; the body once the header is put in front
        self._header_length = 0  # set when the body is built
        self._ends = array("Q")  # where each row's line ends (after its \n), counted after the header
        self._growth: list[tuple[int, int]] = []  # (first row, column count) at each change of the count
        self.indexes = array("q")  # the source index of each row, to report refusals against
        self.chars = 0
        self._last_keys: tuple[str, ...] = ()  # the columns of the last row, when they were all the columns
        self._quoting = False  # a row so far needed a cell quoted

    @property
    def rows(self) -> int:
        return len(self._ends)

    def add(self, fields: Fields, index: int, original: object = None) -> None:
        """Adds a row; the original is not kept (the sent row is what a rejected file shows)."""
        if isinstance(fields, CsvLine):  # the hot path: a file's line as written, when it has all the columns
            columns = fields.columns
            if not self.columns:
                self._start(columns)
            if columns == self._last_keys or list(columns) == self.columns:  # (the second: after a narrower row)
                self._last_keys = columns
                self._append(fields.line, index)
                return
            fields = fields.fields()
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
            if not self._growth or self._growth[-1][1] != len(values):
                self._growth.append((self.rows, len(values)))
        if self._quoting:  # rows of this batch needed quoting: a cell that does not is left as it is anyway
            line = ",".join([csv_cell(value) for value in values])
        else:
            line = ",".join(values)
            if '"' in line or "\n" in line or "\r" in line or line.count(",") != len(values) - 1:
                line = ",".join([csv_cell(value) for value in values])  # some cell needs quoting
                self._quoting = True  # (a JSON cell: every row's, likely)
        self._append(line.encode(), index)

    def add_lines(self, lines: ForwardedLines, first_index: int, room: int, max_chars: int) -> int:
        """A forwarded run's lines, at most `room`, up to the one that brings the batch to `max_chars`, in one append
        (rows `first_index` on); the number added, 0 when the batch has other columns."""
        columns = lines.columns
        if not self.columns:
            self._start(columns)
        elif not (columns == self._last_keys or list(columns) == self.columns):
            return 0
        self._last_keys = columns
        rows, prefix = self._rows, lines.prefix
        taken = lines.lines[:room]
        ends = list(accumulate(map(add, map(len, taken), repeat(len(prefix))), initial=len(rows)))[1:]
        count = min(len(ends), bisect_left(ends, max_chars) + 1)
        rows += prefix
        rows += prefix.join(taken[:count] if count < len(taken) else taken)  # each line ends in its \n
        self._ends.extend(ends[:count])
        self.indexes.extend(range(first_index, first_index + count))
        self.chars = len(rows)
        return count

    def _start(self, columns: tuple[str, ...]) -> None:
        """The first row's columns are the batch's: later rows with the same ones take the hot path."""
        self.columns = list(columns)
        self._pos = {name: position for position, name in enumerate(columns)}
        self._growth.append((0, len(columns)))
        self._last_keys = columns

    def _append(self, line: bytes, index: int) -> None:
        rows = self._rows
        rows += line
        rows += b"\n"
        self._ends.append(len(rows))
        self.indexes.append(index)
        self.chars = len(rows)

    def _width(self, row: int) -> int:
        return self._growth[bisect_right(self._growth, (row, len(self.columns) + 1)) - 1][1]

    def _line(self, row: int) -> bytes:
        """The row's line as sent: without its \n, padded to all the columns."""
        at = self._header_length
        line = bytes(self._rows[at + (self._ends[row - 1] if row else 0) : at + self._ends[row] - 1])
        return line + b"," * (len(self.columns) - self._width(row))

    def _header(self) -> bytes:
        return ",".join(csv_cell(c) for c in self.columns).encode() + b"\n"

    def subset(self, positions: list[int]) -> CsvBatch:
        part = CsvBatch(self.key)
        part.columns, part._pos = self.columns, self._pos
        part._growth = [(0, len(self.columns))]
        for position in positions:
            part._append(self._line(position), self.indexes[position])
        return part

    def sample(self, limit: int) -> list[str]:
        return [self._header().decode()[:-1]] + [self._line(row).decode() for row in range(min(limit, self.rows))]

    def body(self) -> bytearray:
        """The request body, built once, in place: requests sends a bytearray as it is, with no copy."""
        if not self._header_length:
            if len(self._growth) > 1:  # some rows are narrower than the columns: pad them (the rare path)
                padded = self.subset(list(range(self.rows)))
                self._rows, self._ends, self._growth = padded._rows, padded._ends, padded._growth
            header = self._header()
            self._rows[0:0] = header
            self._header_length = len(header)
        return self._rows

    def records(self) -> list[dict[str, str]]:
        """The rows back as field maps (only on the rare path where the destination refuses a batch)."""
        reader = csv.DictReader(io.StringIO(self.body().decode("utf-8"), newline=""))
        return [{k: v for k, v in row.items() if v != ""} for row in reader]
