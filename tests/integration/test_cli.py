"""The `courier` command line: `send --dry-run` and `--live` against the emulator, `replay` against moto."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from cli.main import main
from courier.destinations.appmetrica.revenue import APPMETRICA_REVENUE
from sandbox.appmetrica_emulator import AppMetricaEmulator
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


EVENTS_MAPPING = """\
fields:
  profile_id: Клиент
  event_name: {from: Событие, trim: true, lower: true}
  event_timestamp:
    from: Время (МСК)
    timestamp: {format: "%d.%m.%Y %H:%M", zone: Europe/Moscow}
constants:
  session_type: foreground
"""


def moscow_minutes_ago(minutes: int) -> str:
    from datetime import datetime
    from zoneinfo import ZoneInfo

    return datetime.fromtimestamp(time.time() - minutes * 60, ZoneInfo("Europe/Moscow")).strftime("%d.%m.%Y %H:%M")


def crm_events(tmp_path: Path) -> tuple[Path, Path]:
    mapping = tmp_path / "crm.yaml"
    mapping.write_text(EVENTS_MAPPING, encoding="utf-8")
    sample = tmp_path / "export.csv"
    sample.write_text(
        f"Клиент,Событие,Время (МСК)\nc1, Open ,{moscow_minutes_ago(5)}\nc2,open,вчера\n", encoding="utf-8"
    )
    return mapping, sample


def test_courier_mapping_check_prints_the_mapped_records_and_every_refusal(
    appmetrica: AppMetricaEmulator, tmp_path: Path
) -> None:
    # Given a mapping of a CRM export with Russian column names, and a sample with one good and one bad row
    mapping, sample = crm_events(tmp_path)
    lines: list[str] = []
    # When the mapping is checked against the sample
    status = main(["mapping", "check", "appmetrica_events", str(mapping), str(sample)], out=lines.append)
    # Then it is valid, the first mapped record is shown as it would be sent, the refusal names the source column
    assert status == 0
    assert lines[0] == f"{mapping}: a valid mapping for appmetrica_events (mapping crm)"
    assert lines[2] == "  application_id,profile_id,event_name,event_timestamp,session_type"
    assert lines[3].startswith("  1111,c1,open,")
    assert lines[3].endswith(",foreground")
    assert (
        lines[4]
        == "refused row 2: Время (МСК): does not match the timestamp format %d.%m.%Y %H:%M (mapped to event_timestamp)"
    )
    assert appmetrica.requests == []


def test_courier_mapping_check_reports_every_problem_with_its_line_and_fails(tmp_path: Path) -> None:
    # Given a mapping with an unknown field and a bad expression
    path = tmp_path / "broken.yaml"
    path.write_text("fields:\n  profile_id: id\n  nick: Ник\n  event_name: {path: 'a.[['}\n", encoding="utf-8")
    lines: list[str] = []
    # When it is checked
    status = main(["mapping", "check", "appmetrica_events", str(path)], out=lines.append)
    # Then each problem is printed with its line, and the exit code says it failed
    assert status == 2
    assert lines == [
        f"{path}: line 3: fields.nick: appmetrica_events has no field nick (see `courier fields`)",
        f"{path}: line 4: fields.event_name.path: is not a JMESPath expression (IncompleteExpressionError)",
    ]


def test_courier_send_with_a_mapping_delivers_the_mapped_records(
    appmetrica: AppMetricaEmulator, tmp_path: Path
) -> None:
    # Given the CRM export and its mapping
    mapping, sample = crm_events(tmp_path)
    lines: list[str] = []
    # When it is sent live through the mapping
    status = main(["send", "appmetrica_events", str(sample), "--live", "--mapping", str(mapping)], out=lines.append)
    # Then the good row arrives in the destination's fields, the bad one is refused
    assert status == 0
    [event] = appmetrica.events(APPLICATION_ID)
    assert (event["profile_id"], event["event_name"], event["session_type"]) == ("c1", "open", "foreground")
    summary = json.loads(lines[-1])
    assert (summary["delivered"], summary["rejected"]) == (1, 1)


def test_courier_send_with_an_invalid_mapping_sends_nothing(appmetrica: AppMetricaEmulator, tmp_path: Path) -> None:
    _, sample = crm_events(tmp_path)
    broken = tmp_path / "broken.yaml"
    broken.write_text("fields: [\n", encoding="utf-8")
    lines: list[str] = []
    assert main(["send", "appmetrica_events", str(sample), "--live", "--mapping", str(broken)], out=lines.append) == 2
    assert lines[0].startswith(f"{broken}: line ")
    assert appmetrica.requests == []


def test_courier_mapping_put_uploads_a_valid_mapping_and_refuses_an_invalid_one(aws: Aws, tmp_path: Path) -> None:
    # Given a valid mapping and an invalid one
    mapping, _ = crm_events(tmp_path)
    broken = tmp_path / "broken.yaml"
    broken.write_text("fields:\n  nick: Ник\n", encoding="utf-8")
    lines: list[str] = []
    # When both are put in the stack's bucket
    put = ["mapping", "put", "appmetrica_events"]
    assert main([*put, str(mapping), "--bucket", aws.stack.bucket], out=lines.append) == 0
    assert main([*put, str(broken), "--bucket", aws.stack.bucket], out=lines.append) == 2
    # Then only the valid one is where the function reads it
    assert aws.keys("mappings/") == ["mappings/appmetrica_events/crm.yaml"]
    assert aws.object_text("mappings/appmetrica_events/crm.yaml") == EVENTS_MAPPING


def test_courier_send_with_a_mapping_on_the_sandbox_drops_the_file_in_the_mappings_folder(tmp_path: Path) -> None:
    # Given the CRM export and its mapping
    mapping, sample = crm_events(tmp_path)
    lines: list[str] = []
    # When it is sent on the embedded sandbox through the mapping
    status = main(["send", "appmetrica_events", str(sample), "--mapping", str(mapping)], out=lines.append)
    # Then the file went under the mapping's folder, the good row was delivered and the bad one refused by name
    report = json.loads(lines[-1])
    assert status == 0
    assert report["source"].endswith("/appmetrica_events/crm/export.csv")
    assert (report["delivered"], report["rejected"]) == (1, 1)
    assert list(report["rejected_reasons"]) == ["Время (МСК)"]
