"""CSV runs (FileSource.runs, the Post API preparer's `run`, the driver's `_forward_run`) against the row-by-row path
they stand in for: for any CSV content the same rows, marks and resumption from the source; the same request bodies
(byte for byte, batch for batch), rejected rows and reasons, sent maps and ledger entries from the delivery.

Each comparison delivers the same bytes twice in the same test: once with the preparer as the destination makes it
(it has `.run`, so the driver asks the source for runs) and once through a wrapper that hides `.run` (the driver then
iterates the source row by row). Small BLOCK_BYTES make a file many blocks; small chunk and batch caps put their
boundaries inside runs."""

from __future__ import annotations

import csv
import gzip
import io
import random
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

import pytest

import courier.delivery.driver as driver_module
import courier.sources.files as files_module
from courier.delivery.driver import Budget, Delivery, _mark_sent
from courier.delivery.ledger import Entry, MemoryLedger, set_bit
from courier.destinations.appmetrica.ad_revenue import APPMETRICA_AD_REVENUE
from courier.destinations.appmetrica.events import APPMETRICA_EVENTS
from courier.destinations.appmetrica.revenue import APPMETRICA_REVENUE
from courier.model import Batch, CsvRow, CsvRun, Destination, Mark, PreparedRow, Record, RunPreparer, SendResult, Status
from courier.settings import Settings
from courier.sources.files import UnreadableFileError, open_file
from tests.csv_cases import AHEAD, EVENTS, NOW, OLD, TS, event_lines, file_bytes, opener, run_of

SETTINGS = Settings(APPMETRICA_APPLICATION_ID="1111")
OWN_ID = ("application_id", "profile_id", "appmetrica_device_id", "event_name", "event_timestamp", "event_json")


# The file, as the S3 door opens it


def gzipped(data: bytes) -> bytes:
    return gzip.compress(data, mtime=0)


# The source, row by row and by runs


@dataclass
class Read:
    """What a pass over a source gave: (index, fields, error, line as written) per row, the mark after each row (or
    after each run taken), the mark before the first, and the error that ended the file ("" when it ended)."""

    rows: list[tuple[int, dict[str, Any], str, bytes]] = field(default_factory=list)
    marks: dict[int, Mark] = field(default_factory=dict)
    first_mark: Mark = field(default_factory=dict)
    failure: str = ""
    runs_taken: int = 0


def read_rows(data: bytes, name: str, start: Mark | None = None) -> Read:
    """The reference: iter(source), as a delivery that takes no runs reads it."""
    read = Read()
    with open_file(opener(data), name, start) as source:
        read.first_mark = source.mark()
        try:
            for index, record, error in source:
                read.rows.append((index, dict(record), error, record.line if type(record) is CsvRow else b""))
                read.marks[index] = source.mark()
        except UnreadableFileError as failure:
            read.failure = str(failure)
    return read


Policy = Callable[[CsvRun], int]


def take_all(run: CsvRun) -> int:
    return len(run)


def take_none(run: CsvRun) -> int:
    return 0


def take_one(run: CsvRun) -> int:
    return 1


def take_some(seed: int) -> Policy:
    rng = random.Random(seed)
    return lambda run: rng.randint(0, len(run))


def read_runs(data: bytes, name: str, policy: Policy, start: Mark | None = None) -> Read:
    """source.runs(), each run taken as far as `policy` says (its rows then as the run holds them)."""
    read = Read()
    with open_file(opener(data), name, start) as source:
        read.first_mark = source.mark()
        try:
            for item in source.runs():
                if not isinstance(item, CsvRun):
                    index, record, error = item
                    read.rows.append((index, dict(record), error, record.line if type(record) is CsvRow else b""))
                    read.marks[index] = source.mark()
                    continue
                assert len(item) > 0
                assert item.first == (read.rows[-1][0] + 1 if read.rows else read.first_mark["index"] + 1)
                by_column = item.by_column
                count = policy(item) if by_column is not None else 0  # a taker takes only lines it found rows
                if not count or by_column is None:
                    continue
                item.take(count)
                read.runs_taken += 1
                for offset in range(item.start, item.start + count):
                    line = item.lines[offset]
                    assert line.endswith(b"\n")  # one \n, whatever ended it in the file
                    assert not line[:-1].endswith((b"\r", b"\n"))
                    cells = [column[offset] for column in by_column]
                    row = (item.first + offset - item.start, dict(zip(item.columns, cells, strict=True)), "", line[:-1])
                    read.rows.append(row)
                read.marks[item.first + count - 1] = source.mark()
        except UnreadableFileError as failure:
            read.failure = str(failure)
    return read


def assert_same_reading(by_rows: Read, by_runs: Read) -> None:
    assert by_runs.first_mark == by_rows.first_mark
    assert [row[0] for row in by_runs.rows] == [row[0] for row in by_rows.rows]  # indexes first: a clearer diff
    assert by_runs.rows == by_rows.rows
    for index, mark in by_runs.marks.items():
        assert mark == by_rows.marks[index], index
    assert by_runs.failure == by_rows.failure


def assert_resumes_alike(data: bytes, name: str, by_rows: Read, every: int = 1) -> None:
    """Opened again at any mark the rows gave, the file goes on with the rows after it, row by row and by runs."""
    for index in sorted(by_rows.marks)[::every]:
        mark = by_rows.marks[index]
        after = [row for row in by_rows.rows if row[0] > index]
        again = read_rows(data, name, mark)
        assert again.rows == after, mark
        assert again.failure == by_rows.failure
        assert_same_reading(again, read_runs(data, name, take_some(index), mark))


# The delivery, with the preparer as made and with its `.run` hidden


class RowByRow:
    """The preparer without `.run`: the driver reads the source row by row."""

    def __init__(self, prepare: Any) -> None:
        self._prepare = prepare

    def __call__(self, record: Record) -> PreparedRow:
        result: PreparedRow = self._prepare(record)
        return result


class General:
    """The general path only: each row as a plain dict, so no line is forwarded as written."""

    def __init__(self, prepare: Any) -> None:
        self._prepare = prepare

    def __call__(self, record: Record) -> PreparedRow:
        result: PreparedRow = self._prepare(dict(record))
        return result


class Counting:
    """The preparer as made, counting the rows its `.run` forwarded whole."""

    def __init__(self, prepare: Any) -> None:
        self._prepare, self.forwarded = prepare, 0

    def __call__(self, record: Record) -> PreparedRow:
        result: PreparedRow = self._prepare(record)
        return result

    def run(self, run: CsvRun, count: int) -> Any:
        lines = self._prepare.run(run, count)
        if lines is not None:
            self.forwarded += len(lines.lines)
        return lines


@dataclass
class RecordingSender:
    """Answers from a script (then: delivered) and keeps each request: its batch key, body and source indexes."""

    max_rows: int = 100_000
    max_chars: int = 10**9
    script: list[SendResult] = field(default_factory=list)
    requests: list[tuple[str, bytes, list[int]]] = field(default_factory=list)

    def may_resend(self, batch: Batch) -> bool:
        return False

    def send(self, batch: Batch, deadline: float) -> SendResult:
        self.requests.append((batch.key, bytes(batch.body()), list(batch.indexes)))  # type: ignore[attr-defined]
        return self.script.pop(0) if self.script else SendResult(Status.DELIVERED)


class RecordingLedger(MemoryLedger):
    """Keeps every entry written: (key, state, end, sent map, results), attempts and leases left out."""

    def __init__(self) -> None:
        super().__init__()
        self.written: list[tuple[str, str, int, bytes, dict[str, Any]]] = []

    def begin(self, key: str, entry: Entry, replacing: Entry | None = None) -> Entry | None:
        found = super().begin(key, entry, replacing)
        if found is None:
            self.written.append((key, entry.state, entry.end, entry.sent, entry.results))
        return found

    def finish(self, key: str, entry: Entry) -> None:
        super().finish(key, entry)
        self.written.append((key, entry.state, entry.end, entry.sent, entry.results))


@dataclass
class Outcome:
    requests: list[tuple[str, bytes, list[int]]]
    rejected: list[tuple[int, dict[str, Any], list[str]]]
    tally: dict[str, Any]
    written: list[tuple[str, str, int, bytes, dict[str, Any]]]
    resume_at: Mark | None
    must_retry: bool
    failure: str


def deliver(
    data: bytes,
    name: str,
    prepare: Any,
    sender: RecordingSender,
    ledger: RecordingLedger | None = None,
    start: Mark | None = None,
    destination: Destination = APPMETRICA_EVENTS,
) -> Outcome:
    """The file door's delivery of one file (courier.doors.files.deliver_file), with a generous budget."""
    rejected: list[tuple[int, dict[str, Any], list[str]]] = []
    ledger = ledger if ledger is not None else RecordingLedger()
    failure = ""
    with open_file(opener(data), name, start) as source:
        delivery = Delivery(
            destination,
            prepare,
            sender,
            Budget(deadline=time.time() + 600, hard_end=time.time() + 700),
            ledger,
            "s3:bucket/" + name,
            lambda index, record, errors: rejected.append((index, dict(record), errors)),
        )
        try:
            delivery.run(source, check_fields=source.columns is None)
        except UnreadableFileError as error:
            failure = str(error)
    tally = asdict(delivery.tally)
    return Outcome(sender.requests, rejected, tally, ledger.written, delivery.resume_at, delivery.must_retry, failure)


def both_paths(
    data: bytes,
    name: str = "f.csv",
    destination: Destination = APPMETRICA_EVENTS,
    settings: Settings = SETTINGS,
    max_rows: int = 100_000,
    max_chars: int = 10**9,
) -> tuple[Outcome, Outcome, Counting]:
    """The same file delivered with runs and row by row: (by runs, row by row, the counting preparer)."""
    counting = Counting(destination.make_preparer(settings, NOW))
    assert isinstance(counting, RunPreparer)
    by_runs = deliver(data, name, counting, RecordingSender(max_rows, max_chars), destination=destination)
    row_by_row = RowByRow(destination.make_preparer(settings, NOW))
    assert not isinstance(row_by_row, RunPreparer)
    by_rows = deliver(data, name, row_by_row, RecordingSender(max_rows, max_chars), destination=destination)
    return by_runs, by_rows, counting


def assert_same_delivery(by_runs: Outcome, by_rows: Outcome) -> None:
    assert [(key, indexes) for key, _, indexes in by_runs.requests] == [
        (key, indexes) for key, _, indexes in by_rows.requests
    ]
    for (_, body, indexes), (_, expected, _) in zip(by_runs.requests, by_rows.requests, strict=True):
        assert body == expected, indexes[0]
    assert by_runs.rejected == by_rows.rejected
    assert by_runs.tally == by_rows.tally
    assert by_runs.written == by_rows.written
    assert (by_runs.resume_at, by_runs.must_retry, by_runs.failure) == (
        by_rows.resume_at,
        by_rows.must_retry,
        by_rows.failure,
    )


def sent_records(outcome: Outcome) -> list[tuple[int, dict[str, str]]]:
    """Every row sent, as (index, its fields without empty ones): what the Post API reads of the bodies."""
    found = []
    for _, body, indexes in outcome.requests:
        rows = csv.DictReader(io.StringIO(body.decode(), newline=""))
        found += [(i, {k: v for k, v in r.items() if v}) for i, r in zip(indexes, rows, strict=True)]
    return found


@pytest.fixture
def small_blocks(monkeypatch: pytest.MonkeyPatch) -> Callable[[int], None]:
    def set_block(size: int) -> None:
        monkeypatch.setattr(files_module, "BLOCK_BYTES", size)

    return set_block


@pytest.fixture
def small_chunks(monkeypatch: pytest.MonkeyPatch) -> None:
    """Chunks of 7 rows growing to 20 at most: their boundaries fall inside runs."""
    monkeypatch.setattr(driver_module, "FIRST_CHUNK_ROWS", 7)
    monkeypatch.setattr(driver_module, "MAX_CHUNK_ROWS", 20)


# The source: runs give the rows, marks and resumption of the rows


def test_a_clean_file_comes_as_runs_whose_rows_and_marks_are_the_rows_own(small_blocks: Callable[[int], None]) -> None:
    # Given a file of 40 clean rows in blocks of about 100 bytes
    small_blocks(100)
    data = file_bytes([",".join(EVENTS)] + [f"u{n},open,{TS},," for n in range(40)])
    # When it is read by runs, each taken whole
    by_runs = read_runs(data, "f.csv", take_all)
    # Then its rows come in runs, the same rows with the same lines and marks as row by row
    by_rows = read_rows(data, "f.csv")
    assert by_runs.runs_taken > 5
    assert len(by_rows.rows) == 40
    assert_same_reading(by_rows, by_runs)
    assert by_rows.rows[0] == (
        1,
        {"profile_id": "u0", "event_name": "open", "event_timestamp": TS, "session_type": "", "event_json": ""},
        "",
        f"u0,open,{TS},,".encode(),
    )
    assert by_runs.marks[40] == {"index": 40, "offset": len(data)}


@pytest.mark.parametrize("policy", [take_all, take_none, take_one, take_some(1), take_some(2)])
@pytest.mark.parametrize("block", [64, 97, 256, 1 << 20])
@pytest.mark.parametrize("seed", range(6))
def test_fuzzed_files_read_by_runs_give_the_rows_marks_and_errors_of_the_rows(
    small_blocks: Callable[[int], None], seed: int, block: int, policy: Policy
) -> None:
    # Given a fuzzed file: good rows among refused ones, blank lines, quoted line ends (some across a block's end),
    # rows too narrow and too wide, line ends \n, \r\n and \r, a BOM or not, a last line end or not
    small_blocks(block)
    rng = random.Random(seed)
    lines = [",".join(EVENTS), *event_lines(rng, 120)]
    ends = [rng.choice(["\n"] * 6 + ["\r\n", "\r"]) for _ in lines]
    data = file_bytes(lines, ends, bom=seed % 2 == 0, last_end=seed % 3 != 0)
    # When it is read by runs, taken as the policy says, and row by row
    by_runs, by_rows = read_runs(data, "f.csv", policy), read_rows(data, "f.csv")
    # Then both give the same rows (fields, errors, lines as written), the same marks and the same end
    assert_same_reading(by_rows, by_runs)
    assert by_rows.failure == ""


@pytest.mark.parametrize("seed", range(3))
def test_a_fuzzed_file_opened_again_at_any_mark_goes_on_alike(small_blocks: Callable[[int], None], seed: int) -> None:
    # Given a fuzzed file in small blocks, and the marks its rows gave
    small_blocks(80)
    rng = random.Random(100 + seed)
    lines = [",".join(EVENTS), *event_lines(rng, 60)]
    data = file_bytes(lines, [rng.choice(["\n", "\n", "\r\n"]) for _ in lines])
    by_rows = read_rows(data, "f.csv")
    # When it is opened again at each mark, read row by row and by runs
    # Then it goes on with the rows after the mark, both ways
    assert_resumes_alike(data, "f.csv", by_rows)


@pytest.mark.parametrize("seed", range(3))
def test_a_gzipped_file_is_resumed_by_skipping_rows_alike(small_blocks: Callable[[int], None], seed: int) -> None:
    # Given a gzipped fuzzed file (its marks carry no offset: it is read again and rows skipped)
    small_blocks(90)
    rng = random.Random(200 + seed)
    data = gzipped(file_bytes([",".join(EVENTS), *event_lines(rng, 60)]))
    by_rows = read_rows(data, "f.csv.gz")
    assert {mark["offset"] for mark in by_rows.marks.values()} == {-1}
    # When it is read by runs, and opened again at each of its marks (runs taken partly while skipping)
    assert_same_reading(by_rows, read_runs(data, "f.csv.gz", take_some(seed)))
    # Then it goes on after the mark's row, both ways
    assert_resumes_alike(data, "f.csv.gz", by_rows)


def test_a_mark_in_the_middle_of_a_run_resumes_at_the_next_row_of_the_run() -> None:
    # Given one block of 30 clean rows, read by runs: 12 taken of the first run
    data = file_bytes([",".join(EVENTS)] + [f"u{n},open,{TS},," for n in range(30)])
    with open_file(opener(data), "f.csv") as source:
        first = next(source.runs())
        assert isinstance(first, CsvRun)
        assert (first.first, len(first)) == (1, 30)
        first.take(12)
        mark = source.mark()
    # When the file is opened again at that mark
    # Then the mark is the 12th row's end, and the rows go on from the 13th (as a run of the 18 left)
    header_end = len(",".join(EVENTS)) + 1
    assert mark == {"index": 12, "offset": header_end + sum(len(f"u{n},open,{TS},,\n") for n in range(12))}
    with open_file(opener(data), "f.csv", mark) as again:
        rest = next(again.runs())
        assert isinstance(rest, CsvRun)
        assert (rest.first, len(rest)) == (13, 18)
        assert rest.lines[rest.start] == f"u12,open,{TS},,\n".encode()
    assert [row[0] for row in read_rows(data, "f.csv", mark).rows] == list(range(13, 31))


def test_a_run_not_taken_gives_its_rows_one_by_one_then_runs_again(small_blocks: Callable[[int], None]) -> None:
    # Given a file of three blocks of clean rows
    small_blocks(120)
    data = file_bytes([",".join(EVENTS)] + [f"u{n},open,{TS},," for n in range(20)])
    with open_file(opener(data), "f.csv") as source:
        items = source.runs()
        # When the first run is not taken
        first = next(items)
        assert isinstance(first, CsvRun)
        size = len(first)
        # Then its rows come one by one, each with its mark, and the next block is a run again
        for offset in range(size):
            index, record, error = next(items)  # type: ignore[misc]
            assert (index, error, record["profile_id"]) == (offset + 1, "", f"u{offset}")
            assert source.mark()["index"] == offset + 1
        after = next(items)
        assert isinstance(after, CsvRun)
        assert after.first == size + 1


@pytest.mark.parametrize(
    ("name", "text"),
    [
        ("a quoted line end across blocks", 'u5,"one\ntwo\nthree\nfour\nfive\nsix",{ts},,'),
        ("a quote left open to the end", 'u5,"never closed,{ts},,'),
        ("a blank line", ""),
        ("a row too narrow", "u5,open"),
        ("a row too wide", "u5,open,{ts},,,"),
        ("text after a closing quote", 'u5,"open"x,{ts},,'),
    ],
)
@pytest.mark.parametrize("block", [40, 75, 130])
def test_a_line_that_is_not_one_clean_row_leaves_its_block_to_the_rows(
    small_blocks: Callable[[int], None], name: str, text: str, block: int
) -> None:
    # Given clean rows around one line that is not a clean row, in blocks that end anywhere near it
    small_blocks(block)
    rows = [f"u{n},open,{TS},," for n in range(12)]
    rows[5] = text.format(ts=TS)
    data = file_bytes([",".join(EVENTS), *rows])
    # When it is read by runs and row by row
    # Then both give the same rows and marks (the open quote takes the rest of the file into its cell alike)
    by_rows = read_rows(data, "f.csv")
    for policy in (take_all, take_none, take_some(block)):
        assert_same_reading(by_rows, read_runs(data, "f.csv", policy))
    assert_resumes_alike(data, "f.csv", by_rows)


def test_invalid_utf8_in_a_block_ends_the_file_after_the_same_row(small_blocks: Callable[[int], None]) -> None:
    # Given clean rows with bytes that are not UTF-8 in the middle of a block
    small_blocks(1 << 20)
    rows = [f"u{n},open,{TS},,".encode() for n in range(10)]
    rows[6] = b"u6,\xff\xfe,1,,"
    data = b"\n".join([",".join(EVENTS).encode(), *rows]) + b"\n"
    # When it is read by runs and row by row
    by_rows = read_rows(data, "f.csv")
    # Then both give the six rows before it and stop with the same error
    assert by_rows.failure == "the file is not valid UTF-8 after row 6"
    assert [row[0] for row in by_rows.rows] == [1, 2, 3, 4, 5, 6]
    for policy in (take_all, take_none, take_one):
        assert_same_reading(by_rows, read_runs(data, "f.csv", policy))


def test_an_over_long_line_is_one_refused_row_alike(
    small_blocks: Callable[[int], None], monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a line longer than the longest line read, among clean rows, in small blocks
    small_blocks(64)
    monkeypatch.setattr(files_module, "MAX_LINE_BYTES", 150)
    rows = [f"u{n},open,{TS},," for n in range(12)]
    rows[4] = f"u4,{'x' * 400},{TS},,"
    rows[9] = f"u9,{'y' * 151},{TS},,"
    data = file_bytes([",".join(EVENTS), *rows])
    # When it is read by runs and row by row
    by_rows = read_rows(data, "f.csv")
    # Then each long line is one refused row, and the rest are the same rows with the same marks
    assert [(row[0], row[2]) for row in by_rows.rows if row[2]] == [
        (5, files_module.LONG_ROW),
        (10, files_module.LONG_ROW),
    ]
    assert len(by_rows.rows) == 12
    for policy in (take_all, take_none, take_some(3)):
        assert_same_reading(by_rows, read_runs(data, "f.csv", policy))
    assert_resumes_alike(data, "f.csv", by_rows)


def test_a_line_end_cut_between_its_cr_and_lf_by_a_block_reads_alike(small_blocks: Callable[[int], None]) -> None:
    # Given \r\n line ends, with a block ending between a \r and its \n
    row = f"u1,open,{TS},,"
    small_blocks(len(",".join(EVENTS)) + 2 + len(row) + 1)  # the header, then the first row up to its \r
    data = file_bytes([",".join(EVENTS)] + [row] * 6, "\r\n")
    # When it is read by runs and row by row
    # Then the rows, marks and resumption are the same
    by_rows = read_rows(data, "f.csv")
    assert len(by_rows.rows) == 6
    assert_same_reading(by_rows, read_runs(data, "f.csv", take_all))
    assert_resumes_alike(data, "f.csv", by_rows)


# The check of a run: forwarded whole exactly when every row alone is forwarded as written


def rows_alone(item: CsvRun, count: int, prepare: Any) -> list[PreparedRow]:
    by_column = item.by_column
    assert by_column is not None
    return [
        prepare(CsvRow(item.columns, [column[at] for column in by_column], item.lines[at][:-1]))
        for at in range(item.start, item.start + count)
    ]


CASES = [
    *[
        f'u1,open,{TS},foreground,"{json}"'
        for json in ('{""a"":}', '{""a"":NaN}', '{""a"":1e400}', "[1]", " {}", "{} ")
    ],
    f'u1,open,{TS},foreground,"{{""a"":{"[" * 40}{"]" * 40}}}"',
    f'u1,open,{TS},foreground,"{{""a"":""{"[" * 40}""}}"',  # brackets in a JSON string: not deep, but counted
    f"u1,open,{OLD},,",
    f"u1,open,{AHEAD},,",
    f"u1,open,{TS}000,,",
    f"u1,open,{TS[:-1]},,",
    f"u1,open,{TS[:5]}²{TS[6:]},,",  # a digit that is not ASCII
    f"u1,open,{TS[:5]}٣{TS[6:]},,",
    "u1,open,2026-11-22T10:00:00Z,,",
    f"u1,open,{TS},sideways,",
    f"u1,,{TS},,",
    f",open,{TS},,",
    f"u1,{'x' * 10_001},{TS},,",  # a text too long
    f'"u1","{"[" * 40}",{TS},"",',  # brackets in a text cell, quotes that need not be there
    f"u1,{'{' * 33},{TS},,",
]


@pytest.mark.parametrize("odd", CASES)
@pytest.mark.parametrize("where", [0, 3, 7])
def test_a_run_with_one_row_that_is_not_forwarded_is_not_forwarded(odd: str, where: int) -> None:
    # Given a run of good rows, repeating the same event_json, with one row that is not sent as written
    lines = [f'u{n},open,{TS},foreground,"{{""k"":1}}"' for n in range(8)]
    lines[where] = odd
    prepare = APPMETRICA_EVENTS.make_preparer(SETTINGS, NOW)
    item = run_of(lines)
    # When the preparer checks it, whole and in parts
    # Then it is forwarded exactly where each row alone is forwarded as its line
    for count in range(1, len(item) + 1):
        alone = rows_alone(item, count, prepare)
        forwarded = prepare.run(item, count)  # type: ignore[attr-defined]
        every_row_as_written = all(type(fields).__name__ == "CsvLine" and not errors for fields, errors in alone)
        assert (forwarded is not None) == every_row_as_written, count
        assert (forwarded is not None) == (count <= where), count


def test_a_run_forwarded_is_each_rows_line_behind_the_configured_application_id() -> None:
    # Given a run of good rows
    lines = [f'u{n},open,{TS},foreground,"{{""k"":{n}}}"' for n in range(5)]
    item = run_of(lines)
    prepare = APPMETRICA_EVENTS.make_preparer(SETTINGS, NOW)
    # When the preparer forwards its first four
    forwarded = prepare.run(item, 4)  # type: ignore[attr-defined]
    # Then they are the lines as written, behind 1111, for 1111's batch, as each row alone would be
    assert forwarded is not None
    assert forwarded.key == "1111"
    assert forwarded.prefix == b"1111,"
    assert forwarded.columns == ("application_id", *EVENTS)
    assert forwarded.lines == [(line + "\n").encode() for line in lines[:4]]
    for fields, errors in rows_alone(item, 4, prepare):
        assert errors == []
        assert (fields.columns, fields.key) == (forwarded.columns, forwarded.key)  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("columns", "lines", "alone", "forwarded"),
    [
        (OWN_ID, [f"2222,u{n},,open,{TS},{{}}" for n in range(4)], True, True),
        (OWN_ID, [f"2222,,{n + 1},open,{TS},{{}}" for n in range(4)], True, True),
        (OWN_ID, [f"2222,u1,,open,{TS},", f"2222,u2,7,open,{TS},"], False, False),  # both ids
        (OWN_ID, [f"2222,u1,,open,{TS},", f"2222,,,open,{TS},"], False, False),  # neither
        (OWN_ID, [f"2222,u1,,open,{TS},", f"3333,u2,,open,{TS},"], True, False),  # two applications: two batches
        (OWN_ID, [f"2222,u1,,open,{TS},", f"02222,u2,,open,{TS},"], False, False),  # one written otherwise
        (OWN_ID, [f"2222,,1,open,{TS},", f"2222,,007,open,{TS},"], False, False),
        ((*EVENTS[:3], "shop"), [f"u1,open,{TS},x"], False, False),  # a column not sent
        ((*EVENTS[:3], "profile_id"), [f"u1,open,{TS},u2"], False, False),  # a column twice
    ],
)
def test_runs_of_other_headers_are_forwarded_exactly_where_their_rows_are(
    columns: tuple[str, ...], lines: list[str], alone: bool, forwarded: bool
) -> None:
    # Given a run of a header with its own application id column, or one the preparer forwards nothing of
    item = run_of(lines, columns)
    prepare = APPMETRICA_EVENTS.make_preparer(SETTINGS, NOW)
    # When the preparer checks it whole
    result = prepare.run(item, len(item))  # type: ignore[attr-defined]
    # Then it is forwarded only when every row alone would be sent as its line, all for one application
    prepared = rows_alone(item, len(item), prepare)
    assert all(type(fields).__name__ == "CsvLine" for fields, _ in prepared) == alone
    assert (result is not None) == forwarded
    if result is not None:
        assert result.key == "2222"
        assert result.prefix == b""
        assert result.columns == columns


def test_a_timestamp_with_a_digit_that_is_not_ascii_is_refused_on_every_path() -> None:
    # Given timestamps inside the window as text, but with '²' or '٣' for one digit
    prepare = APPMETRICA_EVENTS.make_preparer(SETTINGS, NOW)
    for odd in (f"{TS[:5]}²{TS[6:]}", f"{TS[:5]}٣{TS[6:]}"):
        line = f"u1,open,{odd},,"
        # When the row is prepared as a file's row, as a dict, and in a run
        as_row = prepare(CsvRow(EVENTS, line.split(","), line.encode()))
        as_dict = prepare({"profile_id": "u1", "event_name": "open", "event_timestamp": odd})
        in_run = prepare.run(run_of([line]), 1)  # type: ignore[attr-defined]
        # Then it is refused (it is no Unix time), with the same reason both ways, and no run forwards it
        reason = "event_timestamp: must be Unix seconds or an ISO-8601 time such as 2026-11-22T10:00:00Z"
        assert as_row == (None, [reason])
        assert as_dict == (None, [reason])
        assert in_run is None


# The sent map


@pytest.mark.parametrize("start", [0, 1, 5, 7, 8, 9, 15, 16, 23, 63])
@pytest.mark.parametrize("count", [1, 2, 3, 7, 8, 9, 16, 17, 30, 64, 65])
@pytest.mark.parametrize("before", [b"", b"\x01", b"\x80\x00\x00", b"\x00" * 12])
def test_marking_a_run_sent_sets_the_bits_set_one_by_one(start: int, count: int, before: bytes) -> None:
    # Given a sent map, empty, short or longer than the run
    by_run, one_by_one = bytearray(before), bytearray(before)
    # When a run of positions is marked at once, and the same positions bit by bit
    _mark_sent(by_run, start, count)
    for position in range(start, start + count):
        set_bit(one_by_one, position)
    # Then the maps are the same, bits outside the run untouched
    assert by_run == one_by_one


# The delivery: the same requests, rejections, counts and ledger with runs and row by row


def test_a_clean_file_goes_out_as_its_lines_in_one_request() -> None:
    # Given a file of clean rows
    rows = [f'u{n},open,{TS},foreground,"{{""k"":1}}"' for n in range(5)]
    data = file_bytes([",".join(EVENTS), *rows])
    # When it is delivered with runs and row by row
    by_runs, by_rows, counting = both_paths(data)
    # Then one request leaves, the lines as written behind the configured id, forwarded as one run
    body = ("application_id," + ",".join(EVENTS) + "\n" + "".join(f"1111,{row}\n" for row in rows)).encode()
    assert by_runs.requests == [("1111", body, [1, 2, 3, 4, 5])]
    assert counting.forwarded == 5
    assert_same_delivery(by_runs, by_rows)
    assert (by_runs.tally["read"], by_runs.tally["delivered"]) == (5, 5)


@pytest.mark.parametrize("seed", range(8))
@pytest.mark.parametrize(("max_rows", "max_chars"), [(100_000, 10**9), (6, 10**9), (100_000, 700), (5, 333)])
def test_fuzzed_files_are_delivered_alike_with_runs_and_row_by_row(
    small_blocks: Callable[[int], None], small_chunks: None, seed: int, max_rows: int, max_chars: int
) -> None:
    # Given a fuzzed file in small blocks, chunks of 7 to 20 rows and small batches (their ends fall inside runs)
    rng = random.Random(seed)
    small_blocks(rng.choice([70, 150, 400]))  # one block of the whole file would hold a refused row
    lines = [",".join(EVENTS), *event_lines(rng, 150)]
    data = file_bytes(lines, [rng.choice(["\n"] * 8 + ["\r\n", "\r"]) for _ in lines], bom=seed % 2 == 1)
    # When it is delivered with runs and row by row
    by_runs, by_rows, counting = both_paths(data, max_rows=max_rows, max_chars=max_chars)
    # Then the requests (bodies byte for byte), rejections, counts and ledger entries are the same
    assert counting.forwarded > 0
    assert_same_delivery(by_runs, by_rows)
    assert by_runs.tally["read"] == by_runs.tally["delivered"] + by_runs.tally["rejected"]
    # And the general path (no line forwarded) sends the same records and refuses the same rows
    general = deliver(data, "f.csv", General(APPMETRICA_EVENTS.make_preparer(SETTINGS, NOW)), RecordingSender())
    assert sent_records(general) == sent_records(by_rows)
    assert general.rejected == by_rows.rejected


@pytest.mark.parametrize("seed", range(3))
def test_a_gzipped_fuzzed_file_is_delivered_alike(small_blocks: Callable[[int], None], seed: int) -> None:
    # Given a gzipped fuzzed file
    small_blocks(120)
    rng = random.Random(300 + seed)
    data = gzipped(file_bytes([",".join(EVENTS), *event_lines(rng, 80)]))
    # When it is delivered with runs and row by row, in batches of 9 rows
    by_runs, by_rows, counting = both_paths(data, "f.csv.gz", max_rows=9)
    # Then the outcomes are the same
    assert counting.forwarded > 0
    assert_same_delivery(by_runs, by_rows)


@pytest.mark.parametrize("seed", range(3))
def test_a_file_with_its_own_application_ids_is_delivered_alike(small_blocks: Callable[[int], None], seed: int) -> None:
    # Given rows for two applications, by profile or by device, in runs of each and mixed
    small_blocks(200)
    rng = random.Random(400 + seed)
    rows = []
    for n in range(120):
        app = "2222" if (n // 25) % 2 == 0 or rng.random() < 0.05 else "3333"
        ids = rng.choice([f"u{n},", f",{n + 1}", f",{n + 1}", f"u{n},{n + 1}" if rng.random() < 0.05 else f"u{n},"])
        rows.append(f"{app},{ids},open,{TS},{{}}")
    data = file_bytes([",".join(OWN_ID), *rows])
    # When it is delivered with runs and row by row (no application configured), in batches of 11 rows
    by_runs, by_rows, counting = both_paths(data, settings=Settings(), max_rows=11)
    # Then the requests per application, the rejections and the counts are the same
    assert counting.forwarded > 0
    assert {key for key, _, _ in by_runs.requests} == {"2222", "3333"}
    assert_same_delivery(by_runs, by_rows)


REVENUE = ("profile_id", "event_timestamp", "revenue_event_type", "price", "currency", "product_id", "quantity")
AD_REVENUE = ("appmetrica_device_id", "event_timestamp", "revenue", "currency", "ad_type", "payload")


@pytest.mark.parametrize(
    ("destination", "columns", "good", "odd"),
    [
        (
            APPMETRICA_REVENUE,
            REVENUE,
            lambda n: f"u{n},{TS},one_time_purchase,{n}.5,USD,sku-{n},{n % 3 + 1}",
            [
                lambda n: f"u{n},{TS},trial_subscription_started,1,USD,sku,1",
                lambda n: f"u{n},{TS},refund,-0,USD,sku,1",
                lambda n: f"u{n},{TS},refund,1.500000000,usd,sku,1",
                lambda n: f"u{n},{TS},refund,2, USD,sku,1",
                lambda n: f"u{n},{TS},refund,2,VES,sku,1",
                lambda n: f"u{n},{TS},refund,2,USD,sku,0",
                lambda n: f"u{n},{TS},refund,2,USD,sku,01",
            ],
        ),
        (
            APPMETRICA_AD_REVENUE,
            AD_REVENUE,
            lambda n: f'{n + 1},{TS},0.{n},usd,banner,"{{""n"":{n}}}"',
            [
                lambda n: f"{n + 1},{TS},-1,usd,banner,",
                lambda n: f"{n + 1},{TS},1,usd,popup,",
                lambda n: f"{n + 1},{TS},1e-4,usd,banner,",
                lambda n: f'{n + 1},{TS},1,usd,banner,"[1]"',
                lambda n: f"0{n + 1},{TS},1,usd,banner,",
            ],
        ),
    ],
)
def test_revenue_and_ad_revenue_files_are_delivered_alike(
    small_blocks: Callable[[int], None],
    small_chunks: None,
    destination: Destination,
    columns: tuple[str, ...],
    good: Callable[[int], str],
    odd: list[Callable[[int], str]],
) -> None:
    # Given a file of the method's rows, mostly good, some refused or sent otherwise than written
    small_blocks(300)
    rng = random.Random(7)
    rows = [good(n) if rng.random() < 0.85 else rng.choice(odd)(n) for n in range(150)]
    data = file_bytes([",".join(columns), *rows])
    # When it is delivered with runs and row by row, in batches of 8 rows
    by_runs, by_rows, counting = both_paths(data, destination=destination, max_rows=8)
    # Then the outcomes are the same
    assert counting.forwarded > 0
    assert by_runs.tally["rejected"] > 0
    assert_same_delivery(by_runs, by_rows)


def test_a_run_that_fills_a_batch_by_its_characters_ends_the_chunk_at_the_same_row() -> None:
    # Given 30 clean rows of 26 bytes each (27 with the 1111, prefix... and its \n: 32), and batches of 200 characters
    rows = [f"u{n:02},open,{TS},," for n in range(30)]
    data = file_bytes([",".join(EVENTS), *rows])
    # When it is delivered with runs and row by row
    by_runs, by_rows, _ = both_paths(data, max_chars=200)
    # Then each request ends with the row that brought it to 200 characters, on both paths
    each = len(f"1111,{rows[0]}\n")
    per_request = -(-200 // each)
    assert [len(indexes) for _, _, indexes in by_runs.requests] == [per_request] * (30 // per_request) + (
        [30 % per_request] if 30 % per_request else []
    )
    assert_same_delivery(by_runs, by_rows)


@pytest.mark.parametrize("seed", range(4))
def test_a_second_attempt_after_some_chunks_were_sent_is_delivered_alike(
    small_blocks: Callable[[int], None], small_chunks: None, seed: int
) -> None:
    # Given a fuzzed file whose first attempt got some requests delivered, then one answered "retry" (the message
    # comes back: the ledger holds entries for the chunks sent)
    small_blocks(150)
    rng = random.Random(500 + seed)
    data = file_bytes([",".join(EVENTS), *event_lines(rng, 120)])
    outcomes = []
    for prepare in (
        Counting(APPMETRICA_EVENTS.make_preparer(SETTINGS, NOW)),
        RowByRow(APPMETRICA_EVENTS.make_preparer(SETTINGS, NOW)),
    ):
        ledger = RecordingLedger()
        script = [SendResult(Status.DELIVERED)] * (1 + seed) + [SendResult(Status.RETRY, "AppMetrica answered 503")]
        first = deliver(data, "f.csv", prepare, RecordingSender(max_rows=6, script=script), ledger)
        assert first.must_retry
        # When the file is delivered again from its start with the same ledger
        again = deliver(data, "f.csv", prepare, RecordingSender(max_rows=6), ledger)
        outcomes.append((first, again))
    # Then both attempts are the same with runs and row by row: chunks with an entry rebuilt row by row
    (first_runs, again_runs), (first_rows, again_rows) = outcomes
    assert_same_delivery(first_runs, first_rows)
    assert_same_delivery(again_runs, again_rows)
    assert again_runs.tally["duplicates_skipped"] > 0


def test_rows_changed_since_a_chunk_was_first_sent_are_refused_alike(small_chunks: None) -> None:
    # Given a chunk left *sending* by an attempt that sent only its first 3 rows (the rest were refused then)
    rows = [f"u{n},open,{TS},," for n in range(7)]
    data = file_bytes([",".join(EVENTS), *rows])
    outcomes = []
    for prepare in (
        Counting(APPMETRICA_EVENTS.make_preparer(SETTINGS, NOW)),
        RowByRow(APPMETRICA_EVENTS.make_preparer(SETTINGS, NOW)),
    ):
        ledger = RecordingLedger()
        ledger.begin("s3:bucket/f.csv#0", Entry("sending", lease=0.0, end=7, sent=b"\x07", attempt="dead"))
        # When the file is delivered
        outcomes.append(deliver(data, "f.csv", prepare, RecordingSender(), ledger))
    # Then the same rows are refused (possibly delivered, or changed) with runs and row by row, and nothing is sent
    by_runs, by_rows = outcomes
    assert_same_delivery(by_runs, by_rows)
    assert by_runs.requests == []
    assert sorted(index for index, _, _ in by_runs.rejected) == [1, 2, 3, 4, 5, 6, 7]


def test_a_text_cell_with_many_brackets_goes_out_as_it_does_row_by_row() -> None:
    # Given a run whose first row has 40 brackets in its event name and quotes around cells that need none (the row
    # alone is not forwarded as written: its line holds more brackets than JSON may nest, so it is prepared as a dict)
    rows = [f'"u0","{"[" * 40}",{TS},"",'] + [f"u{n},open,{TS},foreground," for n in range(1, 5)]
    data = file_bytes([",".join(EVENTS), *rows])
    # When it is delivered with runs and row by row
    by_runs, by_rows, _ = both_paths(data)
    # Then the request is the same: the first row re-written from its fields, the rest after it
    assert_same_delivery(by_runs, by_rows)
    assert sent_records(by_runs)[0] == (
        1,
        {"application_id": "1111", "profile_id": "u0", "event_name": "[" * 40, "event_timestamp": TS},
    )


def test_an_unreadable_file_fails_after_the_same_rows_were_delivered(small_chunks: None) -> None:
    # Given a file that is not UTF-8 after its 15th row
    rows = [f"u{n},open,{TS},,".encode() for n in range(20)]
    rows[15] = b"u15,\xff,1,,"
    data = b"\n".join([",".join(EVENTS).encode(), *rows]) + b"\n"
    # When it is delivered with runs and row by row
    by_runs, by_rows, _ = both_paths(data)
    # Then both deliver the 15 rows before it and stop with the same error
    assert by_runs.failure == "the file is not valid UTF-8 after row 15"
    assert [i for _, _, indexes in by_runs.requests for i in indexes] == list(range(1, 16))
    assert_same_delivery(by_runs, by_rows)


def test_a_gzipped_file_opened_again_at_a_mark_stands_at_that_mark_before_its_first_row() -> None:
    # Given a gzipped file's mark after its 14th row (no offset: it is read again, the rows before skipped)
    data = gzipped(file_bytes([",".join(EVENTS)] + [f"u{n},open,{TS},," for n in range(30)]))
    mark = {"index": 14, "offset": -1}
    # When it is opened again there
    for read in (read_rows(data, "f.csv.gz", mark), read_runs(data, "f.csv.gz", take_all, mark)):
        # Then its mark before the first row is that mark (a delivery names its first chunk by it), and the rows
        # go on from the 15th
        assert read.first_mark == mark
        assert read.rows[0][0] == 15


@pytest.mark.parametrize("name", ["f.csv", "f.csv.gz"])
def test_the_next_part_of_a_file_delivers_every_row_after_the_mark_alike(small_chunks: None, name: str) -> None:
    # Given a file whose first part delivered its first 14 rows, in chunks of 7 (their entries in the ledger)
    rows = [f"u{n},open,{TS},," for n in range(30)]
    data, head = file_bytes([",".join(EVENTS), *rows]), file_bytes([",".join(EVENTS), *rows[:14]])
    if name.endswith(".gz"):
        data, head = gzipped(data), gzipped(head)
    mark = read_rows(data, name).marks[14]
    outcomes = []
    for prepare in (
        Counting(APPMETRICA_EVENTS.make_preparer(SETTINGS, NOW)),
        RowByRow(APPMETRICA_EVENTS.make_preparer(SETTINGS, NOW)),
    ):
        ledger = RecordingLedger()
        assert deliver(head, name, prepare, RecordingSender(), ledger).tally["delivered"] == 14
        # When the next part is delivered from the mark, with the same ledger
        outcomes.append(deliver(data, name, prepare, RecordingSender(), ledger, start=mark))
    # Then rows 15 to 30 are delivered, none refused, in chunks named by their own first rows, with runs and row
    # by row alike
    by_runs, by_rows = outcomes
    assert_same_delivery(by_runs, by_rows)
    assert by_runs.rejected == []
    assert [i for _, _, indexes in by_runs.requests for i in indexes] == list(range(15, 31))
    assert [key.rsplit("#", 1)[1] for key, state, *_ in by_runs.written[4:] if state == "done"] == ["14", "21"]
