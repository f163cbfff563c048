"""The sandbox (moto's server, the emulators, the runner) and the `courier` command line, used as a person would:
boto3 against the sandbox endpoint, HTTP to the local routes, the CLI's arguments."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest
import requests

from cli.main import main, replay
from sandbox.runner import API_KEY, APPLICATION_ID, QUICK_WINDOW, Sandbox


@pytest.fixture(scope="module")
def _running() -> Iterator[Sandbox]:
    with Sandbox(retry_after=0, batching_window=QUICK_WINDOW) as running:
        yield running


@pytest.fixture
def sandbox(_running: Sandbox, monkeypatch: pytest.MonkeyPatch) -> Sandbox:
    """The module's sandbox, its environment and functions set again after the per-test isolation cleared them."""
    for name, value in _running.environment.items():
        monkeypatch.setenv(name, value)
    _running.configure_functions()
    return _running


def events_csv(*profiles: str) -> str:
    ts = int(time.time()) - 60
    return "profile_id,event_name,event_timestamp\n" + "".join(f"{p},open,{ts}\n" for p in profiles)


def received(sandbox: Sandbox) -> list[str]:
    return [row["profile_id"] for row in sandbox.appmetrica.events(APPLICATION_ID)]


def test_a_file_dropped_with_boto3_at_the_sandbox_endpoint_is_delivered(sandbox: Sandbox) -> None:
    # Given a client a person would configure: the sandbox's endpoint, any credentials
    s3 = boto3.client(
        "s3",
        endpoint_url=sandbox.aws_url,
        region_name="us-east-1",
        aws_access_key_id="any",
        aws_secret_access_key="any",
    )
    # When a CSV is copied under the function's prefix
    s3.put_object(Bucket=sandbox.bucket, Key="appmetrica_events/from-boto3.csv", Body=events_csv("b1", "b2").encode())
    # Then the runner hands it to the function and the emulator receives it
    assert sandbox.settle()
    assert {"b1", "b2"} <= set(received(sandbox))
    report = json.loads(
        s3.get_object(Bucket=sandbox.bucket, Key="reports/appmetrica_events/from-boto3.csv.json")["Body"].read()
    )
    assert (report["status"], report["delivered"]) == ("complete", 2)


def test_a_route_called_over_http_is_delivered(sandbox: Sandbox) -> None:
    record = {"profile_id": "h1", "event_name": "open", "event_timestamp": int(time.time()) - 60}
    answer = requests.post(
        f"{sandbox.api_url}/appmetrica/events", json=record, headers={"x-api-key": API_KEY}, timeout=30
    )
    assert (answer.status_code, answer.json()["accepted"]) == (202, 1)
    assert sandbox.settle()
    assert "h1" in received(sandbox)


def test_the_routes_want_the_api_key_as_api_gateway_does(sandbox: Sandbox) -> None:
    no_key = requests.post(f"{sandbox.api_url}/appmetrica/events", json={}, timeout=30)
    unknown = requests.post(f"{sandbox.api_url}/nowhere", json={}, headers={"x-api-key": API_KEY}, timeout=30)
    assert (no_key.status_code, no_key.json()) == (403, {"message": "Forbidden"})
    assert unknown.status_code == 403


def test_a_message_that_keeps_failing_reaches_the_dead_letter_queue(sandbox: Sandbox) -> None:
    # Given a record for an application the sandbox key does not own (AppMetrica answers 403 every time)
    wiring = sandbox.functions["appmetrica_events"].wiring
    record = {"application_id": "3333", "profile_id": "d1", "event_name": "open", "event_timestamp": int(time.time())}
    sandbox.sqs.send_message(QueueUrl=wiring.queue_url, MessageBody=json.dumps(record))
    # When the runner has tried it the declared number of times
    assert sandbox.settle()
    # Then it waits in the dead-letter queue, and `replay` brings it back
    assert replay(sandbox.sqs, wiring.dlq_url, wiring.queue_url) == 1
    assert sandbox.settle()
    assert replay(sandbox.sqs, wiring.dlq_url, wiring.queue_url) == 1  # still refused: back in the DLQ once more
    assert sandbox.settle()
    # (taken from the DLQ, where no poller holds it, and deleted: SQS allows one purge of a queue a minute)
    [dead] = sandbox.sqs.receive_message(QueueUrl=wiring.dlq_url, MaxNumberOfMessages=10)["Messages"]
    sandbox.sqs.delete_message(QueueUrl=wiring.dlq_url, ReceiptHandle=dead["ReceiptHandle"])


def test_courier_status_says_which_function_is_stuck(sandbox: Sandbox, tmp_path: Path) -> None:
    # Given a message the destination keeps refusing (an application the key does not own), now a dead letter
    wiring = sandbox.functions["appmetrica_events"].wiring
    record = {"application_id": "3333", "profile_id": "s1", "event_name": "open", "event_timestamp": int(time.time())}
    sandbox.sqs.send_message(QueueUrl=wiring.queue_url, MessageBody=json.dumps(record))
    assert sandbox.settle()
    log = tmp_path / "functions.log"
    log.write_text("")
    lines: list[str] = []
    # When `courier status` looks at the running sandbox
    code = main(["status", "--log", str(log)], out=lines.append)
    # Then it fails, with a line per function: this one stuck in its dead-letter queue, the others calm
    verdicts = {line.split()[0]: line for line in lines[3:]}
    assert code == 1
    assert set(verdicts) == set(sandbox.functions)
    assert (
        "stuck: 1 in dead-letter queue (fix the cause, then courier replay appmetrica_events)"
        in verdicts["appmetrica_events"]
    )
    assert all(line.endswith(("ok", "idle")) for name, line in verdicts.items() if name != "appmetrica_events")
    sandbox.sqs.purge_queue(QueueUrl=wiring.dlq_url)  # no dead letter left for later tests
