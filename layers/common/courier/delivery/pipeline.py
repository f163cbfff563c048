"""The flow every door shares: records → validate → batch → send → outcomes."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from courier.delivery.csv_batch import Batcher, CsvBatch
from courier.delivery.outcomes import Status, Tally
from courier.destinations import Destination, Preparer, Sender

# (index, record, parse error): where a source could not read a record, the error is set and the record is
# whatever it has of the original (a partial row, a line of text) so the rejected file can show it.
SourceRow = tuple[int, Any, str]
OnReject = Callable[[int, Any, list[str]], None]


class Delivery:
    """Feeds rows to a destination and counts where each one ended; stops at the first batch it must retry."""

    def __init__(
        self,
        destination: Destination,
        prepare: Preparer,
        sender: Sender,
        deadline: float,
        on_reject: OnReject,
    ) -> None:
        self.destination = destination
        self.tally = Tally()
        self._prepare = prepare
        self._sender = sender
        self._deadline = deadline
        self._on_reject = on_reject
        self._batcher = Batcher(destination.batch_key, destination.max_rows, destination.max_chars)
        self._seen: set[str] = set()
        self._ignored: set[str] = set()
        self.pending_indexes: list[int] = []  # rows of batches left to retry

    @property
    def must_retry(self) -> bool:
        return self.tally.pending > 0

    def ignore_unknown(self, names: Iterable[str]) -> None:
        new = set(names) - self._seen  # each name is classified once per file or message
        if not new:
            return
        self._seen |= new
        unknown = {name for name in new if not self.destination.knows(name)}
        if unknown:
            self._ignored |= unknown
            self.tally.ignored_fields = sorted(self._ignored)

    def reject(self, index: int, record: Any, errors: list[str]) -> None:
        self.tally.reject(index, errors)
        self._on_reject(index, record, errors)

    def feed(self, rows: Iterable[SourceRow], check_fields: bool = False) -> None:
        prepare, tally = self._prepare, self.tally
        for index, record, parse_error in rows:
            tally.read += 1
            if parse_error:
                self.reject(index, record, [parse_error])
                continue
            if check_fields:
                self.ignore_unknown(record)
            fields, errors = prepare(record)
            if fields is None:
                self.reject(index, record, errors)
                continue
            if errors:
                tally.drop_values(errors)
            full = self._batcher.add(fields, index)
            if full is not None:
                self._send(full)
                if self.must_retry:  # the destination is unavailable: stop reading, the message is retried
                    return

    def finish(self) -> Tally:
        for batch in self._batcher.drain():
            self._send(batch)
        return self.tally

    def _send(self, batch: CsvBatch) -> None:
        tally = self.tally
        if self.must_retry:
            tally.pending += batch.rows
            self.pending_indexes.extend(batch.indexes)
            return
        result = self._sender.send(batch, self._deadline)
        tally.requests += result.requests
        tally.retries += result.retries
        if result.status is Status.DELIVERED:
            tally.delivered += batch.rows
        elif result.status is Status.REJECTED:
            for index, record in zip(batch.indexes, batch.records(), strict=True):
                self.reject(index, record, [f"destination: {result.reason}"])
        else:
            tally.pending += batch.rows
            tally.retry_reason = result.reason
            self.pending_indexes.extend(batch.indexes)


def deliver(
    destination: Destination,
    prepare: Preparer,
    sender: Sender,
    rows: Iterable[SourceRow],
    deadline: float,
    on_reject: OnReject,
    check_fields: bool = False,
) -> Tally:
    delivery = Delivery(destination, prepare, sender, deadline, on_reject)
    delivery.feed(rows, check_fields)
    return delivery.finish()


def as_rows(records: Iterable[Any]) -> Iterable[SourceRow]:
    """Records of a JSON message or body; an element that is not an object is refused with a reason."""
    for index, record in enumerate(records):
        if isinstance(record, dict):
            yield index, record, ""
        else:
            yield index, record, f"record: must be a JSON object, not {type(record).__name__}"
