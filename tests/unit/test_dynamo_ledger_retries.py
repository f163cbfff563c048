"""The DynamoDB ledger's retries: a failing call is tried again with back-off, but never past the time it was given
(Lambda kills a process that outlives its timeout, with the ledger's marks half written)."""

from __future__ import annotations

import time
from typing import Any

import pytest
from botocore.exceptions import ClientError

from courier.delivery.ledger import SENDING, WRITE_ATTEMPTS, DynamoLedger, Entry, LedgerUnavailableError


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
