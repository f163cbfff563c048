"""What a person finds in the data bucket: rejected/ rows with their reasons and reports/ per file."""

from __future__ import annotations

import csv
import io
import json
import tempfile
from datetime import UTC, datetime
from typing import Any

SPOOL_BYTES = 8 * 1024 * 1024  # rejected rows beyond this go to /tmp rather than memory


class RejectedRows:
    """A CSV of refused records: the original columns plus `error` (or, for JSON records, `record` + `error`)."""

    def __init__(self, columns: list[str] | None = None) -> None:
        self._columns = columns
        self._file: Any = None  # made with the first row: most messages and requests never have one
        self._writer: Any = None
        self.count = 0

    def add(self, index: int, record: Any, errors: list[str]) -> None:
        if self._writer is None:
            self._file = tempfile.SpooledTemporaryFile(max_size=SPOOL_BYTES, mode="w+b")  # noqa: SIM115  (lives with the object)
            # a lone surrogate in a record is written as its escape (\ud800): the file is always valid UTF-8
            self._text = io.TextIOWrapper(
                self._file, encoding="utf-8", errors="backslashreplace", newline="", write_through=True
            )
            self._writer = csv.writer(self._text, lineterminator="\n")
            self._writer.writerow([*(_cell(name) for name in self._columns or ["record"]), "error"])
        error = _cell("; ".join(errors))
        if self._columns is not None and isinstance(record, dict):
            self._writer.writerow([*(_cell(record.get(name, "")) for name in self._columns), error])
        else:
            self._writer.writerow([_cell(record), error])
        self.count += 1

    def upload(self, s3: Any, bucket: str, key: str) -> str | None:
        """Writes the file when it has rows; returns its s3:// address."""
        if not self.count:
            return None
        self._text.flush()
        self._file.seek(0)
        s3.upload_fileobj(self._file, bucket, key, ExtraArgs={"ContentType": "text/csv; charset=utf-8"})
        return f"s3://{bucket}/{key}"


FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def _cell(value: Any) -> str:
    """A cell of the rejected file (header, data or error); one a spreadsheet would run as a formula is quoted (CSV
    injection)."""
    if value is None:
        return ""
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, default=str)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def put_report(s3: Any, bucket: str, key: str, report: dict[str, Any]) -> str:
    body = json.dumps(report, ensure_ascii=False, indent=2).encode("utf-8")
    s3.put_object(Bucket=bucket, Key=key, Body=body, ContentType="application/json")
    return f"s3://{bucket}/{key}"


def door_key(door: str, function: str, name: str) -> str:
    """rejected/<door>/<function>/<date>/<name>.csv for records that did not come from a file."""
    return f"rejected/{door}/{function}/{datetime.now(UTC):%Y-%m-%d}/{name}.csv"
