"""Everything the process logs, at DEBUG, as Lambda's ApplicationLogLevel=DEBUG (the root logger) and
POWERTOOLS_LOG_LEVEL=DEBUG (Courier's logger) would have it: every record of every logger, and the lines
Powertools' own handler prints (its stream is the stdout of import time, which `capsys` never sees)."""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from tests.support import everything_logged

# Loggers of the test's stand-ins, not of the function: moto plays AWS, and `responses` is moto's patch of
# `requests` (it logs every URL it lets through, at INFO); neither exists in Lambda.
NOT_THE_FUNCTION = ("moto", "responses")


class _Collect(logging.Handler):
    def __init__(self, records: list[logging.LogRecord]) -> None:
        super().__init__(logging.NOTSET)
        self._records = records

    def emit(self, record: logging.LogRecord) -> None:
        if not record.name.startswith(NOT_THE_FUNCTION):
            self._records.append(record)


@dataclass
class AllLogs:
    records: list[logging.LogRecord] = field(default_factory=list)
    printed: io.StringIO = field(default_factory=io.StringIO)  # what Powertools' handler wrote

    def text(self) -> str:
        return everything_logged(self.records) + "\n" + self.printed.getvalue()


@contextmanager
def everything_at_debug() -> Iterator[AllLogs]:
    captured = AllLogs()
    root, courier = logging.getLogger(), logging.getLogger("courier")
    collect = _Collect(captured.records)
    streams = [(h, h.stream) for h in courier.handlers if isinstance(h, logging.StreamHandler)]
    levels = (root.level, courier.level)
    for handler, _ in streams:
        handler.setStream(captured.printed)
    root.addHandler(collect)
    root.setLevel(logging.DEBUG)
    courier.setLevel(logging.DEBUG)
    try:
        yield captured
    finally:
        root.removeHandler(collect)
        root.setLevel(levels[0])
        courier.setLevel(levels[1])
        for handler, stream in streams:
            handler.setStream(stream)
