"""The DynamoDB ledger's retries: a failing call is tried again with back-off, but never past the time it was given
(Lambda kills a process that outlives its timeout, with the ledger's marks half written)."""

from __future__ import annotations

import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, cast

import pytest
from botocore.exceptions import ClientError

from courier.delivery.ledger import SENDING, WRITE_ATTEMPTS, DynamoLedger, Entry, LedgerUnavailableError
from courier.doors.services import Services
from courier.settings import Settings


class ThrottledClient:
    """A DynamoDB client whose every call is throttled; it counts the calls."""

    def __init__(self) -> None:
        self.calls = 0

    def put_item(self, **_: Any) -> Any:
        self.calls += 1
        raise ClientError({"Error": {"Code": "ProvisionedThroughputExceededException"}}, "PutItem")


class Clock:
    """Time that passes only when slept."""

    def __init__(self) -> None:
        self.time = 0.0
        self.pauses: list[float] = []

    def now(self) -> float:
        return self.time

    def sleep(self, seconds: float) -> None:
        self.pauses.append(seconds)
        self.time += seconds


def entry() -> Entry:
    return Entry(SENDING, lease=time.time() + 60, end=1, sent=b"\x01", attempt="this-invocation")


def test_a_throttled_write_is_tried_every_time_when_there_is_time() -> None:
    # Given a ledger with no end to its time, on a table that throttles every write
    client, pauses = ThrottledClient(), list[float]()
    ledger = DynamoLedger("ledger", client, sleep=pauses.append)
    # When it writes an entry
    with pytest.raises(LedgerUnavailableError, match=f"failed put_item {WRITE_ATTEMPTS} times"):
        ledger.finish("sqs:m1", entry())
    # Then it tried WRITE_ATTEMPTS times, backing off 0.05 s doubling in between
    assert client.calls == WRITE_ATTEMPTS
    assert pauses == [0.05 * 2**n for n in range(WRITE_ATTEMPTS - 1)]


def test_a_throttled_write_gives_up_rather_than_back_off_past_its_time() -> None:
    # Given a ledger whose time ends 0.12 s from now, on a table that throttles every write
    client, clock = ThrottledClient(), Clock()
    ledger = DynamoLedger("ledger", client, sleep=clock.sleep, give_up_at=0.12, clock=clock.now)
    # When it writes an entry
    with pytest.raises(LedgerUnavailableError, match="failed put_item 2 times: ProvisionedThroughputExceeded"):
        ledger.finish("sqs:m1", entry())
    # Then it backed off once (0.05 s) and gave up instead of waiting 0.1 s more past its end
    assert clock.pauses == [0.05]
    assert client.calls == 2


class Throttling(BaseHTTPRequestHandler):
    """A DynamoDB endpoint that throttles every request, and counts them."""

    requests = 0

    def do_POST(self) -> None:
        type(self).requests += 1
        self.rfile.read(int(self.headers["Content-Length"]))
        body = b'{"__type":"com.amazonaws.dynamodb.v20120810#ThrottlingException","message":"slow down"}'
        self.send_response(400)
        self.send_header("Content-Type", "application/x-amz-json-1.0")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *_: Any) -> None:
        return None


def test_the_functions_ledger_makes_one_request_a_try_with_no_back_off_of_botocores_own(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Given a function's ledger (its DynamoDB client as the function makes it), on a table that throttles everything
    server = ThreadingHTTPServer(("127.0.0.1", 0), Throttling)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    monkeypatch.setenv("AWS_ENDPOINT_URL", f"http://127.0.0.1:{server.server_address[1]}")
    for name, value in (("AWS_ACCESS_KEY_ID", "testing"), ("AWS_SECRET_ACCESS_KEY", "testing")):
        monkeypatch.setenv(name, value)
    services = Services(Settings(IDEMPOTENCY_TABLE="ledger"), None, None, cast(Any, None))
    ledger = services.ledger()
    assert isinstance(ledger, DynamoLedger)
    monkeypatch.setattr(ledger, "_sleep", lambda seconds: None)
    # When it writes an entry
    try:
        with pytest.raises(LedgerUnavailableError, match=f"failed put_item {WRITE_ATTEMPTS} times: Throttling"):
            ledger.finish("sqs:m1", entry())
    finally:
        server.shutdown()
    # Then each of its tries was one request: botocore waited for no retry of its own, which the ledger's give-up
    # time would not bound
    assert Throttling.requests == WRITE_ATTEMPTS
