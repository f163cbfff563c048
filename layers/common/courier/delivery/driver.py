"""The one driver of a delivery, used by every door and the command line: rows in; requests, outcomes, rejected
rows, ledger entries and counts out.

A chunk is a run of consecutive source rows, known by the mark it starts at (`<unit>#<index of the row before>`).
The ledger fixes its extent and which of its rows were sent the first time it is marked *sending*, so every later
attempt rebuilds exactly that request, whatever the clock or the reading position says. One chunk is in flight
while the next is read; its answer is counted on the reading thread before the next request leaves. No request
starts, and none is waited for, past the budget's deadline, and `run` never returns with a request in flight."""

from __future__ import annotations

import time
import uuid
import zlib
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, cast

from courier.delivery.batching import Batcher
from courier.delivery.ledger import DONE, SENDING, Entry, Ledger, LedgerUnavailableError
from courier.delivery.tally import Tally
from courier.http.retrying import MIN_REQUEST_SECONDS, SAID, SaidItem, said_of
from courier.model import (
    Batch,
    CsvRun,
    Destination,
    ItemResult,
    Mark,
    RowPreparer,
    RunPreparer,
    RunSource,
    Sender,
    SendResult,
    Source,
    SourceRow,
    Status,
)
from courier.observability import logger

OnReject = Callable[[int, Any, list[str]], None]
OnDelivered = Callable[[int, str], None]  # (index, the destination's id for the record, when it gives one)
OnSkipped = Callable[[int], None]  # (index): a mapping's filter left the record out
OnChunkDone = Callable[[int, int], None]  # (first index, last index): every row between was answered or refused
FIRST_CHUNK_ROWS = 10_000  # chunks grow from this, doubling, to the destination's cap: sending starts early
MAX_CHUNK_ROWS = 100_000  # source rows a chunk spans at most (rejected rows included)
LOST_ANSWER = (
    "possibly delivered: an attempt sent these rows and ended without a clear answer ({detail}); they are not sent "
    "again, so nothing arrives twice: check the destination before sending them once more"
)
TAKEN = SendResult(Status.RETRY, "another invocation took these rows since they were read, over other rows", requests=0)
CHANGED = "row: accepted when its chunk was first sent but not part of that request; send it again"


@dataclass
class Budget:
    """The invocation's time: `deadline` (epoch seconds) for sending, `hard_end` when the platform stops it."""

    deadline: float
    hard_end: float
    slowest_request: float = 0.0  # the longest request so far in this invocation

    def reserve(self) -> float:
        """The time kept for a chunk's request: reading stops this long before the deadline, and no chunk's request
        starts with less left."""
        return max(MIN_REQUEST_SECONDS, 2 * self.slowest_request)

    def room_for_a_chunk(self) -> bool:
        return time.time() + self.reserve() < self.deadline

    def ledger_end(self) -> float:
        """No ledger back-off runs past this: halfway from the sending deadline to the platform's end, which leaves
        the rest to answer (a ledger that keeps failing gives up and the records come back)."""
        return (self.deadline + self.hard_end) / 2


@dataclass
class _Chunk:
    key: str
    start: Mark
    entry: Entry | None
    read: int = 0
    last: int = 0
    skipped: int = 0  # rows an earlier attempt delivered
    filtered: list[int] = field(default_factory=list)  # rows a mapping's filter left out
    sent: bytearray = field(default_factory=bytearray)
    rejections: list[tuple[int, Any, list[str]]] = field(default_factory=list)
    batches: list[Batch] = field(default_factory=list)


Answers = list[tuple[Batch, SendResult, bool]]  # (batch, its outcome, True when recorded by an earlier attempt)


class Delivery:
    """Feeds a source's rows to a destination and counts where each one ended; stops reading once a chunk must be
    retried, or when the budget has no room for another chunk (`resume_at` then says where to go on)."""

    def __init__(
        self,
        destination: Destination,
        prepare: RowPreparer,
        sender: Sender,
        budget: Budget,
        ledger: Ledger,
        unit: str,
        on_reject: OnReject,
        on_delivered: OnDelivered | None = None,
        on_chunk_done: OnChunkDone | None = None,
        on_skipped: OnSkipped | None = None,
        knows: Callable[[str], bool] | None = None,
    ) -> None:
        self.destination = destination
        self.tally = Tally()
        self._prepare = prepare
        self._prepare_run = prepare.run if isinstance(prepare, RunPreparer) else None  # CSV runs forwarded whole
        self._sender = sender
        self._budget = budget
        self._ledger = ledger
        self._unit = unit
        self._on_reject = on_reject
        self._on_delivered = on_delivered
        self._on_chunk_done = on_chunk_done
        self._on_skipped = on_skipped
        self._knows = knows or destination.knows  # a source field used (a mapping's own say when there is one)
        self._attempt = uuid.uuid4().hex
        self._seen: set[str] = set()
        self._rows_cap = FIRST_CHUNK_ROWS  # source rows; a batch that fills first closes the chunk too
        self._source: Source | None = None
        self._pool: ThreadPoolExecutor | None = None
        self._in_flight: tuple[_Chunk, Future[Answers]] | None = None
        self._reader: ThreadPoolExecutor | None = None
        self._reading: tuple[str, Future[Entry | None]] | None = None  # the next chunk's ledger entry, being read
        self.pending_indexes: list[int] = []  # rows left to retry
        self.resume_at: Mark | None = None  # set when time ran out before the source did
        self._halted = False  # some rows must be retried (or the ledger could not be read): reading stops

    @property
    def stopped(self) -> bool:
        """Reading has stopped before the end: rows to retry, or no time left."""
        return self._halted

    @property
    def must_retry(self) -> bool:
        """Some rows read must be retried (or the ledger could not be read): the message must come back."""
        return self._halted and self.resume_at is None

    def run(self, source: Source, check_fields: bool = False) -> Tally:
        """Delivers the source from where it stands; exceptions of the source pass through, after the chunk in
        flight was answered and counted."""
        self._source = source
        if source.columns is not None:
            self._note_fields(source.columns)
        takes_runs = self._prepare_run is not None and not check_fields and isinstance(source, RunSource)
        rows: Iterator[SourceRow | CsvRun] = source.runs() if takes_runs else iter(source)  # type: ignore[attr-defined]
        try:
            while not self.stopped:
                if not self._budget.room_for_a_chunk():
                    self._settle_in_flight()
                    if not self.stopped:
                        self.resume_at = source.mark()
                    break
                chunk, failure = self._read_chunk(rows, source.mark(), check_fields)
                if chunk is not None:
                    if failure is None:
                        self._read_entry_ahead(source.mark())  # while this chunk waits for the one in flight
                    self._dispatch(chunk)  # what was read before a source failed is still delivered
                if failure is not None:
                    raise failure
                if chunk is None:
                    break
        finally:
            try:
                self._settle_in_flight()
            finally:  # the threads end even when the answer in flight raised (a missing key)
                for pool in (self._pool, self._reader):
                    if pool is not None:
                        pool.shutdown()
                self._pool = self._reader = self._reading = None
        return self.tally

    def leave_pending(self, indexes: list[int], reason: str) -> None:
        self.tally.read += len(indexes)
        self._leave_pending(indexes, reason)

    def reject(self, index: int, record: Any, errors: list[str], said: str = "") -> None:
        """Counts a refused row (the report holds `errors`) and hands it to the door for the rejected file, where
        what the destination said (scrubbed) follows the reasons, as the last error starting with SAID."""
        self.tally.reject(index, errors)
        self._on_reject(index, record, [*errors, SAID + said] if said else errors)

    # Reading

    def _note_fields(self, names: Any) -> None:
        new = set(names) - self._seen  # each name is classified once per unit
        if new:
            self._seen |= new
            self.tally.ignored |= {name for name in new if not self._knows(name)}

    def _read_chunk(
        self, rows: Iterator[SourceRow | CsvRun], start: Mark, check_fields: bool
    ) -> tuple[_Chunk | None, Exception | None]:
        key = f"{self._unit}#{start['index']}"
        try:
            entry = self._entry(key)
        except LedgerUnavailableError as error:
            self._leave_pending([], str(error))
            return None, None
        chunk = _Chunk(key, start, entry)
        try:
            self._fill(chunk, rows, check_fields)
        except Exception as error:
            failure: Exception | None = error
        else:
            failure = None
        if not chunk.read:
            return None, failure
        if entry is None:
            self._rows_cap = min(self._rows_cap * 2, max(self._sender.max_rows, FIRST_CHUNK_ROWS), MAX_CHUNK_ROWS)
        return chunk, failure

    def _read_entry_ahead(self, start: Mark) -> None:
        """Starts reading the ledger entry of the chunk that starts at `start` on a thread of its own. Read early is
        read alike: a chunk new to the ledger is still begun only if no entry was written since (ledger.begin)."""
        if self._reader is None:
            self._reader = ThreadPoolExecutor(max_workers=1, thread_name_prefix="courier-ledger-read")
        key = f"{self._unit}#{start['index']}"
        self._reading = (key, self._reader.submit(self._ledger.read, key))

    def _entry(self, key: str) -> Entry | None:
        reading, self._reading = self._reading, None
        if reading is not None and reading[0] == key:
            return reading[1].result()
        return self._ledger.read(key)

    def _fill(self, chunk: _Chunk, rows: Iterator[SourceRow | CsvRun], check_fields: bool) -> None:
        batcher = Batcher(
            self.destination.batch_key, self.destination.new_batch, self._sender.max_rows, self._sender.max_chars
        )
        try:
            self._fill_rows(chunk, rows, check_fields, batcher)
        finally:
            chunk.batches = list(batcher.open.values())

    def _fill_rows(
        self, chunk: _Chunk, rows: Iterator[SourceRow | CsvRun], check_fields: bool, batcher: Batcher
    ) -> None:
        entry, first = chunk.entry, chunk.start["index"] + 1
        last_wanted = entry.end if entry is not None else first + self._rows_cap - 1
        skip_sent = entry is not None and _all_delivered(entry)
        sent = chunk.sent
        for row in rows:
            if type(row) is CsvRun:  # taken whole or in part, or not at all: then its rows come one by one
                if entry is None and self._forward_run(chunk, row, last_wanted, batcher):
                    break
                continue
            index, record, error = cast(SourceRow, row)
            chunk.read += 1
            chunk.last = index
            position = index - first
            if len(sent) <= position >> 3:
                sent.extend(bytes((position >> 3) + 1 - len(sent)))
            if skip_sent and entry is not None and entry.was_sent(position):
                chunk.skipped += 1
            elif error:
                chunk.rejections.append((index, record, [error]))
            elif self._take(chunk, index, record, position, check_fields, batcher) and entry is None:
                break  # a request is full: the chunk ends with it
            if index >= last_wanted:
                break
            if not index & 1023 and entry is None and not self._budget.room_for_a_chunk():
                break  # the chunk ends here, so that its request still has its time

    def _forward_run(self, chunk: _Chunk, run: CsvRun, last_wanted: int, batcher: Batcher) -> bool:
        """A run of rows forwarded into a new chunk as far as it goes, or none of it; True when the chunk ends."""
        assert self._prepare_run is not None
        lines = self._prepare_run(run, min(len(run), last_wanted - run.first + 1))
        if lines is None:
            return False
        added, full = batcher.add_lines(lines, run.first)
        if not added:
            return False
        run.take(added)
        chunk.read += added
        chunk.last = run.first + added - 1
        _mark_sent(chunk.sent, run.first - chunk.start["index"] - 1, added)
        return full or chunk.last >= last_wanted or not self._budget.room_for_a_chunk()

    def _take(
        self, chunk: _Chunk, index: int, record: Any, position: int, check_fields: bool, batcher: Batcher
    ) -> bool:
        """Prepares one row into the chunk (a batch, its rejections or its filtered rows); True when a batch is full."""
        if check_fields:
            self._note_fields(record)
        fields, errors = self._prepare(record)
        entry = chunk.entry
        if fields is None:
            if errors:
                chunk.rejections.append((index, record, errors))
            else:
                chunk.filtered.append(index)
            return False
        if entry is not None and not entry.was_sent(position):
            chunk.rejections.append((index, record, [CHANGED]))
            return False
        if errors:
            self.tally.drop_values(errors)
        chunk.sent[position >> 3] |= 1 << (position & 7)
        return batcher.add(fields, index, record)

    # Sending

    def _dispatch(self, chunk: _Chunk) -> None:
        """Counts what the chunk settles without sending, then sends the rest while the next chunk is read."""
        self._settle_in_flight()
        if chunk.batches and not self.stopped and not self._budget.room_for_a_chunk():
            # reading, or waiting for the request in flight, took the time the request needs: this chunk is the
            # first of the next part (a request started short of it could time out, its rows then lost answers)
            self.resume_at = chunk.start
            self._halted = True
            return
        self.tally.read += chunk.read
        if self.stopped:
            self._leave_pending([*(r[0] for r in chunk.rejections), *chunk.filtered, *_indexes(chunk.batches)], "")
            self.tally.duplicates_skipped += chunk.skipped
            return
        self.tally.duplicates_skipped += chunk.skipped
        self.tally.skipped += len(chunk.filtered)
        if self._on_skipped is not None:
            for index in chunk.filtered:
                self._on_skipped(index)
        for index, record, errors in chunk.rejections:
            self.reject(index, record, errors)
        if not chunk.batches:
            self._chunk_done(chunk)
            return
        if self._pool is None:
            self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="courier-send")
        self._in_flight = (chunk, self._pool.submit(self._send_chunk, chunk))

    def _settle_in_flight(self) -> None:
        if self._in_flight is not None:
            chunk, answer = self._in_flight
            self._in_flight = None
            for batch, result, repeated in answer.result():
                self._apply(chunk, _batch_key(chunk.key, batch), batch, result, repeated)
            self._chunk_done(chunk)

    def _chunk_done(self, chunk: _Chunk) -> None:
        if self._on_chunk_done is not None:
            self._on_chunk_done(chunk.start["index"] + 1, chunk.last)

    def _send_chunk(self, chunk: _Chunk) -> Answers:
        """On the sending thread: the chunk's requests through the ledger. Touches only the sender and the ledger."""
        entry = Entry(SENDING, self._budget.hard_end, chunk.last, bytes(chunk.sent), attempt=self._attempt)
        return self._once(chunk.key, chunk.batches, entry, chunk.entry)

    def _once(self, key: str, batches: list[Batch], new: Entry, known: Entry | None = None) -> Answers:
        """Sends batches at most once under one ledger key (see ledger.py for what each state means)."""
        try:
            found = known or self._ledger.begin(key, new)
            if found is None:
                return self._send_now(key, batches, new)
            if found.live(time.time()):
                busy = SendResult(Status.RETRY, "another invocation is sending these rows now", requests=0)
                return [(batch, busy, False) for batch in batches]
            if found is not known and not _same_rows(found, new):
                # taken by another invocation since it was read, over other rows: this request is not the one its
                # entry answers for, so nothing is counted from it; the retry rebuilds the chunk from the entry
                return [(batch, TAKEN, False) for batch in batches]
            if found.state == DONE:  # a batch the answer does not cover goes out as a leftover (`.r`), once
                leftover = SendResult(Status.RETRY, requests=0)
                return [
                    (b, SendResult.from_json(found.results.get(b.key) or leftover.to_json()), True) for b in batches
                ]
            if all(self._sender.may_resend(batch) for batch in batches):  # possibly sent, and harmless to resend
                if self._ledger.begin(key, new, replacing=found) is None:
                    return self._send_now(key, batches, new)
                return self._once(key, batches, new)
            lost = SendResult(Status.REJECTED, LOST_ANSWER.format(detail="killed, timed out or not recorded"), 0)
            self._record(key, new, [(batch, lost) for batch in batches])
            return [(batch, lost, False) for batch in batches]
        except LedgerUnavailableError as error:
            unsent = SendResult(Status.RETRY, f"not sent: {error}", requests=0)
            return [(batch, unsent, False) for batch in batches]

    def _send_now(self, key: str, batches: list[Batch], entry: Entry) -> Answers:
        results: list[tuple[Batch, SendResult]] = []
        for batch in batches:
            started = time.time()
            try:
                results.append((batch, self._sender.send(batch, self._budget.deadline)))
                budget = self._budget
                budget.slowest_request = max(budget.slowest_request, time.time() - started)
            except Exception:
                if not results:  # raised before this chunk's first request could leave (a missing key)
                    self._ledger.release(key)
                raise
        if all(result.settled_nothing for _, result in results):
            self._ledger.release(key)  # nothing reached the destination: the chunk is free again
        else:
            self._record(key, entry, results)
        return [(batch, result, False) for batch, result in results]

    def _record(self, key: str, entry: Entry, results: list[tuple[Batch, SendResult]]) -> None:
        done = Entry(DONE, entry.lease, entry.end, entry.sent, {b.key: r.to_json() for b, r in results}, entry.attempt)
        try:
            self._ledger.finish(key, done)
        except LedgerUnavailableError as error:  # the entry stays *sending*: a later attempt takes it as possibly sent
            logger.error("a delivered chunk could not be recorded", extra={"chunk": key, "problem": str(error)})

    def _apply(self, chunk: _Chunk, key: str, batch: Batch, result: SendResult, repeated: bool) -> None:
        if not repeated:
            self.tally.requests += result.requests
            self.tally.retries += result.retries
        if result.split and batch.rows > 1:
            half = batch.rows // 2  # a refused batch is split to find the refused records; the rest go through
            for suffix, part in ((".0", range(half)), (".1", range(half, batch.rows))):
                self._deliver_part(chunk, key + suffix, batch.subset(list(part)))
            return
        whole = SaidItem(result.status, result.reason, said=said_of(result))
        items = result.items or (whole,) * batch.rows
        for status, positions in _by_status(result.items, whole.status, batch.rows):
            if status is Status.RETRY and repeated:  # an earlier attempt left these: send them now, once
                self._deliver_part(chunk, key + ".r", batch.subset(list(positions)))
            elif status is Status.DELIVERED and repeated:
                self.tally.duplicates_skipped += len(positions)
            else:
                self._settle(chunk, batch, positions, items)

    def _deliver_part(self, chunk: _Chunk, key: str, batch: Batch) -> None:
        """Sends part of a batch now, under its own ledger key (halves of a refused batch, leftovers)."""
        if self.stopped:
            self._leave_pending(list(batch.indexes), "")
            return
        entry = Entry(SENDING, self._budget.hard_end, attempt=self._attempt)
        for part, result, repeated in self._once(key, [batch], entry):
            self._apply(chunk, key, part, result, repeated)

    def _settle(self, chunk: _Chunk, batch: Batch, positions: Sequence[int], items: tuple[ItemResult, ...]) -> None:
        """Counts the records at these positions of the batch, which share one status."""
        status = items[positions[0]].status
        whole = len(positions) == batch.rows
        indexes = list(batch.indexes) if whole else [batch.indexes[pos] for pos in positions]
        if status is Status.DELIVERED:
            self.tally.delivered += len(positions)
            if self._on_delivered is not None:
                for pos, index in zip(positions, indexes, strict=True):
                    self._on_delivered(index, items[pos].destination_id)
        elif status is Status.REJECTED:
            originals = self._originals(chunk, batch, positions)
            for pos, index in zip(positions, indexes, strict=True):
                self.reject(index, originals[index], [f"destination: {items[pos].reason}"], said_of(items[pos]))
        else:
            self._leave_pending(indexes, items[positions[0]].reason)

    def _originals(self, chunk: _Chunk, batch: Batch, positions: Sequence[int]) -> dict[int, Any]:
        """The refused rows as the user sent them, read again from the source; as sent, if it cannot give them."""
        sent = batch.records()
        fallback = {batch.indexes[pos]: sent[pos] for pos in positions}
        if self._source is None:
            return fallback
        try:
            found = self._source.originals(chunk.start, set(fallback))
        except Exception as error:
            logger.warning("original rows could not be read again", extra={"problem": type(error).__name__})
            return fallback
        return {index: found.get(index, record) for index, record in fallback.items()}

    def _leave_pending(self, indexes: list[int], reason: str) -> None:
        self.tally.pending += len(indexes)
        self.pending_indexes.extend(indexes)
        if reason:
            self.tally.retry_reason = reason
        self._halted = True


def _by_status(items: tuple[ItemResult, ...] | None, whole: Status, rows: int) -> list[tuple[Status, Sequence[int]]]:
    """The positions of a batch's records by their outcome (delivered, refused, to retry), those with any."""
    if items is None:
        return [(whole, range(rows))]
    found = [(status, [pos for pos, item in enumerate(items) if item.status is status]) for status in Status]
    return [(status, positions) for status, positions in found if positions]


def _mark_sent(sent: bytearray, start: int, count: int) -> None:
    """Sets the sent-map's bits of the positions start … start + count - 1, growing the map to hold them."""
    end = start + count - 1
    if len(sent) <= end >> 3:
        sent.extend(bytes((end >> 3) + 1 - len(sent)))
    low, high = start >> 3, end >> 3
    if low == high:
        sent[low] |= ((1 << count) - 1) << (start & 7)
        return
    sent[low] |= 0xFF << (start & 7) & 0xFF
    sent[low + 1 : high] = b"\xff" * (high - low - 1)
    sent[high] |= (1 << (end & 7) + 1) - 1


def _same_rows(found: Entry, new: Entry) -> bool:
    """The two entries fix the same extent and the same rows sent."""
    return found.end == new.end and found.sent.rstrip(b"\0") == new.sent.rstrip(b"\0")


def _all_delivered(entry: Entry) -> bool:
    if entry.state != DONE:
        return False
    results = [SendResult.from_json(result) for result in entry.results.values()]
    return all(not r.split and all(i.status is Status.DELIVERED for i in (r.items or (r,))) for r in results)


def _indexes(batches: list[Batch]) -> list[int]:
    return [index for batch in batches for index in batch.indexes]


def _batch_key(chunk_key: str, batch: Batch) -> str:
    """The ledger key of one batch's parts: batch keys can be long (Altcraft's request-level parameters)."""
    return f"{chunk_key}@{zlib.crc32(batch.key.encode()):08x}"
