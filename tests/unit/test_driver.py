"""The one delivery driver: rows → prepare → chunks → ledger → sender → outcomes, with scripted senders in place of
HTTP and the in-memory ledger (the DynamoDB one is the same protocol, tested through the doors)."""

from __future__ import annotations

import threading
import time
import tracemalloc
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest

from courier.delivery.driver import LOST_ANSWER, Budget, Delivery
from courier.delivery.ledger import DONE, SENDING, Entry, LedgerUnavailableError, MemoryLedger
from courier.delivery.tally import Tally
from courier.destinations.appmetrica.events import APPMETRICA_EVENTS, make_event_preparer
from courier.model import Batch, ItemResult, SendResult, Status
from courier.settings import Settings
from courier.sources.records import RecordsSource, as_rows
from tests.support import recent


@dataclass
class ScriptedSender:
    """Answers from a script (default: delivered) and remembers what each batch held."""

    script: list[SendResult] = field(default_factory=list)
    batches: list[list[int]] = field(default_factory=list)
    max_rows: int = 100_000
    max_chars: int = 10**9
    resend_is_harmless: bool = False
    poison: set[int] = field(default_factory=set)

    def may_resend(self, batch: Batch) -> bool:
        return self.resend_is_harmless

    def send(self, batch: Batch, deadline: float) -> SendResult:
        self.batches.append(list(batch.indexes))
        if self.poison & set(batch.indexes):
            return SendResult(Status.REJECTED, "AppMetrica answered 400: bad row", split=True)
        return self.script.pop(0) if self.script else SendResult(Status.DELIVERED)

    @property
    def rows_sent(self) -> list[int]:
        return [index for batch in self.batches for index in batch]


def events(count: int, start: int = 0) -> Iterator[dict[str, Any]]:
    ts = recent()
    for n in range(start, start + count):
        yield {"application_id": "1111", "profile_id": f"user-{n}", "event_name": "open", "event_timestamp": ts}


@dataclass
class Run:
    tally: Tally
    delivery: Delivery
    rejected: list[tuple[int, list[str]]]
    delivered: list[int]


def deliver(
    records: Any,
    sender: ScriptedSender,
    ledger: MemoryLedger | None = None,
    budget: Budget | None = None,
    unit: str = "sqs:m1",
    source: RecordsSource | None = None,
) -> Run:
    """The whole flow over some records, as the SQS door runs it."""
    rejected: list[tuple[int, list[str]]] = []
    ids: list[int] = []
    delivery = Delivery(
        APPMETRICA_EVENTS,
        make_event_preparer(Settings(), time.time()),
        sender,
        budget or Budget(deadline=time.time() + 60, hard_end=time.time() + 70),
        ledger if ledger is not None else MemoryLedger(),
        unit,
        lambda index, record, errors: rejected.append((index, errors)),
        lambda index, destination_id: ids.append(index) if destination_id else None,
    )
    tally = delivery.run(source or RecordsSource(list(as_rows(records))))
    return Run(tally, delivery, rejected, ids)


def test_requests_grow_from_10000_rows_to_at_most_50000() -> None:
    # Given 200,000 events, and a destination that takes 50,000 rows a request
    sender = ScriptedSender(max_rows=50_000)
    # When they are delivered
    tally = deliver(events(200_000), sender).tally
    # Then the first request leaves early and the sizes double up to the cap
    assert [len(batch) for batch in sender.batches] == [10_000, 20_000, 40_000, 50_000, 50_000, 30_000]
    assert (tally.read, tally.delivered, tally.rejected, tally.pending, tally.requests) == (200_000, 200_000, 0, 0, 6)


class LazySource(RecordsSource):
    """Rows made as they are read, as a file gives them."""

    def __init__(self, rows: Iterator[tuple[int, Any, str]]) -> None:
        super().__init__([])
        self._lazy = rows
        self._last = -1

    def __iter__(self) -> Iterator[tuple[int, Any, str]]:
        for row in self._lazy:
            self._last = row[0]
            yield row

    def mark(self) -> dict[str, int]:
        return {"index": self._last, "offset": -1}


@dataclass
class CountingSender(ScriptedSender):
    """Keeps only a count, so that the measured memory is the driver's."""

    rows: int = 0

    def send(self, batch: Batch, deadline: float) -> SendResult:
        self.rows += batch.rows
        return SendResult(Status.DELIVERED)


def peak_bytes(count: int) -> int:
    sender = CountingSender(max_rows=10_000)
    # an hour's budget: under tracemalloc and coverage a busy machine takes longer than the usual minute, and this
    # test measures memory, not when the driver stops to continue in the next invocation
    budget = Budget(deadline=time.time() + 3600, hard_end=time.time() + 3610)
    tracemalloc.start()
    run = deliver(None, sender, budget=budget, source=LazySource(as_rows(events(count))))
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert sender.rows == run.tally.delivered == count
    return peak


def test_memory_does_not_grow_with_the_number_of_rows() -> None:
    # Given the same flow over 40,000 and 160,000 rows (generated lazily), in requests of 10,000 rows
    small, large = peak_bytes(40_000), peak_bytes(160_000)
    # Then the peak is set by a chunk, not by the whole input
    assert large < small * 1.3


def test_a_refused_batch_is_split_until_the_refused_record_is_found() -> None:
    # Given one poison record in a batch of 40
    sender = ScriptedSender(poison={17})
    # When the batch is delivered
    run = deliver(events(40), sender)
    # Then the 39 others are delivered and the poison one is rejected with the destination's reason
    assert run.rejected == [(17, ["destination: AppMetrica answered 400: bad row"])]
    assert (run.tally.read, run.tally.delivered, run.tally.rejected, run.tally.pending) == (40, 39, 1, 0)
    assert len(sender.batches) <= 2 * 6 + 1  # halving: about two requests per level


def test_invalid_records_are_rejected_and_the_rest_delivered() -> None:
    # Given two good events, one without its fields, one not an object, one more good event
    records = [*events(2), {"profile_id": "x"}, "not an object", *events(1)]
    sender = ScriptedSender()
    # When they are delivered
    run = deliver(records, sender)
    # Then the good ones share one request, and the others are rejected with their reasons
    assert sender.batches == [[0, 1, 4]]
    assert [index for index, _ in run.rejected] == [2, 3]
    assert run.rejected[1][1] == ["record: must be a JSON object, not str"]
    assert (run.tally.read, run.tally.delivered, run.tally.rejected, run.tally.pending) == (5, 3, 2, 0)


def test_a_chunk_to_retry_stops_the_flow_and_counts_pending() -> None:
    # Given a destination that is down for the second request
    sender = ScriptedSender(script=[SendResult(Status.DELIVERED), SendResult(Status.RETRY, "503")])
    # When 250,000 events are delivered
    tally = deliver(list(events(250_000)), sender).tally
    # Then nothing more is sent, and every row read is accounted for (the third chunk was read while the second
    # was in flight: it stays pending with it)
    assert len(sender.batches) == 2
    assert tally.delivered == 10_000
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
    sender = ScriptedSender(script=[SendResult(Status.DELIVERED, items=items)])
    # When four records go through
    run = deliver(list(events(4)), sender)
    # Then each ended where its own answer says
    assert run.delivered == [0, 2]
    assert run.rejected == [(1, ["destination: Altcraft error 409: more than one profile matches"])]
    assert (run.tally.delivered, run.tally.rejected, run.tally.pending) == (2, 1, 1)
    assert run.tally.retry_reason == "Altcraft error 500: busy"
    assert run.delivery.pending_indexes == [3]


def test_a_second_attempt_sends_only_what_the_first_did_not() -> None:
    # Given a first attempt whose second chunk the destination could not take (503)
    ledger = MemoryLedger()
    records = list(events(30_000))
    first = deliver(
        records, ScriptedSender(script=[SendResult(Status.DELIVERED), SendResult(Status.RETRY, "503")]), ledger
    )
    assert first.tally.delivered == 10_000
    # When the same message is delivered again with the same ledger
    sender = ScriptedSender()
    second = deliver(records, sender, ledger)
    # Then the first chunk is skipped and only the rest goes out
    assert sorted(sender.rows_sent) == list(range(10_000, 30_000))
    assert (second.tally.duplicates_skipped, second.tally.delivered, second.tally.pending) == (10_000, 20_000, 0)


def test_a_chunk_left_sending_by_a_dead_attempt_is_rejected_as_possibly_delivered_never_resent() -> None:
    # Given a ledger whose first chunk was marked sending by an invocation that is over (killed after sending)
    ledger = MemoryLedger()
    sent = bytes([0xFF]) * (10_000 // 8)
    ledger.begin("sqs:m1#-1", Entry(SENDING, lease=time.time() - 1, end=9_999, sent=sent, attempt="dead"))
    sender = ScriptedSender()
    # When the message is delivered again
    run = deliver(list(events(12_000)), sender, ledger)
    # Then the rows of that chunk are rejected with the lost-answer reason, and only the others are sent
    assert sorted(sender.rows_sent) == list(range(10_000, 12_000))
    assert len(run.rejected) == 10_000
    reason = LOST_ANSWER.format(detail="killed, timed out or not recorded")
    assert {tuple(errors) for _, errors in run.rejected} == {(f"destination: {reason}",)}
    # And the chunk is now recorded as done, so a third attempt rejects the same rows again without sending
    entry = ledger.read("sqs:m1#-1")
    assert entry is not None
    assert entry.state == DONE
    third = ScriptedSender()
    again = deliver(list(events(12_000)), third, ledger)
    assert third.batches == []
    assert (again.tally.rejected, again.tally.duplicates_skipped) == (10_000, 2_000)


def test_a_possibly_sent_chunk_is_sent_again_where_a_resend_is_harmless() -> None:
    # Given the same dead attempt, for a destination where sending twice changes nothing (plain Altcraft values)
    ledger = MemoryLedger()
    sent = bytes([0xFF]) * 2
    ledger.begin("sqs:m1#-1", Entry(SENDING, lease=time.time() - 1, end=15, sent=sent, attempt="dead"))
    sender = ScriptedSender(resend_is_harmless=True)
    # When the message is delivered again
    run = deliver(list(events(16)), sender, ledger)
    # Then the chunk is sent again, whole
    assert sender.batches == [list(range(16))]
    assert (run.tally.delivered, run.tally.rejected) == (16, 0)


def test_a_chunk_another_invocation_is_sending_now_is_left_for_later() -> None:
    # Given a chunk marked sending by an invocation that is still running
    ledger = MemoryLedger()
    ledger.begin("sqs:m1#-1", Entry(SENDING, lease=time.time() + 600, end=9, sent=bytes([0xFF, 0x03]), attempt="x"))
    sender = ScriptedSender()
    # When the message is delivered by a second invocation
    run = deliver(list(events(10)), sender, ledger)
    # Then nothing is sent and the rows wait
    assert sender.batches == []
    assert (run.tally.pending, run.tally.retry_reason) == (10, "another invocation is sending these rows now")


def test_a_chunk_keeps_its_extent_and_rows_when_the_clock_moved() -> None:
    # Given a first attempt that sent rows 0..9 of 12 (the chunk ended at row 9) and was refused 503... no: delivered
    ledger = MemoryLedger()
    sent = bytes([0xFF, 0x03])
    results = {"1111": SendResult(Status.DELIVERED).to_json()}
    ledger.finish("sqs:m1#-1", Entry(DONE, 0, 9, sent, results, "first"))
    sender = ScriptedSender()
    # When the message comes back with its rows
    run = deliver(list(events(12)), sender, ledger)
    # Then the recorded chunk is skipped exactly, and the next chunk starts after it
    assert sender.batches == [[10, 11]]
    assert (run.tally.duplicates_skipped, run.tally.delivered) == (10, 2)


class RacedLedger(MemoryLedger):
    """Remembers which thread read each key; once `raced` is read (found empty), another invocation begins it."""

    def __init__(self, raced: str) -> None:
        super().__init__()
        self.raced = raced
        self.reads: list[tuple[str, str]] = []

    def read(self, key: str) -> Entry | None:
        found = super().read(key)
        self.reads.append((key, threading.current_thread().name))
        if key == self.raced:
            super().begin(key, Entry(SENDING, lease=time.time() + 600, end=19_999, attempt="other"))
        return found


def test_the_next_chunks_entry_is_read_once_ahead_while_this_chunk_is_sent() -> None:
    # Given 30,000 events and a destination that takes 10,000 rows a request
    ledger = RacedLedger(raced="")
    sender = ScriptedSender(max_rows=10_000)
    # When they are delivered
    run = deliver(events(30_000), sender, ledger)
    # Then each chunk's entry was read once, the first in line and every later one ahead, on the reading thread
    assert [key for key, _ in ledger.reads] == ["sqs:m1#-1", "sqs:m1#9999", "sqs:m1#19999", "sqs:m1#29999"]
    assert [name.startswith("courier-ledger-read") for _, name in ledger.reads] == [False, True, True, True]
    assert (run.tally.delivered, len(sender.batches)) == (30_000, 3)


def test_a_chunk_begun_by_another_invocation_after_its_entry_was_read_ahead_is_not_sent() -> None:
    # Given a second chunk whose entry is read ahead (none), then begun by another invocation before this one sends it
    ledger = RacedLedger(raced="sqs:m1#9999")
    sender = ScriptedSender(max_rows=10_000)
    # When the events are delivered
    run = deliver(events(30_000), sender, ledger)
    # Then only the first chunk went out: the second is the other invocation's, and its rows wait
    assert sender.batches == [list(range(10_000))]
    assert (run.tally.delivered, run.tally.retry_reason) == (10_000, "another invocation is sending these rows now")
    assert run.tally.pending >= 10_000


class FailingLedger(MemoryLedger):
    def begin(self, key: str, entry: Entry, replacing: Entry | None = None) -> Entry | None:
        raise LedgerUnavailableError("the ledger failed put_item 6 times: InternalServerError")


def test_nothing_is_sent_when_the_ledger_cannot_mark_it() -> None:
    # Given a ledger that cannot be written
    sender = ScriptedSender()
    # When records are delivered
    run = deliver(list(events(5)), sender, FailingLedger())
    # Then nothing went out and the records wait, with the reason
    assert sender.batches == []
    assert run.tally.pending == 5
    assert "ledger" in run.tally.retry_reason


def test_no_chunk_starts_without_time_for_it() -> None:
    # Given an invocation already at its deadline
    sender = ScriptedSender()
    budget = Budget(deadline=time.time() + 0.5, hard_end=time.time() + 5)
    # When records are delivered
    run = deliver(list(events(5)), sender, budget=budget)
    # Then nothing is read or sent, and the driver says where to go on
    assert sender.batches == []
    assert run.tally.read == 0
    assert run.delivery.resume_at == {"index": -1, "offset": -1}


@dataclass
class SlowSender(ScriptedSender):
    """Takes `seconds` for each request; notes the time each one had left and how long the slowest before it took."""

    seconds: float = 0.6
    starts: list[tuple[float, float]] = field(default_factory=list)  # (time left, slowest request before it)

    def send(self, batch: Batch, deadline: float) -> SendResult:
        self.starts.append((deadline - time.time(), self.seconds if self.starts else 0.0))
        time.sleep(self.seconds)
        return super().send(batch, deadline)


def test_no_request_starts_with_less_than_twice_the_slowest_left_even_after_waiting_for_the_one_in_flight() -> None:
    # Given requests of 0.6 s, and an invocation of 2.3 s: reading is far quicker than sending, so each chunk waits
    # for the request in flight before its own can start
    sender = SlowSender()
    records = list(events(70_000))  # made before the clock starts: on a busy machine this alone took a second
    budget = Budget(deadline=time.time() + 2.3, hard_end=time.time() + 4)
    # When 70,000 records are delivered (chunks of 10,000, 20,000, 40,000)
    run = deliver(records, sender, budget=budget)
    # Then every request started with at least twice the slowest before it left (half a second for the first); the
    # third chunk, ready after the second request's 0.6 s with about 1 s left, was not sent
    assert all(left >= max(0.5, 2 * slowest) for left, slowest in sender.starts)
    sent = len(sender.rows_sent)
    assert 10_000 <= sent <= 30_000
    # And the next part goes on at the first record not sent: the rest of the file waits, none of it lost
    assert run.tally.delivered == sent
    assert run.tally.rejected == 0
    assert run.delivery.resume_at is not None
    assert run.delivery.resume_at["index"] == sent - 1


@pytest.mark.parametrize("failure_after", [1, 3])
def test_rows_read_before_a_source_fails_are_still_delivered(failure_after: int) -> None:
    # Given a source that breaks after some rows
    class Breaking(RecordsSource):
        def __iter__(self) -> Iterator[Any]:
            for n, row in enumerate(super().__iter__()):
                if n == failure_after:
                    raise OSError("reset")
                yield row

    sender = ScriptedSender()
    delivery = Delivery(
        APPMETRICA_EVENTS,
        make_event_preparer(Settings(), time.time()),
        sender,
        Budget(time.time() + 60, time.time() + 70),
        MemoryLedger(),
        "sqs:m1",
        lambda *_: None,
    )
    # When it is delivered
    with pytest.raises(OSError, match="reset"):
        delivery.run(Breaking(list(as_rows(events(5)))))
    # Then what was read went out before the failure came through
    assert sender.rows_sent == list(range(failure_after))
    assert delivery.tally.delivered == failure_after
