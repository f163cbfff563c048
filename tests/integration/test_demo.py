"""`make demo` plays the sample data through every door and accounts for every record."""

from __future__ import annotations

import sys
from contextlib import redirect_stdout
from pathlib import Path

from sandbox.demo import Row, run
from sandbox.runner import Sandbox
from sandbox.status import Health, on_sandbox


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
    assert [(row.function, row.door, row.delivered, row.rejected, row.retrying) for row in rows] == [
        ("appmetrica_events", "S3 file", 2, 1, 0),
        ("appmetrica_events", "SQS message", 1, 1, 0),
        ("appmetrica_events", "HTTPS (202)", 1, 1, 0),
        ("appmetrica_profiles", "S3 file", 3, 0, 0),
        ("appmetrica_profiles", "SQS message", 1, 1, 0),
        ("appmetrica_profiles", "HTTPS (202)", 1, 1, 0),
        ("appmetrica_profiles", "S3 file (mapping crm)", 2, 1, 0),
        ("appmetrica_profiles", "SQS message (mapping crm)", 1, 1, 0),
        ("appmetrica_profiles", "HTTPS (202) (mapping crm)", 1, 1, 0),
        ("appmetrica_revenue", "S3 file", 2, 1, 0),
        ("appmetrica_revenue", "SQS message", 1, 1, 0),
        ("appmetrica_revenue", "HTTPS (202)", 1, 1, 0),
        ("appmetrica_revenue", "S3 file (mapping payments)", 2, 1, 0),
        ("appmetrica_revenue", "SQS message (mapping payments)", 1, 1, 0),
        ("appmetrica_revenue", "HTTPS (202) (mapping payments)", 1, 1, 0),
        ("appmetrica_ad_revenue", "S3 file", 2, 1, 0),
        ("appmetrica_ad_revenue", "SQS message", 1, 1, 0),
        ("appmetrica_ad_revenue", "HTTPS (202)", 1, 1, 0),
        ("appmetrica_ecommerce", "S3 file", 2, 1, 0),
        ("appmetrica_ecommerce", "SQS message", 1, 1, 0),
        ("appmetrica_ecommerce", "HTTPS (202)", 1, 1, 0),
        ("altcraft_profile_import", "S3 file", 2, 1, 0),
        ("altcraft_profile_import", "SQS message", 1, 1, 0),
        ("altcraft_profile_import", "HTTPS (202)", 1, 1, 0),
        ("altcraft_profile_import", "S3 file (mapping crm)", 2, 1, 0),
        ("altcraft_profile_import", "SQS message (mapping crm)", 1, 1, 0),
        ("altcraft_profile_import", "HTTPS (202) (mapping crm)", 1, 1, 0),
        ("altcraft_profile_update", "S3 file", 2, 0, 0),
        ("altcraft_profile_update", "SQS message", 1, 1, 0),
        ("altcraft_profile_update", "HTTPS (202)", 1, 1, 0),
        ("altcraft_import_trigger", "S3 file", 2, 1, 0),
        ("altcraft_import_trigger", "SQS message", 1, 1, 0),
        ("altcraft_import_trigger", "HTTPS (202)", 1, 1, 0),
    ]
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
