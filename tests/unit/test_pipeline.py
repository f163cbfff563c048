"""The shared flow: rows → prepare → batches → sender → outcomes, with a recording sender in place of HTTP."""

from __future__ import annotations

import gzip
import io
import time
import tracemalloc
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from courier.model import ItemResult, SendResult, Status, Tally
from courier.delivery.pipeline import Delivery, OnReject, SourceRow, as_rows
from courier.model import Batch, Destination, Preparer, Sender
from courier.destinations.appmetrica.events import APPMETRICA_EVENTS, make_event_preparer
from courier.settings import Settings
from courier.sources.files import open_rows
from tests.support import recent


def deliver(
    destination: Destination,
    prepare: Preparer,
    sender: Sender,
    rows: Iterable[SourceRow],
    deadline: float,
    on_reject: OnReject,
) -> Tally:
    """The whole flow over some rows, as a door runs it."""
    delivery = Delivery(destination, prepare, sender, deadline, on_reject)
    delivery.feed(rows)
    return delivery.finish()


@dataclass
class RecordingSender:
    """Answers from a script (default: delivered) and remembers what each batch held."""

    script: list[SendResult] = field(default_factory=list)
    batches: list[list[int]] = field(default_factory=list)
    on_send: Any = None
    max_rows: int = 100_000
    max_chars: int = 10**9

    def send(self, batch: Batch, deadline: float) -> SendResult:
        self.batches.append(list(batch.indexes))
        if self.on_send:
            self.on_send()
        return self.script.pop(0) if self.script else SendResult(Status.DELIVERED)


def events(count: int, start: int = 0) -> Iterator[dict[str, Any]]:
    ts = recent()
    for n in range(start, start + count):
        yield {"application_id": "1111", "profile_id": f"user-{n}", "event_name": "open", "event_timestamp": ts}


def run(records: Any, sender: RecordingSender, rejected: list[Any] | None = None) -> Any:
    sink = rejected if rejected is not None else []
    return deliver(
        APPMETRICA_EVENTS,
        make_event_preparer(Settings(), time.time()),
        sender,
        as_rows(records),
        time.time() + 60,
        lambda index, record, errors: sink.append((index, errors)),
    )


def test_requests_grow_from_10000_rows_to_at_most_50000() -> None:
    # Given a file of 200,000 events, and a destination that takes 50,000 rows a request
    sender = RecordingSender(max_rows=50_000)
    # When it is delivered
    tally = run(events(200_000), sender)
    # Then the first request leaves early and the sizes double up to the cap
    assert [len(batch) for batch in sender.batches] == [10_000, 20_000, 40_000, 50_000, 50_000, 30_000]
    assert (tally.read, tally.delivered, tally.rejected, tally.pending, tally.requests) == (200_000, 200_000, 0, 0, 6)


class CountingStream(io.RawIOBase):
    """A file that reports how far it has been read."""

    def __init__(self, data: bytes) -> None:
        self._data = io.BytesIO(data)
        self.position = 0
        self.size = len(data)

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        count = self._data.readinto(buffer)
        self.position += count
        return count


def test_a_file_is_streamed_the_first_request_leaves_before_the_file_is_read() -> None:
    # Given a gzipped CSV of 120,000 events read through a stream that reports its position
    ts = recent()
    text = "profile_id,event_name,event_timestamp\n" + "".join(f"u{n},open,{ts}\n" for n in range(120_000))
    stream = CountingStream(gzip.compress(text.encode()))
    positions: list[int] = []
    sender = RecordingSender(on_send=lambda: positions.append(stream.position))
    opened = open_rows(io.BufferedReader(stream), "appmetrica_events/big.csv.gz")
    # When it is delivered
    tally = deliver(
        APPMETRICA_EVENTS,
        make_event_preparer(Settings(APPMETRICA_APPLICATION_ID="1111"), time.time()),
        sender,
        opened.rows,
        time.time() + 60,
        lambda *_: None,
    )
    # Then the first request went out when only part of the file had been read
    assert tally.delivered == 120_000
    assert positions[0] < stream.size * 0.95
    assert positions[-1] == stream.size


class CountingSender:
    max_rows, max_chars = 10_000, 10**9

    def __init__(self) -> None:
        self.rows = 0

    def send(self, batch: Batch, deadline: float) -> SendResult:
        self.rows += batch.rows
        return SendResult(Status.DELIVERED)


def peak_bytes(count: int) -> int:
    sender = CountingSender()
    tracemalloc.start()
    deliver(
        APPMETRICA_EVENTS,
        make_event_preparer(Settings(), time.time()),
        sender,
        as_rows(events(count)),
        time.time() + 60,
        lambda *_: None,
    )
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert sender.rows == count
    return peak


def test_memory_does_not_grow_with_the_number_of_rows() -> None:
    # Given the same flow over 40,000 and 160,000 rows, in requests of 10,000 rows
    small, large = peak_bytes(40_000), peak_bytes(160_000)
    # Then the peak is set by one request's batch, not by the whole input
    assert large < small * 1.3


class PoisonSender:
    """Refuses, as AppMetrica does, any whole batch that holds a poison record."""

    max_rows, max_chars = 100_000, 10**9

    def __init__(self, poison: set[int]) -> None:
        self.poison = poison
        self.requests: list[int] = []

    def send(self, batch: Batch, deadline: float) -> SendResult:
        self.requests.append(batch.rows)
        if self.poison & set(batch.indexes):
            return SendResult(Status.REJECTED, "AppMetrica answered 400: bad row", split=True)
        return SendResult(Status.DELIVERED)


def test_a_refused_batch_is_split_until_the_refused_record_is_found() -> None:
    # Given one poison record in a batch of 40
    sender = PoisonSender(poison={17})
    rejected: list[Any] = []
    # When the batch is delivered
    tally = deliver(
        APPMETRICA_EVENTS,
        make_event_preparer(Settings(), time.time()),
        sender,
        as_rows(events(40)),
        time.time() + 60,
        lambda index, record, errors: rejected.append((index, errors)),
    )
    # Then the 39 others are delivered and the poison one is rejected with the destination's reason
    assert rejected == [(17, ["destination: AppMetrica answered 400: bad row"])]
    assert (tally.read, tally.delivered, tally.rejected, tally.pending) == (40, 39, 1, 0)
    assert len(sender.requests) <= 2 * 6 + 1  # halving: about two requests per level


def test_invalid_records_are_rejected_and_the_rest_delivered() -> None:
    records = [*events(2), {"profile_id": "x"}, "not an object", *events(1)]
    rejected: list[Any] = []
    sender = RecordingSender()
    tally = run(records, sender, rejected)
    assert sender.batches == [[0, 1, 4]]
    assert [index for index, _ in rejected] == [2, 3]
    assert rejected[1][1] == ["record: must be a JSON object, not str"]
    assert (tally.read, tally.delivered, tally.rejected, tally.pending) == (5, 3, 2, 0)


def test_a_batch_to_retry_stops_the_flow_and_counts_pending() -> None:
    # Given a destination that is down for the second request
    sender = RecordingSender(script=[SendResult(Status.DELIVERED), SendResult(Status.RETRY, "503")])
    tally = deliver(
        APPMETRICA_EVENTS,
        make_event_preparer(Settings(), time.time()),
        sender,
        as_rows(list(events(250_000))),
        time.time() + 60,
        lambda *_: None,
    )
    # Then nothing more is sent, and every row read is accounted for (the third chunk was read while the second
    # was in flight: it stays pending with it)
    assert len(sender.batches) == 2
    assert tally.delivered == 10_000  # requests of 10,000, then 20,000 and 40,000 rows
    assert tally.pending == 20_000 + 40_000
    assert tally.read == tally.delivered + tally.rejected + tally.pending
    assert tally.retry_reason == "503"


def test_per_item_answers_settle_each_record_on_its_own() -> None:
    # Given a destination that answers a batch of four item by item
    items = (
        ItemResult(Status.DELIVERED, destination_id="p0"),
        ItemResult(Status.REJECTED, "Altcraft error 409: more than one profile matches"),
        ItemResult(Status.DELIVERED, destination_id="p2"),
        ItemResult(Status.RETRY, "Altcraft error 500: busy"),
    )
    sender = RecordingSender(script=[SendResult(Status.DELIVERED, items=items)])
    rejected: list[Any] = []
    ids: list[tuple[int, str]] = []
    delivery = Delivery(
        APPMETRICA_EVENTS,
        make_event_preparer(Settings(), time.time()),
        sender,
        time.time() + 60,
        lambda index, record, errors: rejected.append((index, errors)),
        lambda index, destination_id: ids.append((index, destination_id)),
    )
    # When four records go through
    delivery.feed(as_rows(list(events(4))))
    tally = delivery.finish()
    # Then each ended where its own answer says
    assert ids == [(0, "p0"), (2, "p2")]
    assert rejected == [(1, ["destination: Altcraft error 409: more than one profile matches"])]
    assert (tally.delivered, tally.rejected, tally.pending, tally.retry_reason) == (2, 1, 1, "Altcraft error 500: busy")
    assert delivery.pending_indexes == [3]
