"""The Post API client: one CSV body per request, the key in the query string, answers read into outcomes."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import TYPE_CHECKING, Any, cast

from courier.delivery.csv_batch import CsvBatch
from courier.delivery.outcomes import SendResult, Status
from courier.destinations import Batch, Sender
from courier.http.retrying import UNLESS_ANSWER_LOST, LazySession, RateLimiter, RetryPolicy, post_with_retries
from courier.observability import logger, scrub
from courier.settings import Settings, appmetrica_post_api_key

if TYPE_CHECKING:
    import requests

CSV_HEADERS = {"Content-Type": "text/csv; charset=utf-8"}
LOST_ANSWER = (
    "sent, but the answer was lost ({detail}); the Post API has no idempotency key, so the rows were not sent "
    "again: check AppMetrica before dropping them once more"
)
# 400: the body was refused (splitting isolates bad rows); 413/422 alike. Retrying cannot help.
REFUSED = frozenset({400, 413, 422})


# Half the Post API's cap of 100,000 rows a request: the chunk in flight and the one being read stay small (flat
# memory on any file size), and a lost answer or a refused request concerns fewer rows.
MAX_ROWS = 50_000
MAX_CHARS = 64 * 1024 * 1024  # far below the API's 1 GB body limit, so a batch stays small in Lambda memory


class PostApiSender:
    max_rows = MAX_ROWS
    max_chars = MAX_CHARS

    def __init__(
        self,
        settings: Settings,
        path: str,
        session: requests.Session | None = None,
        policy: RetryPolicy | None = None,
    ) -> None:
        self._settings = settings
        self._url = settings.appmetrica_api_url.rstrip("/") + path
        self._session = LazySession(session)
        self._limiter = RateLimiter(settings.appmetrica_max_rps)
        self._policy = policy or RetryPolicy(base_delay=settings.retry_base_seconds)

    def send(self, batch: Batch, deadline: float) -> SendResult:
        key = appmetrica_post_api_key(self._settings, batch.key)
        attempts = post_with_retries(
            self._session.get(),
            self._url,
            params={"post_api_key": key},
            body=cast(CsvBatch, batch).body(),
            headers=CSV_HEADERS,
            deadline=deadline,
            limiter=self._limiter,
            policy=self._policy,
            resend=UNLESS_ANSWER_LOST,
            timeout=self._settings.http_read_timeout_seconds,
        )
        response = attempts.response
        if attempts.ambiguous:
            return attempts.result(Status.REJECTED, LOST_ANSWER.format(detail=attempts.error))
        if response is None:
            return attempts.result(Status.RETRY, attempts.error)
        if response.status_code == 200:
            return attempts.result(Status.DELIVERED)
        detail = scrub(response.text[:300], key).strip()
        reason = (
            f"AppMetrica answered {response.status_code}: {detail}"
            if detail
            else f"AppMetrica answered {response.status_code}"
        )
        if response.status_code in REFUSED:
            return replace(attempts.result(Status.REJECTED, reason), split=True)
        if response.status_code in (401, 403):
            logger.error(
                "AppMetrica refused the Post API key; records stay queued until it is fixed",
                extra={"application_id": batch.key},
            )
        return attempts.result(Status.RETRY, reason)


def post_api_sender(path: str) -> Callable[[Settings], Sender]:
    def make(settings: Settings) -> Sender:
        return PostApiSender(settings, path)

    return make


def by_application(fields: dict[str, Any]) -> str:
    """Post API requests carry one application's records (the key is per application)."""
    return str(fields["application_id"])
