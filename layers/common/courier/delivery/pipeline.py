"""The flow every door shares: records → validate → batch → send → outcomes."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

from courier.delivery.batching import Batcher
from courier.delivery.ledger import Ledger, NoLedger
from courier.delivery.outcomes import ItemResult, SendResult, Status, Tally
from courier.destinations import Batch, Destination, Preparer, Sender

# (index, record, parse error): where a source could not read a record, the error is set and the record is
# whatever it has of the original (a partial row, a line of text) so the rejected file can show it.
SourceRow = tuple[int, Any, str]
OnReject = Callable[[int, Any, list[str]], None]
OnDelivered = Callable[[int, str], None]  # (index, the destination's id for the record, when it gives one)
FIRST_REQUEST_ROWS = 10_000  # requests grow from this to the destination's cap (see Batcher)


class Delivery:
    """Feeds rows to a destination and counts where each one ended; stops reading once a batch must be retried."""

    def __init__(
        self,
        destination: Destination,
        prepare: Preparer,
        sender: Sender,
        deadline: float,
        on_reject: OnReject,
        on_delivered: OnDelivered | None = None,
        unit: str = "",
        ledger: Ledger | None = None,
        skip_chunks: int = 0,
    ) -> None:
        """`unit` names the file or message: request n of it is the chunk `<unit>#n`, done at most once through the
        ledger. A continuation passes `skip_chunks`, the chunks an earlier invocation finished."""
        self.destination = destination
        self.tally = Tally()
        self._prepare = prepare
        self._sender = sender
        self._deadline = deadline
        self._on_reject = on_reject
        self._on_delivered = on_delivered
        self._batcher = Batcher(
            destination.batch_key, destination.new_batch, sender.max_rows, sender.max_chars, FIRST_REQUEST_ROWS
        )
        self._seen: set[str] = set()
        self._ignored: set[str] = set()
        self.pending_indexes: list[int] = []  # rows of batches left to retry
        self._unit = unit
        self._ledger = ledger or NoLedger()
        self._skip_chunks = skip_chunks
        self.chunks = 0  # chunks formed so far, sent or not
        self.continue_from: int | None = None  # set when time ran out: the chunk a continuation starts at
        self._last_send = time.time()
        self._slowest = 0.0  # the longest time between two chunks (reading one while the other is sent)
        self._pool: ThreadPoolExecutor | None = None
        self._in_flight: tuple[str, Batch, Future[tuple[dict[str, Any], bool]]] | None = None

    @property
    def stopped(self) -> bool:
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
                if self.stopped:  # the destination is unavailable, or time is short: stop reading
                    return

    def finish(self) -> Tally:
        for batch in self._batcher.drain():
            self._send(batch)
        self._settle_in_flight()
        if self._pool is not None:
            self._pool.shutdown()
        return self.tally

    def _send(self, batch: Batch) -> None:
        """Sends a full batch while the next one is read: one request in flight, whose answer is counted (on this
        thread) before the next request leaves, so a failure still stops the flow one chunk later at most."""
        self._settle_in_flight()
        chunk = self.chunks
        self.chunks += 1
        if self.stopped:
            self._leave_pending(batch.indexes, "")
            return
        if chunk < self._skip_chunks:  # finished by an earlier invocation of this file
            self.tally.duplicates_skipped += batch.rows
            return
        now = time.time()
        self._slowest = max(self._slowest, now - self._last_send)
        if chunk > self._skip_chunks and now + 2 * self._slowest > self._deadline:
            self.continue_from = chunk  # no time for another chunk: a continuation takes it from here
            self._leave_pending(batch.indexes, "")
            return
        key = f"{self._unit}#{chunk}"
        if self._pool is None:
            self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="courier-send")
        self._in_flight = (key, batch, self._pool.submit(self._request, key, batch))
        self._last_send = time.time()

    def _request(self, key: str, batch: Batch) -> tuple[dict[str, Any], bool]:
        """The request through the ledger; touches no state of this object but the sender's (one at a time)."""
        return self._ledger.once(key, lambda: self._sender.send(batch, self._deadline).to_json(), _finished)

    def _settle_in_flight(self) -> None:
        if self._in_flight is not None:
            key, batch, answer = self._in_flight
            self._in_flight = None
            self._apply(key, batch, *answer.result())

    def _deliver_chunk(self, key: str, batch: Batch) -> None:
        """Sends now and counts the answer (the rare paths: halves of a refused batch, leftovers of an earlier run)."""
        self._apply(key, batch, *self._request(key, batch))

    def _apply(self, key: str, batch: Batch, recorded: dict[str, Any], repeated: bool) -> None:
        result = SendResult.from_json(recorded)
        if not repeated:
            self.tally.requests += result.requests
            self.tally.retries += result.retries
        if result.split and batch.rows > 1:
            half = batch.rows // 2  # a refused batch is split to find the refused records; the rest go through
            self._deliver_chunk(f"{key}.0", batch.subset(list(range(half))))
            self._deliver_chunk(f"{key}.1", batch.subset(list(range(half, batch.rows))))
            return
        items = result.items or (ItemResult(result.status, result.reason),) * batch.rows
        for status in (Status.DELIVERED, Status.REJECTED, Status.RETRY):
            positions = [pos for pos, item in enumerate(items) if item.status is status]
            if not positions:
                continue
            if status is Status.RETRY and repeated:  # an earlier run left these: send them now, once
                self._deliver_chunk(f"{key}.r", batch.subset(positions))
            elif status is Status.DELIVERED and repeated:
                self.tally.duplicates_skipped += len(positions)
            else:
                self._settle(batch, positions, items)

    def _settle(self, batch: Batch, positions: list[int], items: tuple[ItemResult, ...]) -> None:
        """Counts the records at these positions of the batch, which share one status."""
        status = items[positions[0]].status
        indexes = [batch.indexes[pos] for pos in positions]
        if status is Status.DELIVERED:
            self.tally.delivered += len(positions)
            if self._on_delivered is not None:
                for pos, index in zip(positions, indexes, strict=True):
                    self._on_delivered(index, items[pos].destination_id)
        elif status is Status.REJECTED:
            records = batch.records()
            for pos, index in zip(positions, indexes, strict=True):
                self.reject(index, records[pos], [f"destination: {items[pos].reason}"])
        else:
            self._leave_pending(indexes, items[positions[0]].reason)

    def _leave_pending(self, indexes: Sequence[int], reason: str) -> None:
        self.tally.pending += len(indexes)
        self.pending_indexes.extend(indexes)
        if reason:
            self.tally.retry_reason = reason


def as_rows(records: Iterable[Any]) -> Iterable[SourceRow]:
    """Records of a JSON message or body; an element that is not an object is refused with a reason."""
    for index, record in enumerate(records):
        if isinstance(record, dict):
            yield index, record, ""
        else:
            yield index, record, f"record: must be a JSON object, not {type(record).__name__}"


def _finished(recorded: dict[str, Any]) -> bool:
    return SendResult.from_json(recorded).finished
