"""The Post API client over real HTTP against the emulator: answers, retries, the rate cap, and no leaked key."""

from __future__ import annotations

import socket
import time
from collections.abc import Callable

import pytest

from courier.destinations.appmetrica.client import PostApiSender
from courier.destinations.appmetrica.csv_batch import CsvBatch
from courier.http.retrying import RateLimiter, RetryPolicy, said_of
from courier.model import Status
from courier.settings import Settings
from sandbox.appmetrica_emulator import AppMetricaEmulator
from sandbox.http_emulator import RESET, TRICKLE
from tests.conftest import APPLICATION_ID, POST_API_KEY
from tests.support import recent

PATH = "/logs/v1/import/events.csv"


def one_event_batch(**extra: str) -> CsvBatch:
    batch = CsvBatch(APPLICATION_ID)
    fields = {
        "application_id": APPLICATION_ID,
        "profile_id": "u1",
        "event_name": "open",
        "event_timestamp": str(recent()),
        **extra,
    }
    batch.add(fields, 0)
    return batch


class Sleeps:
    def __init__(self) -> None:
        self.calls: list[float] = []

    def __call__(self, seconds: float) -> None:
        self.calls.append(seconds)


def sender_for(
    url: str,
    key: str = POST_API_KEY,
    sleeps: Callable[[float], None] | None = None,
    rps: float = 1000,
    at_least_once: bool = False,
) -> PostApiSender:
    settings = Settings(
        APPMETRICA_API_URL=url,
        APPMETRICA_POST_API_KEY=key,
        APPMETRICA_MAX_RPS=rps,
        APPMETRICA_AT_LEAST_ONCE=at_least_once,
    )
    policy = RetryPolicy(base_delay=0.01, max_delay=0.05, sleep=sleeps or Sleeps())
    return PostApiSender(settings, PATH, policy=policy)


def test_a_batch_is_delivered(appmetrica: AppMetricaEmulator) -> None:
    result = sender_for(appmetrica.url).send(one_event_batch(), time.time() + 30)
    assert result.status is Status.DELIVERED
    assert (result.requests, result.retries) == (1, 0)
    assert [row["profile_id"] for row in appmetrica.events(APPLICATION_ID)] == ["u1"]


def test_5xx_is_retried_then_delivered_once(appmetrica: AppMetricaEmulator) -> None:
    # Given the API fails twice with 503
    appmetrica.fail_next(503, times=2)
    # When a batch is sent
    result = sender_for(appmetrica.url).send(one_event_batch(), time.time() + 30)
    # Then it is retried and arrives exactly once
    assert result.status is Status.DELIVERED
    assert (result.requests, result.retries) == (3, 2)
    assert len(appmetrica.events(APPLICATION_ID)) == 1


@pytest.mark.parametrize("status", [420, 429])
def test_rate_limit_answers_honour_retry_after(appmetrica: AppMetricaEmulator, status: int) -> None:
    appmetrica.fail_next(status, retry_after=3)
    sleeps = Sleeps()
    result = sender_for(appmetrica.url, sleeps=sleeps).send(one_event_batch(), time.time() + 30)
    assert result.status is Status.DELIVERED
    assert 3.0 in sleeps.calls


def test_400_is_not_retried_and_carries_the_reason(appmetrica: AppMetricaEmulator) -> None:
    result = sender_for(appmetrica.url).send(one_event_batch(session_type="weekend"), time.time() + 30)
    assert result.status is Status.REJECTED
    assert result.requests == 1
    # The reason is Courier's words (it reaches logs, the ledger, answers); AppMetrica's text is for rejected/ only
    assert result.reason == "AppMetrica answered 400"
    assert "session_type must be foreground or background" in said_of(result)


def test_a_refused_key_is_not_retried_the_records_stay_to_retry(appmetrica: AppMetricaEmulator) -> None:
    result = sender_for(appmetrica.url, key="wrong-key").send(one_event_batch(), time.time() + 30)
    assert result.status is Status.RETRY
    assert result.requests == 1
    assert result.reason.startswith("AppMetrica answered 403")
    assert "wrong-key" not in result.reason


def test_retries_stop_before_the_deadline(appmetrica: AppMetricaEmulator) -> None:
    # Given an outage longer than the invocation can wait
    appmetrica.fail_next(503, times=10, retry_after=30)
    # When the invocation has 10 seconds left
    result = sender_for(appmetrica.url).send(one_event_batch(), time.time() + 10)
    # Then the batch is left to retry after one request instead of sleeping past the deadline
    assert result.status is Status.RETRY
    assert result.requests == 1
    assert appmetrica.events(APPLICATION_ID) == []


def test_a_network_error_is_retried_and_never_shows_the_key() -> None:
    # Given nothing listens on a port
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    sleeps = Sleeps()
    result = sender_for(f"http://127.0.0.1:{port}", sleeps=sleeps).send(one_event_batch(), time.time() + 30)
    assert result.status is Status.RETRY
    assert result.requests == 6
    assert result.reason == "network error: ConnectionError"
    assert POST_API_KEY not in result.reason


def test_the_rate_limiter_spaces_requests() -> None:
    clock = [100.0]
    limiter = RateLimiter(per_second=30, clock=lambda: clock[0])
    waits = [limiter.wait_time() for _ in range(4)]
    assert waits == pytest.approx([0, 1 / 30, 2 / 30, 3 / 30])


def test_the_emulator_answers_429_past_30_requests_a_second(appmetrica: AppMetricaEmulator) -> None:
    # Given a client with its own cap lifted, sending 40 requests at once
    sender = sender_for(appmetrica.url, rps=10_000, sleeps=time.sleep)
    results = [sender.send(one_event_batch(), time.time() + 30) for _ in range(40)]
    # Then the emulator throttled some with 429, and the client retried them to delivery
    statuses = [request.status for request in appmetrica.requests]
    assert 429 in statuses
    assert all(result.status is Status.DELIVERED for result in results)
    assert len(appmetrica.events(APPLICATION_ID)) == 40


@pytest.mark.parametrize("status", [500, 502, 504, RESET])
def test_an_answer_that_may_follow_applied_rows_is_never_resent_by_default(
    appmetrica: AppMetricaEmulator, status: int
) -> None:
    # Given an API that takes the rows and then answers 500/502/504 or drops the connection
    appmetrica.fail_next(status, taken=True)
    # When a batch is sent
    result = sender_for(appmetrica.url).send(one_event_batch(), time.time() + 30)
    # Then it is not sent again: the row is rejected as possibly delivered, and it arrived once
    assert (result.status, result.requests) == (Status.REJECTED, 1)
    assert result.reason.startswith("possibly delivered")
    assert len(appmetrica.events(APPLICATION_ID)) == 1


def test_users_who_choose_at_least_once_get_the_batch_sent_again(appmetrica: AppMetricaEmulator) -> None:
    # Given APPMETRICA_AT_LEAST_ONCE, and an API that took the rows and answered 502
    appmetrica.fail_next(502, taken=True)
    # When a batch is sent
    result = sender_for(appmetrica.url, at_least_once=True).send(one_event_batch(), time.time() + 30)
    # Then it is sent again and delivered: the row may arrive twice, as they chose
    assert (result.status, result.requests) == (Status.DELIVERED, 2)
    assert len(appmetrica.events(APPLICATION_ID)) == 2


@pytest.mark.parametrize("status", [301, 302, 307, 308])
def test_a_redirect_is_not_followed_and_never_counts_as_delivered(appmetrica: AppMetricaEmulator, status: int) -> None:
    # Given an address that redirects
    appmetrica.fail_next(status)
    # When a batch is sent
    result = sender_for(appmetrica.url).send(one_event_batch(), time.time() + 30)
    # Then the redirect is not followed (one request), and the rows stay to retry with the reason
    assert (result.status, result.requests) == (Status.RETRY, 1)
    assert result.reason.startswith(f"AppMetrica answered {status}")
    assert [request.path for request in appmetrica.requests] == [PATH]


def test_an_answer_that_trickles_forever_is_cut_at_the_deadline(appmetrica: AppMetricaEmulator) -> None:
    # Given an API that sends headers and then a body a byte at a time, without end
    appmetrica.fail_next(TRICKLE)
    # When a batch is sent with 4 seconds left
    started = time.monotonic()
    result = sender_for(appmetrica.url).send(one_event_batch(), time.time() + 4)
    # Then the wait ends by the deadline, and the rows are refused as possibly delivered, not sent again
    assert time.monotonic() - started < 5
    assert (result.status, result.requests) == (Status.REJECTED, 1)
    assert "no complete answer before the invocation's deadline" in result.reason


def test_a_read_timeout_is_capped_by_the_time_left(appmetrica: AppMetricaEmulator) -> None:
    # Given an API slower than the time the invocation has left (and a 120 s read timeout configured)
    appmetrica.delay = 6.0
    # When a batch is sent with 3 seconds left
    started = time.monotonic()
    result = sender_for(appmetrica.url).send(one_event_batch(), time.time() + 3)
    # Then the request is given up by the deadline, as possibly delivered
    assert time.monotonic() - started < 4
    assert result.status is Status.REJECTED
    assert result.reason.startswith("possibly delivered")


def test_a_200_that_is_not_the_apis_answer_is_not_a_delivery(appmetrica: AppMetricaEmulator) -> None:
    # Given something in the way that answers 200 with an HTML page
    appmetrica.fail_next(200, body="<html>portal</html>")
    # When a batch is sent
    result = sender_for(appmetrica.url).send(one_event_batch(), time.time() + 30)
    # Then it is not counted delivered
    assert result.status is Status.REJECTED
    assert "an HTML page came back with 200" in result.reason
