"""`make demo` plays the sample data through every door and accounts for every record."""

from __future__ import annotations

import sys
from contextlib import redirect_stdout
from pathlib import Path

from cli.status import Health, on_sandbox
from demo.play import Row, run
from sandbox.runner import Sandbox
from tests.support import DEMO_ROWS


def test_the_demo_delivers_and_explains_every_sample_record(tmp_path: Path) -> None:
    # Given the functions' output (their logs and EMF lines) going to a file, as `make demo` keeps it
    log = tmp_path / "functions.log"
    healths: list[Health] = []

    def take_status(sandbox: Sandbox) -> None:
        sys.stdout.flush()
        healths.extend(on_sandbox(sandbox.sqs, log, hours=1)[0])

    # When the demo plays the samples, and `courier status` looks at the sandbox before it stops
    with log.open("w", encoding="utf-8") as handle, redirect_stdout(handle):
        rows = run(take_status)
    # Then every record is accounted for, door by door
    assert [(row.function, row.door, row.delivered, row.rejected, row.retrying) for row in rows] == DEMO_ROWS
    assert all(isinstance(row, Row) and row.report.startswith("s3://courier-sandbox-data/") for row in rows)
    # And the status, read from the functions' own metrics, counts per function what the doors' files say
    by_function = {h.function: (h.delivered, h.rejected, h.pending, h.queued, h.dead_letters) for h in healths}
    assert by_function == {
        row.function: (
            sum(r.delivered for r in rows if r.function == row.function),
            sum(r.rejected for r in rows if r.function == row.function),
            0,
            0,
            0,
        )
        for row in rows
    }
