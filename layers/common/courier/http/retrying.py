"""POST with retries for what can succeed later, within the invocation's time. Reports transport facts only: the
last answer, how many requests were made, and whether a request may have reached the destination unanswered.

The one rule for ambiguous answers, for every destination: 420, 429 and 503 say the request was not processed, and
a connection that never opened sent nothing, so those are retried. 500, 502 and 504, a reset or a timeout after
the body went out, and a body cut off by the deadline may all follow a request the destination applied: such a
request is sent again only when the caller says a resend is harmless (`resend_when_unsure`)."""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, cast
from urllib.parse import urlsplit

from courier.model import ItemResult, SendResult
from courier.observability import answer_classes, invocation, subsegment

if TYPE_CHECKING:
    import requests

NOT_PROCESSED = frozenset({420, 429, 503})
MAYBE_PROCESSED = frozenset({500, 502, 504})
CONNECT_TIMEOUT, READ_TIMEOUT = 5.0, 120.0
MIN_REQUEST_SECONDS = 0.5  # no request starts with less time than this left before the deadline
# The first try of a request the driver dispatched (it checked MIN_REQUEST_SECONDS then): the ledger write between
# its check and this one must not turn "time for one request" into "no time", or the chunk would wait for a retry.
FIRST_TRY_SECONDS = 0.1
MAX_ANSWER_BYTES = 1 << 20  # an answer longer than this is cut: no destination of ours sends more


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


@dataclass(frozen=True)
class Answer:
    """An HTTP answer read whole (bounded): what the senders classify."""

    status: int
    headers: dict[str, str]
    body: bytes

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", "replace")


@dataclass
class Attempts:
    """What a POST came to: the last answer (None when none came), requests made, and why it stopped."""

    answer: Answer | None
    requests: int
    retries: int
    error: str = ""
    possibly_sent: bool = False  # no clear answer to a request that went out: the destination may have applied it

    @property
    def detail(self) -> str:
        return self.error or (f"HTTP {self.answer.status}" if self.answer is not None else "no answer")


# What a destination said (its error text, scrubbed) rides with an outcome for the rejected file only: reasons
# are Courier's own words (a status and what it means), and only they reach logs, the ledger, reports and HTTP
# answers. `said` is no part of `to_json`, so the ledger never stores it.
SAID = "the destination said: "  # how the rejected file's error column shows it


@dataclass(frozen=True, eq=False)
class SaidItem(ItemResult):
    said: str = ""


@dataclass(frozen=True, eq=False)
class SaidResult(SendResult):
    said: str = ""


def said_of(result: Any) -> str:
    """The destination's own (scrubbed) text an outcome carries, for the rejected file; "" when it has none."""
    return str(getattr(result, "said", "") or "")


@dataclass
class RetryPolicy:
    base_delay: float = 0.5
    max_delay: float = 20.0
    max_attempts: int = 6
    sleep: Callable[[float], None] = time.sleep
    clock: Callable[[], float] = time.time

    def delay(self, attempt: int, answer: Answer | None) -> float:
        retry_after = answer.headers.get("retry-after", "") if answer is not None else ""
        if retry_after.strip().isdigit():
            return float(retry_after.strip())
        return random.uniform(0, min(self.max_delay, self.base_delay * 2**attempt))  # full jitter


class _DeadlineError(Exception):
    """The answer did not finish coming before the deadline."""


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
    resend_when_unsure: bool,
    timeout: float = READ_TIMEOUT,
) -> Attempts:
    """Retries only what can succeed later; no request starts, and none is waited for, past `deadline` (epoch
    seconds). Redirects are not followed: a POST must reach the configured address itself."""
    import requests
    import urllib3

    made = 0
    answer: Answer | None = None
    error = ""
    while True:
        wait = limiter.wait_time()
        if policy.clock() + wait + (MIN_REQUEST_SECONDS if made else FIRST_TRY_SECONDS) > deadline:
            return Attempts(answer, made, max(made - 1, 0), error or "no time left for a request")
        policy.sleep(wait)
        made += 1
        answer, error, unsure = None, "", False
        started = time.monotonic()
        with subsegment("## destination request") as traced:
            try:
                answer = _post(session, _Request(url, params, body, headers, timeout), deadline, policy.clock)
            except (requests.RequestException, urllib3.exceptions.HTTPError) as exc:
                error = f"network error: {type(exc).__name__}"  # the exception text holds the URL with the key
                unsure = not _never_sent(exc)
            except _DeadlineError:
                error, unsure = "no complete answer before the invocation's deadline", True
            status = answer.status if answer is not None else None
            # the endpoint's path (the key travels in `params`, never in `url`) and the answer's class: no value
            traced.put_annotation("endpoint", urlsplit(url).path)
            traced.put_annotation("answer", answer_classes(status)[0].name)
        invocation.request(status, time.monotonic() - started)
        if answer is not None and answer.status in MAYBE_PROCESSED:
            unsure = True
        if unsure and not resend_when_unsure:
            return Attempts(answer, made, made - 1, error, possibly_sent=True)
        if answer is not None and answer.status not in NOT_PROCESSED | MAYBE_PROCESSED:
            return Attempts(answer, made, made - 1)
        if made >= policy.max_attempts:
            return Attempts(answer, made, made - 1, error, possibly_sent=unsure)
        pause = policy.delay(made - 1, answer)
        if policy.clock() + pause + MIN_REQUEST_SECONDS >= deadline:
            return Attempts(answer, made, made - 1, error, possibly_sent=unsure)
        policy.sleep(pause)


@dataclass(frozen=True)
class _Request:
    url: str
    params: dict[str, str]
    body: bytes | bytearray
    headers: dict[str, str]
    timeout: float


def _post(session: requests.Session, request: _Request, deadline: float, clock: Callable[[], float]) -> Answer:
    """One request whose every wait is capped by the deadline: the read timeout per socket read, and the whole
    answer (a body that trickles in byte by byte is cut off)."""
    left = deadline - clock()
    response = session.post(
        request.url,
        params=request.params,
        data=cast(bytes, request.body),  # a bytearray goes as it is, with no copy: urllib3 sends any buffer
        headers=request.headers,
        timeout=(min(CONNECT_TIMEOUT, left), max(0.1, min(request.timeout, left))),
        allow_redirects=False,
        stream=True,
    )
    try:
        received = bytearray()
        while len(received) <= MAX_ANSWER_BYTES:
            piece = response.raw.read1(16 * 1024)  # whatever has arrived: a trickle cannot hold the loop
            if not piece:
                break
            received += piece
            if clock() > deadline:
                raise _DeadlineError
        return Answer(response.status_code, {k.lower(): v for k, v in response.headers.items()}, bytes(received))
    finally:
        response.close()


def _never_sent(error: Exception) -> bool:
    """True when the request cannot have reached the server: the connection itself failed."""
    import requests
    import urllib3

    if isinstance(error, requests.ConnectTimeout):
        return True
    if isinstance(error, requests.ConnectionError):
        reason = getattr(error.args[0], "reason", None) if error.args else None
        return isinstance(reason, urllib3.exceptions.NewConnectionError)
    return False
