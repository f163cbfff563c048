"""The next chunk's ledger entry read ahead (Delivery._read_entry_ahead), under faults: a read ahead that fails, is
slow, or goes stale (another invocation writes the entry in between) ends exactly as the direct read did before it,
every row is delivered once over an attempt and its retries (or left pending, or refused as possibly delivered),
and no "courier-ledger-read" thread outlives the delivery."""

from __future__ import annotations

import gc
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest

from courier.delivery.driver import LOST_ANSWER, Budget, Delivery
from courier.delivery.ledger import DONE, SENDING, Entry, LedgerUnavailableError, MemoryLedger
from courier.destinations.appmetrica.events import APPMETRICA_EVENTS, make_event_preparer
from courier.model import Batch, ItemResult, Mark, SendResult, SourceRow, Status
from courier.settings import Settings
from courier.sources.records import RecordsSource, as_rows
from tests.support import recent

UNIT = "sqs:m1"
ROWS = 4_000  # in chunks of 1,000 rows (the sender's requests hold 1,000): keys sqs:m1#-1, #999, #1999, #2999
CHUNK = 1_000
READER = "courier-ledger-read"
BATCH_KEY = "1111"  # the application id: the batch key of these events
DELIVERED = SendResult(Status.DELIVERED)
BUSY = SendResult(Status.RETRY, "503 busy")


def key(first_row: int) -> str:
    """The ledger key of the chunk whose first row is `first_row`."""
    return f"{UNIT}#{first_row - 1}"


def rows(count: int = ROWS) -> list[SourceRow]:
    ts = recent()
    records = [
        {"application_id": BATCH_KEY, "profile_id": f"user-{n}", "event_name": "open", "event_timestamp": ts}
        for n in range(count)
    ]
    return list(as_rows(records))


def ledger_threads() -> set[threading.Thread]:
    return {thread for thread in threading.enumerate() if thread.name.startswith(READER) and thread.is_alive()}


@dataclass
class Sender:
    """Answers by request number (default: delivered), or raises; keeps the rows each request delivered."""

    script: dict[int, SendResult | Exception] = field(default_factory=dict)
    max_rows: int = CHUNK
    max_chars: int = 10**9
    resend_is_harmless: bool = False
    poison: set[int] = field(default_factory=set)  # a request holding one of these is refused, to be split
    requests: list[list[int]] = field(default_factory=list)
    delivered: list[int] = field(default_factory=list)

    def may_resend(self, batch: Batch) -> bool:
        return self.resend_is_harmless

    def send(self, batch: Batch, deadline: float) -> SendResult:
        number = len(self.requests)
        self.requests.append(list(batch.indexes))
        step = self.script.get(number, DELIVERED)
        if isinstance(step, Exception):
            raise step
        if self.poison & set(batch.indexes):
            return SendResult(Status.REJECTED, "AppMetrica answered 400: bad row", split=True)
        if step.items is not None:
            self.delivered += [
                i for i, item in zip(batch.indexes, step.items, strict=True) if item.status is Status.DELIVERED
            ]
        elif step.status is Status.DELIVERED:
            self.delivered += list(batch.indexes)
        return step


class FaultyLedger(MemoryLedger):
    """A memory ledger whose reads (once per key) fail, pause, or let "another invocation" write just after them."""

    def __init__(self) -> None:
        super().__init__()
        self.read_faults: dict[str, Exception] = {}
        self.read_pauses: dict[str, float] = {}
        self.after_read: dict[str, Callable[[MemoryLedger], Any]] = {}
        self.begin_faults: dict[str, Exception] = {}
        self.reads: list[tuple[str, str]] = []

    def read(self, key: str) -> Entry | None:
        self.reads.append((key, threading.current_thread().name))
        time.sleep(self.read_pauses.pop(key, 0.0))
        fault = self.read_faults.pop(key, None)
        if fault is not None:
            raise fault
        found = super().read(key)
        other = self.after_read.pop(key, None)
        if other is not None:
            other(self)  # another invocation, between this read and this invocation's begin
        return found

    def begin(self, key: str, entry: Entry, replacing: Entry | None = None) -> Entry | None:
        fault = self.begin_faults.pop(key, None)
        if fault is not None:
            raise fault
        return super().begin(key, entry, replacing)

    def healed(self) -> FaultyLedger:
        """The same entries, nothing failing any more (the retry's ledger)."""
        self.read_faults.clear()
        self.read_pauses.clear()
        self.after_read.clear()
        self.begin_faults.clear()
        return self


class DirectDelivery(Delivery):
    """The delivery as it was before the read-ahead: every entry read directly, when its chunk is read."""

    def _read_entry_ahead(self, start: Mark) -> None:
        return None


class Breaking(RecordsSource):
    """Rows that break with OSError before row `at`."""

    def __init__(self, rows: list[SourceRow], at: int) -> None:
        super().__init__(rows)
        self.at = at

    def __iter__(self) -> Iterator[SourceRow]:
        for row in super().__iter__():
            if row[0] == self.at:
                raise OSError("connection reset")
            yield row


@dataclass
class Run:
    delivery: Delivery
    sender: Sender
    rejected: list[tuple[int, list[str]]]
    error: BaseException | None

    def outcome(self) -> tuple[Any, ...]:
        tally, delivery = self.delivery.tally, self.delivery
        return (
            self.sender.requests,
            sorted(self.sender.delivered),
            [index for index, _ in self.rejected],
            (tally.read, tally.delivered, tally.rejected, tally.duplicates_skipped, tally.pending, tally.retry_reason),
            sorted(delivery.pending_indexes),
            (delivery.must_retry, delivery.resume_at),
            repr(self.error),
        )


def deliver(
    ledger: MemoryLedger,
    sender: Sender | None = None,
    source: RecordsSource | None = None,
    budget: Budget | None = None,
    direct: bool = False,
) -> Run:
    """One delivery of the rows; what it raised is kept. No ledger-reading thread may outlive it."""
    before = ledger_threads()
    sender = sender or Sender()
    rejected: list[tuple[int, list[str]]] = []
    kind = DirectDelivery if direct else Delivery
    delivery = kind(
        APPMETRICA_EVENTS,
        make_event_preparer(Settings(), time.time()),
        sender,
        budget or Budget(deadline=time.time() + 60, hard_end=time.time() + 70),
        ledger,
        UNIT,
        lambda index, record, errors: rejected.append((index, errors)),
    )
    error: BaseException | None = None
    try:
        delivery.run(source if source is not None else RecordsSource(rows()))
    except Exception as raised:
        error = raised
    assert not ledger_threads() - before, "a ledger-reading thread outlived the delivery"
    return Run(delivery, sender, rejected, error)


def assert_each_row_once(*runs: Run, count: int = ROWS, delivered_elsewhere: set[int] | None = None) -> None:
    """Over all the runs, every row was delivered exactly once (by one of them or elsewhere)."""
    delivered = sorted([index for run in runs for index in run.sender.delivered] + sorted(delivered_elsewhere or ()))
    assert delivered == list(range(count)), (len(delivered), len(set(delivered)))


def finish(ledger: FaultyLedger) -> Run:
    """The message retried with the same ledger, nothing failing now: it must end the delivery."""
    again = deliver(ledger.healed())
    assert again.error is None
    assert again.delivery.tally.pending == 0
    assert not again.delivery.must_retry
    return again


# A read ahead that fails


@pytest.mark.parametrize("first_row", [CHUNK, 2 * CHUNK, 3 * CHUNK, ROWS], ids=["chunk 2", "chunk 3", "chunk 4", "end"])
def test_a_read_ahead_that_fails_ends_as_the_direct_read_did_and_the_retry_delivers_each_row_once(
    first_row: int,
) -> None:
    # Given a ledger whose read of one chunk's entry fails (the read made ahead), with and without the read-ahead
    def faulty() -> FaultyLedger:
        ledger = FaultyLedger()
        ledger.read_faults[key(first_row)] = LedgerUnavailableError("the ledger failed get_item 6 times: 500")
        return ledger

    ahead_ledger = faulty()
    # When the rows are delivered
    ahead = deliver(ahead_ledger)
    direct = deliver(faulty(), direct=True)
    # Then the outcome is the direct read's: the chunks before went out once, the rest waits for a retry, with the
    # ledger's reason, and nothing raised
    assert ahead.outcome() == direct.outcome()
    assert ahead.error is None
    assert ahead.delivery.must_retry
    assert "ledger failed get_item" in ahead.delivery.tally.retry_reason
    assert sorted(ahead.sender.delivered) == list(range(first_row))
    assert [name.startswith(READER) for k, name in ahead_ledger.reads if k == key(first_row)] == [True]
    # And the retry, with the same ledger, delivers each remaining row once
    assert_each_row_once(ahead, finish(ahead_ledger))


def test_a_read_ahead_that_raises_something_else_is_not_swallowed() -> None:
    # Given a ledger whose read of the third chunk's entry raises an unexpected error
    def faulty() -> FaultyLedger:
        ledger = FaultyLedger()
        ledger.read_faults[key(2 * CHUNK)] = RuntimeError("unexpected answer")
        return ledger

    # When the rows are delivered, with and without the read-ahead
    ahead, direct = deliver(faulty()), deliver(faulty(), direct=True)
    # Then the error comes through, after the chunk in flight was answered and counted: as the direct read did
    assert isinstance(ahead.error, RuntimeError)
    assert ahead.outcome() == direct.outcome()
    assert sorted(ahead.sender.delivered) == list(range(2 * CHUNK))
    assert ahead.delivery.tally.delivered == 2 * CHUNK


def test_a_refused_request_split_while_the_next_entry_is_read_ahead_delivers_the_rest_once() -> None:
    # Given a poison row in the second chunk: its request is refused and split (ledger writes for each half) while
    # the third chunk's entry is read ahead
    ledger = FaultyLedger()
    # When the rows are delivered, with and without the read-ahead
    ahead = deliver(ledger, Sender(poison={1_500}))
    direct = deliver(FaultyLedger(), Sender(poison={1_500}), direct=True)
    # Then the poison row alone is refused, every other row delivered once, as with the direct read
    assert ahead.outcome() == direct.outcome()
    assert [index for index, _ in ahead.rejected] == [1_500]
    assert_each_row_once(ahead, delivered_elsewhere={1_500})
    # And a retry sends nothing again, and refuses the poison row again
    again = deliver(ledger, Sender(poison={1_500}))
    assert again.sender.requests == []
    assert [index for index, _ in again.rejected] == [1_500]


# Stopped anywhere, then retried: each row once


def stop_by_answer(number: int, result: SendResult) -> Callable[[FaultyLedger], tuple[Sender, RecordsSource]]:
    return lambda _: (Sender(script={number: result}), RecordsSource(rows()))


def stop_by_ledger(setup: Callable[[FaultyLedger], None]) -> Callable[[FaultyLedger], tuple[Sender, RecordsSource]]:
    def stop(ledger: FaultyLedger) -> tuple[Sender, RecordsSource]:
        setup(ledger)
        return Sender(), RecordsSource(rows())

    return stop


HALF_RETRY = SendResult(
    Status.DELIVERED,
    items=tuple(ItemResult(Status.DELIVERED if n % 2 else Status.RETRY, "" if n % 2 else "busy") for n in range(CHUNK)),
)
STOPS: dict[str, Callable[[FaultyLedger], tuple[Sender, RecordsSource]]] = {
    "503 on request 1": stop_by_answer(0, BUSY),
    "503 on request 2": stop_by_answer(1, BUSY),
    "503 on the last request": stop_by_answer(3, BUSY),
    "half of request 2 to retry": stop_by_answer(1, HALF_RETRY),
    "read ahead of chunk 3 fails": stop_by_ledger(
        lambda ledger: ledger.read_faults.update({key(2 * CHUNK): LedgerUnavailableError("down")})
    ),
    "begin of chunk 2 fails": stop_by_ledger(
        lambda ledger: ledger.begin_faults.update({key(CHUNK): LedgerUnavailableError("down")})
    ),
    "begin of chunk 3 fails (its entry read ahead)": stop_by_ledger(
        lambda ledger: ledger.begin_faults.update({key(2 * CHUNK): LedgerUnavailableError("down")})
    ),
    "source breaks in chunk 3": lambda _: (Sender(), Breaking(rows(), 2 * CHUNK + 500)),
    "source breaks at a chunk's first row": lambda _: (Sender(), Breaking(rows(), 2 * CHUNK)),
}


@pytest.mark.parametrize("stop", list(STOPS), ids=list(STOPS))
def test_a_delivery_stopped_anywhere_and_retried_delivers_each_row_exactly_once(stop: str) -> None:
    # Given a first attempt stopped on the way (a 503, half a request to retry, the ledger or the source failing)
    ledger = FaultyLedger()
    sender, source = STOPS[stop](ledger)
    # When it runs, and the message is retried with the same ledger (twice: the second retry has nothing to do)
    first = deliver(ledger, sender, source)
    second = finish(ledger)
    third = finish(ledger)
    # Then over all attempts each row was delivered exactly once, and nothing went out in the third
    assert first.delivery.must_retry or first.error is not None
    assert_each_row_once(first, second, third)
    assert third.sender.requests == []
    assert third.delivery.tally.duplicates_skipped == ROWS


def test_the_first_attempt_stopped_anywhere_ends_as_with_the_direct_read() -> None:
    # Given each way of stopping a first attempt
    for stop, how in STOPS.items():
        outcomes = []
        for direct in (False, True):
            ledger = FaultyLedger()
            sender, source = how(ledger)
            # When it runs with and without the read-ahead
            outcomes.append(deliver(ledger, sender, source, direct=direct).outcome())
        # Then both end alike
        assert outcomes[0] == outcomes[1], stop


# A slow read ahead while the time runs out


@pytest.mark.parametrize("pause", [0.3, 0.8])
def test_a_slow_read_ahead_as_the_budget_runs_out_leaves_the_rest_for_the_next_part_none_lost(pause: float) -> None:
    # Given an invocation of about a second, whose read of the second chunk's entry takes a while
    ledger = FaultyLedger()
    ledger.read_pauses[key(CHUNK)] = pause
    all_rows = rows()
    runs, source = [], RecordsSource(all_rows)
    budget = Budget(deadline=time.time() + 1.0, hard_end=time.time() + 1.5)
    # When the rows are delivered, and each next part goes on where the one before stopped
    for _ in range(10):
        run = deliver(ledger, source=source, budget=budget)
        runs.append(run)
        assert run.error is None
        assert not run.delivery.must_retry
        if run.delivery.resume_at is None:
            break
        at = run.delivery.resume_at["index"]
        source = RecordsSource([row for row in all_rows if row[0] > at])
        budget = Budget(deadline=time.time() + 60, hard_end=time.time() + 70)
    # Then each row was delivered exactly once over the parts, and none is left pending
    assert_each_row_once(*runs)
    assert sum(run.delivery.tally.pending for run in runs) == 0


# Entries written by another invocation between the read ahead and begin


def all_sent(size: int) -> bytes:
    """The sent-map of a chunk of `size` rows, all of them in its request."""
    return b"\xff" * (size // 8) + (bytes([(1 << size % 8) - 1]) if size % 8 else b"")


def done_by_other(first_row: int, size: int = CHUNK) -> Callable[[MemoryLedger], Any]:
    entry = Entry(DONE, 0, first_row + size - 1, all_sent(size), {BATCH_KEY: DELIVERED.to_json()}, "other")
    return lambda ledger: ledger.finish(key(first_row), entry)


def sending_by_other(first_row: int, lease: float, size: int = CHUNK) -> Callable[[MemoryLedger], Any]:
    entry = Entry(SENDING, lease, first_row + size - 1, all_sent(size), attempt="other")
    return lambda ledger: ledger.begin(key(first_row), entry)


def test_a_chunk_another_invocation_delivered_after_its_entry_was_read_ahead_is_not_sent_again() -> None:
    # Given a third chunk whose entry is read ahead (none), then delivered and recorded by another invocation
    ledger = FaultyLedger()
    ledger.after_read[key(2 * CHUNK)] = done_by_other(2 * CHUNK)
    # When the rows are delivered
    run = deliver(ledger)
    # Then that chunk's rows are not sent: each row was delivered once, by this invocation or the other
    assert run.error is None
    assert not run.delivery.must_retry
    assert [key(2 * CHUNK), READER] == [ledger.reads[2][0], ledger.reads[2][1][: len(READER)]]
    assert_each_row_once(run, delivered_elsewhere=set(range(2 * CHUNK, 3 * CHUNK)))
    assert run.delivery.tally.duplicates_skipped == CHUNK


def test_a_chunk_another_invocation_began_after_its_entry_was_read_ahead_waits_then_is_not_sent_twice() -> None:
    # Given a fourth chunk whose entry is read ahead, then begun by another invocation that is still sending it
    ledger = FaultyLedger()
    ledger.after_read[key(3 * CHUNK)] = sending_by_other(3 * CHUNK, time.time() + 600)
    # When the rows are delivered, then the other invocation records its answer, then the message is retried
    first = deliver(ledger)
    assert first.delivery.must_retry
    assert first.delivery.tally.retry_reason == "another invocation is sending these rows now"
    done_by_other(3 * CHUNK)(ledger)
    second = finish(ledger)
    # Then each row went out once: three chunks by this invocation, the fourth by the other
    assert_each_row_once(first, second, delivered_elsewhere=set(range(3 * CHUNK, 4 * CHUNK)))


def test_a_chunk_a_dead_invocation_began_after_its_entry_was_read_ahead_is_refused_never_sent() -> None:
    # Given a second chunk whose entry is read ahead, then begun by an invocation that died at once (lease over)
    ledger = FaultyLedger()
    ledger.after_read[key(CHUNK)] = sending_by_other(CHUNK, time.time() - 1)
    # When the rows are delivered
    run = deliver(ledger)
    # Then its rows are refused as possibly delivered, none sent by this invocation, and the others delivered once
    assert run.error is None
    lost = {index for index, errors in run.rejected if LOST_ANSWER.split("(")[0] in errors[0]}
    assert lost == set(range(CHUNK, 2 * CHUNK))
    assert not set(run.sender.delivered) & lost
    assert_each_row_once(run, delivered_elsewhere=lost)


@pytest.mark.parametrize("size", [CHUNK // 2 + 3, CHUNK + CHUNK // 2], ids=["shorter", "longer"])
@pytest.mark.parametrize("state", ["delivered", "dead sending"])
def test_a_chunk_another_invocation_took_over_other_rows_after_its_entry_was_read_is_read_again(
    size: int, state: str
) -> None:
    # Given a third chunk whose entry is read ahead (none), then taken by another invocation over other rows: fewer or
    # more than this invocation reads into it (its requests held another number of rows), recorded or left sending
    ledger = FaultyLedger()
    other = done_by_other(2 * CHUNK, size) if state == "delivered" else sending_by_other(2 * CHUNK, 0.0, size)
    ledger.after_read[key(2 * CHUNK)] = other
    # When the rows are delivered, and the message retried
    first = deliver(ledger)
    second = finish(ledger)
    # Then the chunk's rows are not sent by the first attempt but left to retry, and the retry reads the chunk as the
    # other invocation fixed it: its rows are left to it (delivered, or refused as possibly delivered), none lost
    assert first.error is None
    assert first.delivery.must_retry
    taken = set(range(2 * CHUNK, 2 * CHUNK + size))
    assert not set(first.sender.delivered) & (taken | set(range(2 * CHUNK, 3 * CHUNK)))
    assert_each_row_once(first, second, delivered_elsewhere=taken)
    refused = {index for index, _ in second.rejected}
    assert refused == (set() if state == "delivered" else taken)
    assert second.delivery.tally.duplicates_skipped == 2 * CHUNK + (size if state == "delivered" else 0)


# An earlier attempt's entries: chunk 1 done, chunk 2 left sending by a dead invocation


@pytest.mark.parametrize("harmless", [False, True], ids=["refused as possibly sent", "resent where harmless"])
@pytest.mark.parametrize("end", [2 * CHUNK - 1, CHUNK + 499], ids=["aligned", "a shorter chunk 2"])
def test_a_retry_over_a_done_chunk_and_a_dead_sending_one_delivers_each_row_once(harmless: bool, end: int) -> None:
    # Given an earlier attempt that delivered chunk 1 and died sending chunk 2 (its extent fixed in the entry)
    def earlier() -> FaultyLedger:
        ledger = FaultyLedger()
        ledger.finish(key(0), Entry(DONE, 0, CHUNK - 1, b"\xff" * (CHUNK // 8), {BATCH_KEY: DELIVERED.to_json()}, "a"))
        size = end - CHUNK + 1
        ledger.begin(key(CHUNK), Entry(SENDING, time.time() - 1, end, all_sent(size), attempt="a"))
        return ledger

    ledger = earlier()
    # When the message is delivered again (with and without the read-ahead)
    run = deliver(ledger, Sender(resend_is_harmless=harmless))
    direct = deliver(earlier(), Sender(resend_is_harmless=harmless), direct=True)
    # Then chunk 1 is skipped, chunk 2 refused as possibly delivered (or resent where harmless), the rest sent once
    assert run.outcome() == direct.outcome()
    assert run.error is None
    assert not run.delivery.must_retry
    chunk_2 = set(range(CHUNK, end + 1))
    refused = {index for index, _ in run.rejected}
    assert refused == (set() if harmless else chunk_2)
    assert_each_row_once(run, delivered_elsewhere=set(range(CHUNK)) | (set() if harmless else chunk_2))
    assert run.delivery.tally.duplicates_skipped == CHUNK
    # And the chunk after the shorter one is read at its own key, ahead
    assert (key(end + 1), True) in {(k, name.startswith(READER)) for k, name in ledger.reads}
    # And a third attempt sends nothing more
    third = deliver(ledger, Sender(resend_is_harmless=harmless))
    assert third.sender.requests == []


# No reading thread left, whatever ends the delivery


@pytest.mark.parametrize("number", [1, 3], ids=["request 2 raises", "the last request raises"])
def test_a_sender_that_raises_leaves_no_ledger_reading_thread(number: int) -> None:
    # Given a sender that raises (a missing key, say) on one request, the next chunk's entry read ahead meanwhile
    before = ledger_threads()
    ledger = FaultyLedger()
    sender = Sender(script={number: KeyError("no API key")})
    delivery = Delivery(
        APPMETRICA_EVENTS,
        make_event_preparer(Settings(), time.time()),
        sender,
        Budget(deadline=time.time() + 60, hard_end=time.time() + 70),
        ledger,
        UNIT,
        lambda *_: None,
    )
    # When it is delivered
    with pytest.raises(KeyError, match="no API key"):
        delivery.run(RecordsSource(rows()))
    # Then the error came through, the rows before were delivered once, and no reading thread is left running
    try:
        assert sorted(sender.delivered) == list(range(number * CHUNK))
        left = ledger_threads() - before
        assert not left, f"left running after the delivery: {sorted(t.name for t in threading.enumerate())}"
    finally:  # (the next tests start without it)
        del delivery
        gc.collect()
