"""Request bodies of the HTTPS door: a JSON object, a JSON array of objects, or text/csv with a header."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable
from typing import Any

from courier.model import SourceRow
from courier.sources.records import UNFIT_CHARS, as_rows, fit_row


class BadBodyError(ValueError):
    """The body as a whole cannot be read; the message is safe to show the caller."""


def body_rows(body: str, content_type: str) -> list[SourceRow]:
    if content_type.split(";")[0].strip().lower() == "text/csv":
        return list(_csv_rows(body))
    try:
        parsed: Any = json.loads(body)
    except ValueError:
        raise BadBodyError("the body is not valid JSON (send a JSON object, a JSON array, or text/csv)") from None
    except RecursionError:
        raise BadBodyError("the body's JSON is nested too deeply") from None
    if isinstance(parsed, dict):
        parsed = [parsed]
    if not isinstance(parsed, list):
        raise BadBodyError("the body must be a JSON object or an array of objects")
    return list(as_rows(parsed, body))


def _csv_rows(body: str) -> Iterable[SourceRow]:
    reader = csv.reader(io.StringIO(body.removeprefix("\ufeff"), newline=""))
    try:
        header = [name.strip() for name in next(reader)]
        rows = [row for row in reader if row]
    except (StopIteration, csv.Error):
        raise BadBodyError("the CSV body needs a header row and well-formed rows") from None
    check = UNFIT_CHARS.search(body) is not None  # valid UTF-8 holds no surrogate, but may hold non-characters
    for index, row in enumerate(rows):
        record = dict(zip(header, row, strict=False))
        if len(row) != len(header):
            yield index, record, f"row: has {len(row)} cells, the header {len(header)}"
        else:
            yield fit_row((index, record, "")) if check else (index, record, "")
