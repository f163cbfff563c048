"""Metrics: each invocation of a door writes one EMF line (CloudWatch's embedded metric format) to its output, with
the function's name as a dimension and the counts of what it read, delivered, rejected and left pending, and of the
destination's answers."""

from __future__ import annotations

import ast
import gzip
import json
from collections.abc import Iterator
from contextlib import contextmanager
from types import SimpleNamespace
from typing import Any

import pytest

from courier import observability
from courier.doors.messages import ORIGIN_ATTRIBUTE
from courier.http import retrying
from courier.observability import FUNCTION_DIMENSION, METRICS, NAMESPACE, SERVICE
from functions.altcraft_profile_import.app import lambda_handler as altcraft_import
from functions.appmetrica_events.app import lambda_handler as appmetrica_events
from functions.appmetrica_profiles.app import lambda_handler as profiles
from sandbox.altcraft_emulator import AltcraftEmulator
from sandbox.appmetrica_emulator import AppMetricaEmulator
from sandbox.lambda_runtime import LambdaContext, api_gateway_event, drain, poll_once
from tests.conftest import Aws
from tests.support import ROOT, emf_lines, recent, totals

EVENTS = "appmetrica_events"


def settled(aws: Aws, capsys: pytest.CaptureFixture[str]) -> None:
    """The queue emptied of what the stack's creation put there (S3's test event), and the output so far dropped."""
    drain(aws.sqs, aws.queue_url(EVENTS), appmetrica_events)
    capsys.readouterr()


def events(*profiles: str) -> list[dict[str, Any]]:
    return [{"profile_id": p, "event_name": "open", "event_timestamp": recent()} for p in profiles]


def test_an_sqs_batch_writes_one_emf_line_with_the_function_dimension_and_its_counts(
    aws: Aws, appmetrica: AppMetricaEmulator, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given a message with two good events and one without an identifier
    settled(aws, capsys)
    body = json.dumps([*events("a", "b"), {"event_name": "open", "event_timestamp": recent()}])
    aws.sqs.send_message(QueueUrl=aws.queue_url(EVENTS), MessageBody=body)
    # When the function takes the batch
    poll_once(aws.sqs, aws.queue_url(EVENTS), appmetrica_events)
    # Then it wrote one EMF line, in Courier's namespace, with the dimensions service and function
    [line] = emf_lines(capsys.readouterr().out)
    [declaration] = line["_aws"]["CloudWatchMetrics"]
    assert declaration["Namespace"] == NAMESPACE
    assert sorted(declaration["Dimensions"][0]) == sorted([FUNCTION_DIMENSION, "service"])
    assert (line[FUNCTION_DIMENSION], line["service"]) == (EVENTS, SERVICE)
    # And it counted the records and the one request AppMetrica answered 200, with its latency
    counted = totals([line], EVENTS)
    assert counted["RecordsRead"] == 3
    assert counted["RecordsDelivered"] == 2
    assert counted["RecordsRejected"] == counted["RejectedInvalid"] == 1
    assert counted["RecordsPending"] == 0
    assert counted["DestinationAnswers2xx"] == 1
    assert "DestinationLatency" in counted
    assert counted["BytesRead"] == len(body.encode())
    # And every metric it wrote is one the code declares, with the declared unit
    units = {metric.name: metric.unit for metric in METRICS}
    assert {d["Name"]: d["Unit"] for d in declaration["Metrics"]} == {
        d["Name"]: units[d["Name"]] for d in declaration["Metrics"]
    }


def test_a_file_counts_its_rows_and_the_bytes_read_from_s3(
    aws: Aws, appmetrica: AppMetricaEmulator, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given a gzipped file of 3 events, one of them in milliseconds, dropped under the function's prefix
    ts = recent()
    text = f"profile_id,event_name,event_timestamp\na,open,{ts}\nb,open,{ts}\nc,open,{ts * 1000}\n"
    compressed = gzip.compress(text.encode())
    aws.s3.put_object(Bucket=aws.stack.bucket, Key=f"{EVENTS}/metrics.csv.gz", Body=compressed)
    capsys.readouterr()
    # When the function processes its queue
    drain(aws.sqs, aws.queue_url(EVENTS), appmetrica_events)
    # Then its metrics count the file's rows and the compressed bytes it read (and the notification's bytes)
    counted = totals(emf_lines(capsys.readouterr().out), EVENTS)
    assert (counted["RecordsRead"], counted["RecordsDelivered"], counted["RejectedInvalid"]) == (3, 2, 1)
    assert counted["BytesRead"] > len(compressed)


def test_a_refused_key_counts_as_unauthorized_and_leaves_the_records_pending(
    aws: Aws, appmetrica: AppMetricaEmulator, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given AppMetrica refusing the key (403) on the next request
    settled(aws, capsys)
    appmetrica.fail_next(403)
    aws.sqs.send_message(QueueUrl=aws.queue_url(EVENTS), MessageBody=json.dumps(events("a", "b")))
    # When the function takes the message
    poll_once(aws.sqs, aws.queue_url(EVENTS), appmetrica_events)
    # Then the answer counts as a 4xx and as unauthorized, and both records as pending, none delivered
    counted = totals(emf_lines(capsys.readouterr().out), EVENTS)
    assert counted["DestinationAnswers4xx"] == counted["DestinationAnswersUnauthorized"] == 1
    assert (counted["RecordsPending"], counted["RecordsDelivered"]) == (2, 0)


def test_throttling_counts_each_answer_and_the_retry(
    aws: Aws, appmetrica: AppMetricaEmulator, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given AppMetrica throttling (429) the first request, then taking the second
    settled(aws, capsys)
    appmetrica.fail_next(429)
    aws.sqs.send_message(QueueUrl=aws.queue_url(EVENTS), MessageBody=json.dumps(events("a")))
    # When the function takes the message
    poll_once(aws.sqs, aws.queue_url(EVENTS), appmetrica_events)
    # Then one throttled answer, one 2xx and one retry are counted, and the record delivered
    counted = totals(emf_lines(capsys.readouterr().out), EVENTS)
    assert (counted["DestinationAnswersThrottled"], counted["DestinationAnswers2xx"]) == (1, 1)
    assert counted["DestinationRetries"] == 1
    assert counted["RecordsDelivered"] == 1


@pytest.mark.parametrize(
    ("status", "taken", "rejected_as", "answered"),
    [
        (400, False, "RejectedByDestination", "DestinationAnswers4xx"),  # refused: the row is rejected with the answer
        (500, True, "RejectedLostAnswer", "DestinationAnswers5xx"),  # taken, then an error: possibly delivered
    ],
)
def test_a_rejection_is_counted_by_its_reason_and_the_answer_by_its_class(
    aws: Aws,
    appmetrica: AppMetricaEmulator,
    capsys: pytest.CaptureFixture[str],
    status: int,
    taken: bool,
    rejected_as: str,
    answered: str,
) -> None:
    # Given AppMetrica answering the next request with an error (after taking its rows, for a 500)
    settled(aws, capsys)
    appmetrica.fail_next(status, taken=taken)
    aws.sqs.send_message(QueueUrl=aws.queue_url(EVENTS), MessageBody=json.dumps(events("a")))
    # When the function takes the message
    poll_once(aws.sqs, aws.queue_url(EVENTS), appmetrica_events)
    # Then the record is rejected for that reason, and the answer counted in its class
    counted = totals(emf_lines(capsys.readouterr().out), EVENTS)
    assert (counted["RecordsRejected"], counted[rejected_as], counted[answered]) == (1, 1, 1)
    assert counted.get("RejectedInvalid", 0) == 0


def test_the_https_door_counts_what_it_queued_and_what_it_refused(
    aws: Aws, appmetrica: AppMetricaEmulator, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given a webhook call with two good events and one without an identifier
    body = json.dumps([*events("a", "b"), {"event_name": "open", "event_timestamp": recent()}])
    capsys.readouterr()
    # When it is posted
    appmetrica_events(api_gateway_event("/appmetrica/events", body), LambdaContext())
    # Then the door counted three records read, two queued and one rejected as invalid, and the body's bytes
    counted = totals(emf_lines(capsys.readouterr().out), EVENTS)
    assert (counted["RecordsRead"], counted["RecordsQueued"], counted["RejectedInvalid"]) == (3, 2, 1)
    assert counted["BytesRead"] == len(body.encode())


def test_each_function_writes_its_own_name_as_the_dimension(
    aws: Aws, altcraft: AltcraftEmulator, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given the Altcraft import function serving its route, called in sync mode with one profile
    aws.serve("altcraft_profile_import")
    record = {"matching": "email", "email": "a@example.com", "data": {"email": "a@example.com"}}
    capsys.readouterr()
    # When it is posted
    event = api_gateway_event("/altcraft/profiles/import", json.dumps([record]), query={"mode": "sync"})
    altcraft_import(event, LambdaContext())
    # Then its metrics carry its own name, and count the delivery
    lines = emf_lines(capsys.readouterr().out)
    assert [line[FUNCTION_DIMENSION] for line in lines] == ["altcraft_profile_import"]
    assert totals(lines, "altcraft_profile_import")["RecordsDelivered"] == 1


def test_a_replayed_message_counts_what_went_out_before_as_duplicates(
    aws: Aws, appmetrica: AppMetricaEmulator, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given a message delivered, then a copy of it put back as `courier replay` does (its original's id attached)
    settled(aws, capsys)
    body = json.dumps(events("a", "b"))
    first = aws.sqs.send_message(QueueUrl=aws.queue_url(EVENTS), MessageBody=body)["MessageId"]
    poll_once(aws.sqs, aws.queue_url(EVENTS), appmetrica_events)
    origin = {ORIGIN_ATTRIBUTE: {"DataType": "String", "StringValue": first}}
    aws.sqs.send_message(QueueUrl=aws.queue_url(EVENTS), MessageBody=body, MessageAttributes=origin)
    capsys.readouterr()
    # When the function takes the copy
    poll_once(aws.sqs, aws.queue_url(EVENTS), appmetrica_events)
    # Then its records count as read and skipped as duplicates, none delivered again
    counted = totals(emf_lines(capsys.readouterr().out), EVENTS)
    assert (counted["RecordsRead"], counted["DuplicatesSkipped"], counted["RecordsDelivered"]) == (2, 2, 0)


def test_first_party_values_left_out_are_counted(
    aws: Aws, appmetrica: AppMetricaEmulator, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given the profiles function, and a profile with one valid e-mail and one that is not an address
    aws.serve("appmetrica_profiles")
    record = {"profile_id": "p1", "email": ["ivan.petrov@ya.ru", "not an address"]}
    capsys.readouterr()
    # When it is posted
    profiles(api_gateway_event("/appmetrica/profiles", json.dumps([record])), LambdaContext())
    # Then the profile is queued, and the value left out counted
    counted = totals(emf_lines(capsys.readouterr().out), "appmetrica_profiles")
    assert (counted["RecordsQueued"], counted["FirstPartyValuesDropped"]) == (1, 1)


class RecordedSubsegments:
    """A tracer's provider that keeps each subsegment's name and annotations (the X-Ray SDK's, in Lambda)."""

    def __init__(self) -> None:
        self.opened: list[tuple[str, dict[str, Any]]] = []

    @contextmanager
    def in_subsegment(self, name: str) -> Iterator[Any]:
        annotations: dict[str, Any] = {}
        self.opened.append((name, annotations))
        yield SimpleNamespace(put_annotation=annotations.__setitem__)


def test_each_destination_request_is_a_subsegment_annotated_with_its_endpoint_and_answer_class(
    aws: Aws, appmetrica: AppMetricaEmulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a tracer that records its subsegments, and AppMetrica throttling the first request
    recorded = RecordedSubsegments()
    monkeypatch.setattr(retrying, "subsegment", recorded.in_subsegment)
    appmetrica.fail_next(429)
    aws.sqs.send_message(QueueUrl=aws.queue_url(EVENTS), MessageBody=json.dumps(events("a")))
    # When the function delivers the message
    drain(aws.sqs, aws.queue_url(EVENTS), appmetrica_events)
    # Then each request was a subsegment annotated with the endpoint's path and the answer's class, and nothing else
    # (no key, no value)
    endpoint = "/logs/v1/import/events.csv"
    assert recorded.opened == [
        ("## destination request", {"endpoint": endpoint, "answer": "DestinationAnswersThrottled"}),
        ("## destination request", {"endpoint": endpoint, "answer": "DestinationAnswers2xx"}),
    ]


@pytest.mark.parametrize(
    ("status", "classes"),
    [
        (200, ["DestinationAnswers2xx"]),
        (302, ["DestinationAnswers3xx"]),
        (400, ["DestinationAnswers4xx"]),
        (401, ["DestinationAnswers4xx", "DestinationAnswersUnauthorized"]),
        (403, ["DestinationAnswers4xx", "DestinationAnswersUnauthorized"]),
        (420, ["DestinationAnswersThrottled"]),
        (429, ["DestinationAnswersThrottled"]),
        (503, ["DestinationAnswers5xx"]),
        (None, ["DestinationNetworkErrors"]),
    ],
)
def test_each_answer_counts_in_its_class(status: int | None, classes: list[str]) -> None:
    assert [metric.name for metric in observability.answer_classes(status)] == classes


def test_every_declared_metric_is_counted_somewhere_in_the_code() -> None:
    # Given the names the layer's modules (but the declarations' own) use from courier.observability
    used: set[str] = set()
    for path in (ROOT / "layers" / "common" / "courier").rglob("*.py"):
        if path.name == "observability.py":
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name):
                used.add(node.attr)
            elif isinstance(node, ast.ImportFrom) and node.module == "courier.observability":
                used |= {alias.name for alias in node.names}
    # Then every declared metric is used by one (answer classes through answer_classes, latency by invocation)
    through_helpers = {*observability.ANSWER_CLASSES, observability.ANSWERS_UNAUTHORIZED, observability.REQUEST_LATENCY}
    declared = {name for name, value in vars(observability).items() if isinstance(value, observability.Declared)}
    unused = {name for name in declared if name not in used and getattr(observability, name) not in through_helpers}
    assert unused == set()
    assert set(METRICS) == {getattr(observability, name) for name in declared}


def test_the_declared_names_are_unique_and_cloudwatch_units() -> None:
    assert len({metric.name for metric in METRICS}) == len(METRICS)
    assert {metric.unit for metric in METRICS} <= {"Count", "Milliseconds", "Bytes"}
