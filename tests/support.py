"""Shared test data and readers: the seed's events sample with its timestamps moved into the Post API window, CSV
records, what was logged, and the functions' EMF lines (read here, apart from the code that writes them)."""

from __future__ import annotations

import csv
import io
import json
import logging
import time
from pathlib import Path
from typing import Any

from courier.observability import FUNCTION_DIMENSION

ROOT = Path(__file__).resolve().parent.parent
SEED_SAMPLE = ROOT / "events" / "appmetrica_events" / "seed_sample.csv"
SEED_TIMESTAMPS = ("1234567890", "1234567891")


def recent(seconds_ago: int = 3600) -> int:
    return int(time.time()) - seconds_ago


def seed_sample_text(first: int, second: int) -> str:
    """The seed's sample body, byte for byte, with its two 2009 timestamps replaced."""
    text = SEED_SAMPLE.read_text(encoding="utf-8")
    old_first, old_second = SEED_TIMESTAMPS
    return text.replace("," + old_first + "\n", f",{first}\n").replace("," + old_second + "\n", f",{second}\n")


def csv_records(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text, newline="")))


def everything_logged(records: list[logging.LogRecord]) -> str:
    """Every log record with all its fields (message, extras, exception text), as one text to scan."""
    return "\n".join(json.dumps({**vars(record), "message": record.getMessage()}, default=str) for record in records)


def emf_lines(output: str) -> list[dict[str, Any]]:
    """The EMF lines among what the functions printed (their JSON logs are there too)."""
    lines = []
    for line in output.splitlines():
        try:
            loaded = json.loads(line)
        except ValueError:
            continue
        if isinstance(loaded, dict) and "_aws" in loaded:
            lines.append(loaded)
    return lines


def totals(lines: list[dict[str, Any]], function: str) -> dict[str, float]:
    """Each metric's sum over the function's EMF lines."""
    summed: dict[str, float] = {}
    for line in lines:
        if line.get(FUNCTION_DIMENSION) != function:
            continue
        for definition in line["_aws"]["CloudWatchMetrics"][0]["Metrics"]:
            values = line[definition["Name"]]
            summed[definition["Name"]] = summed.get(definition["Name"], 0) + sum(
                values if isinstance(values, list) else [values]
            )
    return summed


# What `make demo` accounts for, door by door: (function, door, delivered, rejected, retrying)
DEMO_ROWS = [
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
    ("altcraft_profile_add", "S3 file", 3, 0, 0),
    ("altcraft_profile_add", "SQS message", 1, 1, 0),
    ("altcraft_profile_add", "HTTPS (202)", 1, 1, 0),
    ("altcraft_workflow_start", "S3 file", 2, 1, 0),
    ("altcraft_workflow_start", "SQS message", 1, 1, 0),
    ("altcraft_workflow_start", "HTTPS (202)", 1, 1, 0),
    ("altcraft_profile_delete", "S3 file", 2, 1, 0),
    ("altcraft_profile_delete", "SQS message", 1, 1, 0),
    ("altcraft_profile_delete", "HTTPS (202)", 1, 1, 0),
    ("altcraft_subscription_set", "S3 file", 1, 1, 0),
    ("altcraft_subscription_set", "SQS message", 1, 1, 0),
    ("altcraft_subscription_set", "HTTPS (202)", 1, 1, 0),
    ("altcraft_goal_register", "S3 file", 2, 1, 0),
    ("altcraft_goal_register", "SQS message", 1, 1, 0),
    ("altcraft_goal_register", "HTTPS (202)", 1, 1, 0),
]
