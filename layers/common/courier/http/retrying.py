"""POST with retries for network errors, 420/429 (Retry-After honoured) and 5xx, within the invocation's time."""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, cast

from courier.delivery.outcomes import SendResult, Status

if TYPE_CHECKING:
    import requests

RETRYABLE_STATUSES = frozenset({420, 429, 500, 502, 503, 504})
# Answers that say the request was not processed, so even a non-idempotent one may be sent again.
NOT_PROCESSED_STATUSES = frozenset({420, 429, 503})


@dataclass(frozen=True)
class Resend:
    """When a request may be sent again. `after_lost_answer`: the request may have reached the server and no answer
    came (a read timeout, a connection reset) — safe only if applying it twice changes nothing."""

    statuses: frozenset[int] = RETRYABLE_STATUSES
    after_lost_answer: bool = True


ALWAYS = Resend()
NEVER_TWICE = Resend(NOT_PROCESSED_STATUSES, after_lost_answer=False)  # incr / add / delete
UNLESS_ANSWER_LOST = Resend(RETRYABLE_STATUSES, after_lost_answer=False)  # AppMetrica: no idempotency key
CONNECT_TIMEOUT, READ_TIMEOUT = 5.0, 120.0


def new_session() -> requests.Session:
    import requests  # here, not at the top: a function that sends nothing never imports requests

    session = requests.Session()
    adapter = requests.adapters.HTTPAdapter(pool_connections=4, pool_maxsize=8, max_retries=0)
    session.mount("https://", adapter)
    session.mount("http://", adapter)
    return session


class LazySession:
    """A sender's pooled session, made at its first request (or the one a test injects)."""

    def __init__(self, session: requests.Session | None = None) -> None:
        self._session = session

    def get(self) -> requests.Session:
        if self._session is None:
            self._session = new_session()
        return self._session


class RateLimiter:
    """Spaces requests at least 1/rate seconds apart (AppMetrica allows 30 requests per second per IP)."""

    def __init__(self, per_second: float, clock: Callable[[], float] = time.monotonic) -> None:
        self._interval = 1.0 / per_second
        self._next = 0.0
        self._clock = clock
        self._lock = threading.Lock()

    def wait_time(self) -> float:
        with self._lock:
            now = self._clock()
            start = max(now, self._next)
            self._next = start + self._interval
            return start - now


@dataclass
class Attempts:
    """What a POST came to: the last response (None after a network error), requests made, and why it stopped."""

    response: requests.Response | None
    requests: int
    retries: int
    error: str = ""
    ambiguous: bool = False  # sent, and no clear answer: the destination may have applied it

    def result(self, status: Status, reason: str = "") -> SendResult:
        return SendResult(status, reason, requests=self.requests, retries=self.retries)


@dataclass
class RetryPolicy:
    base_delay: float = 0.5
    max_delay: float = 20.0
    max_attempts: int = 6
    sleep: Callable[[float], None] = time.sleep
    clock: Callable[[], float] = time.time

    def delay(self, attempt: int, response: requests.Response | None) -> float:
        retry_after = response.headers.get("Retry-After", "") if response is not None else ""
        if retry_after.strip().isdigit():
            return float(retry_after.strip())
        return random.uniform(0, min(self.max_delay, self.base_delay * 2**attempt))  # full jitter


def post_with_retries(
    session: requests.Session,
    url: str,
    *,
    params: dict[str, str],
    body: bytes | bytearray,
    headers: dict[str, str],
    deadline: float,
    limiter: RateLimiter,
    policy: RetryPolicy,
    resend: Resend = ALWAYS,
    timeout: float = READ_TIMEOUT,
) -> Attempts:
    """Retries only what can succeed later, never sleeps past `deadline` (epoch seconds), and never sends again
    what `resend` forbids: a request that may have been applied is then left `ambiguous` for the caller."""
    import requests

    made = 0
    while True:
        policy.sleep(limiter.wait_time())
        made += 1
        response: requests.Response | None = None
        error = ""
        try:
            response = session.post(
                url,
                params=params,
                data=cast(bytes, body),  # a bytearray goes as it is, with no copy: urllib3 sends any buffer
                headers=headers,
                timeout=(CONNECT_TIMEOUT, timeout),
            )
        except requests.RequestException as exc:
            error = f"network error: {type(exc).__name__}"  # the exception text holds the URL with the key
            if not resend.after_lost_answer and not _never_sent(exc):
                return Attempts(None, made, made - 1, error, ambiguous=True)
        if response is not None and response.status_code not in RETRYABLE_STATUSES:
            return Attempts(response, made, made - 1)
        if response is not None and response.status_code in RETRYABLE_STATUSES - resend.statuses:
            return Attempts(response, made, made - 1, ambiguous=True)
        if made >= policy.max_attempts:
            return Attempts(response, made, made - 1, error)
        pause = policy.delay(made - 1, response)
        if policy.clock() + pause + CONNECT_TIMEOUT >= deadline:
            return Attempts(response, made, made - 1, error)
        policy.sleep(pause)


def _never_sent(error: requests.RequestException) -> bool:
    """True when the request cannot have reached the server: the connection itself failed."""
    import requests
    import urllib3

    if isinstance(error, requests.ConnectTimeout):
        return True
    if isinstance(error, requests.ConnectionError):
        reason = getattr(error.args[0], "reason", None) if error.args else None
        return isinstance(reason, urllib3.exceptions.NewConnectionError)
    return False
