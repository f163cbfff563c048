"""AppMetrica profiles from a block of a CSV file at once (a CsvRun): the lines a run gives are exactly those the
batch writes for the same rows prepared one by one, and the run stops at the first row that must go alone."""

from __future__ import annotations

import csv
import random
import time
from typing import Any

import pytest

from courier.destinations.appmetrica.csv_batch import CsvBatch, csv_cell
from courier.destinations.appmetrica.profiles import ProfileRows, make_profile_preparer
from courier.model import CsvRow, CsvRun
from courier.settings import Settings

HEADER = ("profile_id", "attributes.level", "phone", "email", "telegram")
LINES = [
    "crm-1,gold,+7 (916) 017-00-17,User.17+x@GoogleMail.com,@User17",
    'crm-2,"say ""hi"", then",+79160000002,b@example.com,',
    "crm-3,,,c@example.com,@c",
    "crm-4,silver,,,@d",
]


def preparer() -> ProfileRows:
    return make_profile_preparer(Settings(APPMETRICA_APPLICATION_ID="1111"), time.time())


def run_of(lines: list[str], header: tuple[str, ...] = HEADER) -> CsvRun:
    """The run a file source gives for these lines: cells a column at a time, each line ending in \\n."""
    rows = list(csv.reader(lines))
    taken: list[int] = []
    return CsvRun(header, 1, list(zip(*rows, strict=True)), [(line + "\n").encode() for line in lines], 0, taken.append)


def body_row_by_row(lines: list[str], header: tuple[str, ...] = HEADER) -> bytes:
    prepare, batch = preparer(), CsvBatch("1111")
    for index, line in enumerate(lines, start=1):
        fields, notes = prepare(CsvRow(header, next(csv.reader([line])), line.encode()))
        assert fields is not None
        assert notes == []
        batch.add(fields, index)
    return bytes(batch.body())


def test_a_run_gives_the_lines_the_batch_writes_row_by_row() -> None:
    # Given rows with hashes to make, a quoted attribute and blank cells
    run = run_of(LINES)
    # When the run is prepared at once and put into a batch
    lines = preparer().run(run, len(LINES))
    assert lines is not None
    batch = CsvBatch(lines.key)
    added = batch.add_lines(lines, 1, 100, 10**9)
    # Then every row went, under the configured application, and the body is byte for byte the row-by-row one
    assert (added, lines.key, lines.prefix) == (4, "1111", b"")
    assert lines.columns == ("application_id", "profile_id", "attributes")
    assert bytes(batch.body()) == body_row_by_row(LINES)
    assert list(batch.indexes) == [1, 2, 3, 4]


def test_a_run_stops_before_a_row_with_a_note_and_gives_nothing_when_the_first_must_go_alone() -> None:
    # Given a run whose third row has an invalid phone (sent without it, with a note)
    noted = [*LINES[:2], "crm-5,gold,not a phone,e@example.com,", *LINES[2:]]
    prepare = preparer()
    # When it is prepared at once
    lines = prepare.run(run_of(noted), len(noted))
    # Then only the two rows before it come as lines
    assert lines is not None
    assert len(lines.lines) == 2
    assert b"".join(lines.lines) == body_row_by_row(noted[:2]).split(b"\n", 1)[1]
    # And a run that starts at that row gives nothing: the row goes alone, with its note
    rest = run_of(noted)
    rest.start = 2
    assert prepare.run(rest, 3) is None


def test_a_run_stops_where_the_application_changes_and_honours_the_count() -> None:
    # Given rows that name their application, the second another one
    header = ("application_id", *HEADER)
    rows = ["7," + LINES[0], "8," + LINES[2], "8," + LINES[3]]
    prepare = preparer()
    # When the run is prepared at once
    lines = prepare.run(run_of(rows, header), 3)
    # Then only the first row comes, for its own application's batch
    assert lines is not None
    assert (len(lines.lines), lines.key) == (1, "7")
    assert lines.columns == ("application_id", "profile_id", "attributes")
    # And from the second row on, at most the count asked for
    rest = run_of(rows, header)
    rest.start = 1
    again = prepare.run(rest, 1)
    assert again is not None
    assert (len(again.lines), again.key) == (1, "8")


def test_a_run_writes_every_row_s_ids_in_its_first_row_s_order() -> None:
    # Given rows that give their application id after the profile_id, the first blank (the configured id), the second
    # the configured id itself
    header = ("profile_id", "application_id", "attributes.level")
    rows = ["crm-1,,gold", "crm-2,1111,silver"]
    # When the run is prepared at once
    lines = preparer().run(run_of(rows, header), 2)
    # Then both go in the first row's order: the application id first, as the general path gives a blank one
    assert lines is not None
    assert lines.columns == ("application_id", "profile_id", "attributes")
    assert lines.lines == [b'1111,crm-1,"{""level"":""gold""}"\n', b'1111,crm-2,"{""level"":""silver""}"\n']


def test_a_header_without_a_plan_gives_no_run() -> None:
    # Given a header with the same column twice
    header = ("profile_id", "email", "email")
    # When a run of it is prepared
    lines = preparer().run(run_of(["crm-1,a@example.com,b@example.com"], header), 1)
    # Then nothing comes as lines: each row goes by the general path
    assert lines is None


# Cells a fuzzed file draws from, column by column: most rows go as runs, some need the general path's word
CELLS: dict[str, list[str]] = {
    "profile_id": ["crm-1", "crm-2", "crm-3", "a,b", 'say "x"', "юзер", "", "p" * 200, "p" * 201],
    "application_id": ["1111", "", "7", "8", "0", "x7", " 7", "007"],  # 1111 is the configured one
    "attributes.level": ["gold", "gold", "", 'a "quoted" one', "таб\tлица", "\\", "l" * 200, "l" * 201],
    "attributes.visits:number": ["3", "3", "", "-1.5", "x", "1e999"],
    "phone": ["+7 (916) 017-00-17", "89160000002", "", "   ", "not a phone", "+79160000002;89160000003", "A" * 64],
    "email": ["User.17+x@GoogleMail.com", "b@yandex.by", "", "no-at", "a@b.co;a@b.co", "  c@example.com "],
    "telegram": ["@User17", "", "x", "   "],
    "appmetrica_device_id": ["", "", "", "", "", "12345"],
    "attributes": ["", "", "", "", "", '{"a":1}'],
}
HEADERS = [
    ("profile_id", "attributes.level", "phone", "email", "telegram"),
    ("application_id", "profile_id", "attributes.visits:number", "email"),
    ("profile_id", "application_id", "attributes.level", "phone"),
    ("phone", "profile_id", "appmetrica_device_id", "attributes", "telegram", "attributes.level"),
]


def add_row(batches: dict[str, CsvBatch], fields: dict[str, Any] | None, index: int) -> None:
    """A row prepared alone into its application's batch (nothing for a refused one)."""
    if fields is not None:
        batches.setdefault(fields["application_id"], CsvBatch(fields["application_id"])).add(fields, index)


def delivered_by_runs(prepare: ProfileRows, header: tuple[str, ...], lines: list[str]) -> tuple[dict[str, bytes], int]:
    """The rows as the delivery takes them: a run from each row on, or that row alone when the run gives nothing
    (or a batch takes none of it); the bodies by application, and how many rows went as runs."""
    batches: dict[str, CsvBatch] = {}
    start, by_runs = 0, 0
    run = run_of(lines, header)
    while start < len(lines):
        run.start = start
        forwarded = prepare.run(run, len(lines) - start)
        if forwarded is not None:
            batch = batches.setdefault(forwarded.key, CsvBatch(forwarded.key))
            if added := batch.add_lines(forwarded, start + 1, 10**6, 10**9):
                start, by_runs = start + added, by_runs + added
                continue
        fields, _ = prepare(CsvRow(header, next(csv.reader([lines[start]])), lines[start].encode()))
        add_row(batches, fields, start + 1)
        start += 1
    return {key: bytes(batch.body()) for key, batch in batches.items()}, by_runs


def delivered_as_dicts(header: tuple[str, ...], lines: list[str]) -> dict[str, bytes]:
    """The same rows, each a plain dict of its fields: the general path alone."""
    prepare, batches = preparer(), dict[str, CsvBatch]()
    for index, cells in enumerate(csv.reader(lines), start=1):
        fields, _ = prepare(dict(zip(header, cells, strict=True)))
        add_row(batches, fields, index)
    return {key: bytes(batch.body()) for key, batch in batches.items()}


@pytest.mark.parametrize("seed", range(12))
def test_fuzzed_files_go_out_by_runs_as_the_general_path_sends_them(seed: int) -> None:
    # Given a file of rows drawn from usual cells and, more or less often, cells only the general path can tell
    rng = random.Random(seed)
    header, odd = HEADERS[seed % len(HEADERS)], (0.003, 0.03, 0.15)[seed // len(HEADERS) % 3]  # cells not usual
    clean = {column: cells[:2] for column, cells in CELLS.items()}
    lines = [
        ",".join(csv_cell(rng.choice((CELLS if rng.random() < odd else clean)[column])) for column in header)
        for _ in range(rng.randrange(50, 400))
    ]
    # When it is delivered by runs, and again as plain dicts by the general path
    by_runs, rows_by_runs = delivered_by_runs(preparer(), header, lines)
    # Then every application's request body is the same byte for byte, and runs took a good part of the rows
    assert by_runs == delivered_as_dicts(header, lines)
    assert rows_by_runs > len(lines) // 4
