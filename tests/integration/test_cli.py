"""The `courier` command line: `send --dry-run` and `--live` against the emulator, `replay` against moto."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from courier.destinations.appmetrica.revenue import APPMETRICA_REVENUE
from sandbox.appmetrica_emulator import AppMetricaEmulator
from sandbox.cli import main
from sandbox.runner import APPLICATION_ID
from tests.conftest import Aws


def test_courier_replay_moves_dead_letters_back(aws: Aws) -> None:
    # Given two messages in a function's dead-letter queue
    queue, dlq = aws.queue_url("appmetrica_profiles"), aws.dlq_url("appmetrica_profiles")
    aws.sqs.purge_queue(QueueUrl=queue)
    for n in range(2):
        aws.sqs.send_message(QueueUrl=dlq, MessageBody=json.dumps({"profile_id": f"r{n}"}))
    lines: list[str] = []
    # When `courier replay` runs
    assert main(["replay", "appmetrica_profiles", "--queue-url", queue, "--dlq-url", dlq], out=lines.append) == 0
    # Then both are on the queue and none is left in the dead-letter queue
    moved = aws.sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10)["Messages"]
    assert sorted(json.loads(m["Body"])["profile_id"] for m in moved) == ["r0", "r1"]
    assert aws.sqs.receive_message(QueueUrl=dlq).get("Messages", []) == []
    assert lines == ["moved 2 message(s) from the dead-letter queue back to appmetrica_profiles's queue"]


def events_csv(*profiles: str) -> str:
    ts = int(time.time()) - 60
    return "profile_id,event_name,event_timestamp\n" + "".join(f"{p},open,{ts}\n" for p in profiles)


def test_courier_send_dry_run_sends_nothing_and_says_what_it_would(
    appmetrica: AppMetricaEmulator, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given a file with one good row and one bad row
    path = tmp_path / "events.csv"
    path.write_text(events_csv("d1") + "d2,open,yesterday\n")
    lines: list[str] = []
    # When it is sent with --dry-run
    status = main(["send", "appmetrica_events", str(path), "--dry-run"], out=lines.append)
    # Then nothing reached the API, and the output shows the built rows, the refusal and the counts
    assert appmetrica.requests == []
    assert lines[0] == "would send 1 request(s); the first rows as built:"
    assert lines[1] == "  application_id,profile_id,event_name,event_timestamp"
    assert lines[2].startswith("  1111,d1,open,")
    assert lines[3] == (
        "refused row 2: event_timestamp: must be Unix seconds or an ISO-8601 time such as 2026-11-22T10:00:00Z"
    )
    summary = json.loads(lines[4])
    assert (summary["read"], summary["would_send"], summary["rejected"], status) == (2, 1, 1, 0)


def test_courier_send_live_delivers_to_the_configured_api(appmetrica: AppMetricaEmulator, tmp_path: Path) -> None:
    path = tmp_path / "events.csv"
    path.write_text(events_csv("l1", "l2"))
    lines: list[str] = []
    assert main(["send", "appmetrica_events", str(path), "--live"], out=lines.append) == 0
    assert [row["profile_id"] for row in appmetrica.events(APPLICATION_ID)] == ["l1", "l2"]
    assert json.loads(lines[-1])["delivered"] == 2


def test_courier_fields_prints_the_declared_record_format() -> None:
    # Given the revenue function's declared fields
    printed: list[str] = []
    # When a person asks for its record format
    code = main(["fields", "appmetrica_revenue"], out=printed.append)
    # Then every declared field is listed with its kind, the required ones marked, and the rules follow
    [text] = printed
    assert code == 0
    assert text.startswith("appmetrica_revenue: In-app purchases")
    for declared in APPMETRICA_REVENUE.declared:
        line = next(line for line in text.splitlines() if line.split()[:1] == [declared.name])
        assert declared.kind in line
        assert ("required; " in line) == declared.required
    assert all(f"- {rule}" in text for rule in APPMETRICA_REVENUE.rules)
