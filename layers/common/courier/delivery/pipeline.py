"""The flow every door shares: records → validate → batch → send → outcomes."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from courier.delivery.batching import Batcher
from courier.delivery.outcomes import SendResult, Status, Tally
from courier.destinations import Batch, Destination, Preparer, Sender

# (index, record, parse error): where a source could not read a record, the error is set and the record is
# whatever it has of the original (a partial row, a line of text) so the rejected file can show it.
SourceRow = tuple[int, Any, str]
OnReject = Callable[[int, Any, list[str]], None]
OnDelivered = Callable[[int, str], None]  # (index, the destination's id for the record, when it gives one)


class Delivery:
    """Feeds rows to a destination and counts where each one ended; stops at the first batch it must retry."""

    def __init__(
        self,
        destination: Destination,
        prepare: Preparer,
        sender: Sender,
        deadline: float,
        on_reject: OnReject,
        on_delivered: OnDelivered | None = None,
    ) -> None:
        self.destination = destination
        self.tally = Tally()
        self._prepare = prepare
        self._sender = sender
        self._deadline = deadline
        self._on_reject = on_reject
        self._on_delivered = on_delivered
        self._batcher = Batcher(destination.batch_key, destination.new_batch, sender.max_rows, sender.max_chars)
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
            full = self._batcher.add(fields, index, record)
            if full is not None:
                self._send(full)
                if self.must_retry:  # the destination is unavailable: stop reading, the message is retried
                    return

    def finish(self) -> Tally:
        for batch in self._batcher.drain():
            self._send(batch)
        return self.tally

    def _send(self, batch: Batch) -> None:
        tally = self.tally
        if self.must_retry:
            self._leave_pending(batch.indexes, "")
            return
        result = self._sender.send(batch, self._deadline)
        tally.requests += result.requests
        tally.retries += result.retries
        if result.items is None:
            self._settle(batch, list(range(batch.rows)), result)
            return
        for status in (Status.DELIVERED, Status.REJECTED, Status.RETRY):
            positions = [pos for pos, item in enumerate(result.items) if item.status is status]
            if positions:
                self._settle(batch, positions, result)

    def _settle(self, batch: Batch, positions: list[int], result: SendResult) -> None:
        """Counts the records at these positions of the batch, which share one status."""
        items = result.items
        status = items[positions[0]].status if items else result.status
        indexes = [batch.indexes[pos] for pos in positions]
        if status is Status.DELIVERED:
            self.tally.delivered += len(positions)
            if self._on_delivered is not None:
                for pos, index in zip(positions, indexes, strict=True):
                    self._on_delivered(index, items[pos].destination_id if items else "")
        elif status is Status.REJECTED:
            records = batch.records()
            for pos, index in zip(positions, indexes, strict=True):
                reason = items[pos].reason if items else result.reason
                self.reject(index, records[pos], [f"destination: {reason}"])
        else:
            self._leave_pending(indexes, items[positions[0]].reason if items else result.reason)

    def _leave_pending(self, indexes: list[int], reason: str) -> None:
        self.tally.pending += len(indexes)
        self.pending_indexes.extend(indexes)
        if reason:
            self.tally.retry_reason = reason


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
