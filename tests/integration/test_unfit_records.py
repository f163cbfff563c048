"""Records that cannot be sent as they are — a lone surrogate, a Unicode non-character, NaN or ±Infinity — are
refused one by one with a reason through the SQS door, before anything is sent; the rest of the message goes on,
and the rejected file is valid UTF-8 with the record in it."""

from __future__ import annotations

import json
from typing import Any

import pytest

from courier.sources.records import UNFIT_NUMBER
from functions.appmetrica_events.app import lambda_handler
from sandbox.appmetrica_emulator import AppMetricaEmulator
from sandbox.lambda_runtime import LambdaContext, api_gateway_event, drain, sqs_event
from tests.conftest import APPLICATION_ID, Aws
from tests.support import csv_records, recent

FUNCTION = "appmetrica_events"
QUEUE_ARN = f"arn:aws:sqs:us-east-1:123456789012:{FUNCTION}"


def handle(text: str, message_id: str = "m-1") -> dict[str, Any]:
    message = {"MessageId": message_id, "ReceiptHandle": "r", "Body": text, "Attributes": {}}
    answer: dict[str, Any] = lambda_handler(sqs_event([message], QUEUE_ARN), LambdaContext())
    return answer


def rejected(aws: Aws, message_id: str = "m-1") -> list[dict[str, str]]:
    [key] = [key for key in aws.keys(f"rejected/sqs/{FUNCTION}/") if key.endswith(f"/{message_id}.csv")]
    body: bytes = aws.s3.get_object(Bucket=aws.stack.bucket, Key=key)["Body"].read()
    return csv_records(body.decode("utf-8"))  # strict: the file is valid UTF-8


NON_CHARACTER = "holds a lone surrogate or a Unicode non-character"
UNFIT = [
    pytest.param('"session_id": "u\\ud800"', "session_id: holds a lone surrogate", id="lone-high-surrogate"),
    pytest.param('"session_id": "u\\udfff"', "session_id: holds a lone surrogate", id="lone-low-surrogate"),
    pytest.param('"event_name": "\\uffff"', f"event_name: {NON_CHARACTER}", id="uffff"),
    pytest.param('"event_name": "\\ufdd0"', f"event_name: {NON_CHARACTER}", id="ufdd0"),
    pytest.param('"event_name": "\\ud83f\\udffe"', "event_name: holds a lone", id="u1fffe"),
    pytest.param('"event_json": {"k": ["\\ud800"]}', "event_json: holds a lone surrogate", id="nested-surrogate"),
    pytest.param('"\\ud800": 1', "record: a field name holds a lone surrogate", id="surrogate-name"),
    pytest.param('"event_timestamp": NaN', "event_timestamp: NaN and Infinity are not JSON numbers", id="nan"),
    pytest.param('"mcc": Infinity', "mcc: NaN and Infinity are not JSON numbers", id="infinity"),
    pytest.param('"mcc": -Infinity', "mcc: NaN and Infinity are not JSON numbers", id="minus-infinity"),
    pytest.param('"mcc": 1e400', "mcc: NaN and Infinity are not JSON numbers", id="overflow"),
    pytest.param('"event_json": {"level": NaN}', "event_json: NaN and Infinity", id="nested-nan"),
]


@pytest.mark.parametrize(("field", "reason"), UNFIT)
def test_an_unfit_record_is_refused_alone_with_a_reason(
    aws: Aws, appmetrica: AppMetricaEmulator, field: str, reason: str
) -> None:
    # Given a message with a good record and one holding an unfit value
    ts = recent()
    good = json.dumps({"profile_id": "good", "event_name": "open", "event_timestamp": ts})
    unfit = '{"profile_id": "bad", "event_name": "open", "event_timestamp": %d, %s}' % (ts, field)  # noqa: UP031
    # When the function handles it
    answer = handle(f"[{good}, {unfit}]")
    # Then the good record is delivered, the message is done, and the unfit one is in rejected/ with its reason
    assert answer == {"batchItemFailures": []}
    assert [row["profile_id"] for row in appmetrica.events(APPLICATION_ID)] == ["good"]
    [row] = rejected(aws)
    assert row["error"].startswith(reason)
    assert '"bad"' in row["record"]


def test_a_surrogate_in_a_refused_record_is_kept_as_its_escape(aws: Aws, appmetrica: AppMetricaEmulator) -> None:
    assert handle('{"profile_id": "u\\ud800", "event_name": "open"}') == {"batchItemFailures": []}
    [row] = rejected(aws)
    assert "u\\ud800" in row["record"]
    assert appmetrica.requests == []


def test_nan_inside_a_json_text_field_is_not_valid_json(aws: Aws, appmetrica: AppMetricaEmulator) -> None:
    # event_json given as text, with NaN inside: it would reach the API as invalid JSON
    record = {"profile_id": "u", "event_name": "open", "event_timestamp": recent(), "event_json": '{"level": NaN}'}
    assert handle(json.dumps(record)) == {"batchItemFailures": []}
    assert appmetrica.requests == []
    [row] = rejected(aws)
    assert row["error"] == "event_json: is not valid JSON"


def test_emoji_and_ordinary_text_still_pass(aws: Aws, appmetrica: AppMetricaEmulator) -> None:
    record = '{"profile_id": "\\ud83d\\ude00 Ёж", "event_name": "e1000", "event_timestamp": %d}' % recent()  # noqa: UP031
    assert handle(record) == {"batchItemFailures": []}
    assert [row["profile_id"] for row in appmetrica.events(APPLICATION_ID)] == ["😀 Ёж"]
    assert aws.keys("rejected/") == []


def test_a_formula_column_name_is_escaped_in_the_rejected_file_header(aws: Aws, appmetrica: AppMetricaEmulator) -> None:
    # Given a CSV file whose header has a column a spreadsheet would run as a formula, and a row that is refused
    key = "appmetrica_events/formula.csv"
    body = (
        f'profile_id,event_name,event_timestamp,"=HYPERLINK(""http://x"")"\nu,open,yesterday,1\nv,open,{recent()},2\n'
    )
    aws.s3.put_object(Bucket=aws.stack.bucket, Key=key, Body=body.encode())
    etag = aws.s3.head_object(Bucket=aws.stack.bucket, Key=key)["ETag"].strip('"')
    notification = {
        "Records": [
            {
                "eventSource": "aws:s3",
                "eventName": "ObjectCreated:Put",
                "s3": {"bucket": {"name": aws.stack.bucket}, "object": {"key": key, "eTag": etag}},
            }
        ]
    }
    assert handle(json.dumps(notification)) == {"batchItemFailures": []}
    # Then the rejected file's header cell is quoted like a data cell would be
    header = aws.object_text(f"rejected/{key}.csv").splitlines()[0]
    assert header == 'profile_id,event_name,event_timestamp,"\'=HYPERLINK(""http://x"")",error'


BIG = [
    pytest.param('"mcc": ' + "9" * 4000, "mcc: a whole number beyond 64 bits", id="4000-digit-mcc"),
    pytest.param('"event_json": {"n": -9223372036854775809}', "event_json: a whole number beyond 64", id="below-int64"),
]


@pytest.mark.parametrize(("field", "reason"), BIG)
def test_a_whole_number_beyond_64_bits_is_refused_alone(
    aws: Aws, appmetrica: AppMetricaEmulator, field: str, reason: str
) -> None:
    # Given a message with a good record and one holding a number no field of the API holds
    ts = recent()
    good = json.dumps({"profile_id": "good", "event_name": "open", "event_timestamp": ts})
    big = '{"profile_id": "bad", "event_name": "open", "event_timestamp": %d, %s}' % (ts, field)  # noqa: UP031
    # When the function handles it
    assert handle(f"[{good}, {big}]") == {"batchItemFailures": []}
    # Then only the good record is sent, and the other is refused with the reason
    assert [row["profile_id"] for row in appmetrica.events(APPLICATION_ID)] == ["good"]
    [row] = rejected(aws)
    assert row["error"].startswith(reason)


RAW_NON_CHARACTER = pytest.param('"event_name": "\ufffe"', f"event_name: {NON_CHARACTER}", id="raw-ufffe")


@pytest.mark.parametrize("suffix", [".jsonl", ".json"])
@pytest.mark.parametrize(("field", "reason"), [*UNFIT, RAW_NON_CHARACTER])
def test_a_json_file_refuses_an_unfit_record_alone(
    aws: Aws, appmetrica: AppMetricaEmulator, suffix: str, field: str, reason: str
) -> None:
    # Given a file of JSON lines (or an array) with a good record and one holding an unfit value
    ts = recent()
    good = json.dumps({"profile_id": "good", "event_name": "open", "event_timestamp": ts})
    unfit = '{"profile_id": "bad", "event_name": "open", "event_timestamp": %d, %s}' % (ts, field)  # noqa: UP031
    body = f"{good}\n{unfit}\n" if suffix == ".jsonl" else f"[{good}, {unfit}]"
    key = f"{FUNCTION}/unfit{suffix}"
    # When it is dropped in the bucket and the function reads its queue
    aws.s3.put_object(Bucket=aws.stack.bucket, Key=key, Body=body.encode("utf-8", "surrogatepass"))
    drain(aws.sqs, aws.queue_url(FUNCTION), lambda_handler)
    # Then the good record is delivered, and the unfit one is refused with its reason before anything is sent
    report = json.loads(aws.object_text(f"reports/{key}.json"))
    assert (report["delivered"], report["rejected"]) == (1, 1)
    assert [row["profile_id"] for row in appmetrica.events(APPLICATION_ID)] == ["good"]
    [row] = csv_records(aws.object_text(f"rejected/{key}.csv"))
    # (a JSON line with NaN or Infinity is refused whole, as it is read: the reason names the line, not a field)
    whole_line = suffix == ".jsonl" and "NaN and Infinity" in reason
    assert row["error"].startswith(f"line: {UNFIT_NUMBER}" if whole_line else reason)


def test_an_https_csv_body_refuses_a_row_with_a_non_character_alone(aws: Aws, appmetrica: AppMetricaEmulator) -> None:
    # Given a CSV body whose second row holds U+FFFE (valid UTF-8, but no text a destination should get)
    ts = recent()
    body = f"profile_id,event_name,event_timestamp\ngood,open,{ts}\nbad,op\ufffeen,{ts}\n"
    event = api_gateway_event("/appmetrica/events", body.encode(), content_type="text/csv", query={"mode": "sync"})
    # When it is posted to the HTTPS door
    answer = json.loads(lambda_handler(event, LambdaContext())["body"])
    # Then the good row is delivered and the other refused with the reason, by its index
    assert [row["profile_id"] for row in appmetrica.events(APPLICATION_ID)] == ["good"]
    [refused] = answer["rejected"]
    assert refused["index"] == 1
    assert refused["errors"][0].startswith(f"event_name: {NON_CHARACTER}")
