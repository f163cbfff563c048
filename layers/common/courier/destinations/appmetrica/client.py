"""The Post API client: one CSV body per request, the key in the query string, answers read into outcomes."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, cast

from courier.destinations.appmetrica.csv_batch import CsvBatch
from courier.http.retrying import Attempts, LazySession, RateLimiter, RetryPolicy, SaidResult, post_with_retries
from courier.model import Batch, Sender, SendResult, Status
from courier.observability import logger, scrub
from courier.settings import Settings, appmetrica_post_api_key

if TYPE_CHECKING:
    import requests

CSV_HEADERS = {"Content-Type": "text/csv; charset=utf-8"}
LOST_ANSWER = (
    "possibly delivered: sent, but no clear answer came back ({detail}); the Post API has no idempotency key, so "
    "the rows were not sent again: check AppMetrica before dropping them once more"
)
# 400: the body was refused (splitting isolates bad rows); 413/422 alike. Retrying cannot help.
REFUSED = frozenset({400, 413, 422})
MAX_SAID = 300  # characters of AppMetrica's text a rejected row shows


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

    def may_resend(self, batch: Batch) -> bool:
        """The Post API has no idempotency key: only users who chose at-least-once get a possibly-sent batch again."""
        return self._settings.appmetrica_at_least_once

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
            resend_when_unsure=self._settings.appmetrica_at_least_once,
            timeout=self._settings.http_read_timeout_seconds,
        )
        return _outcome(attempts, key, batch.key, self._settings.appmetrica_at_least_once)


def _outcome(attempts: Attempts, key: str, application_id: str, at_least_once: bool) -> SendResult:
    """What a Post API answer means for the batch's rows."""
    answer = attempts.answer

    def result(status: Status, reason: str = "", split: bool = False) -> SendResult:
        return SendResult(status, reason, attempts.requests, attempts.retries, split=split)

    if attempts.possibly_sent:
        return result(Status.REJECTED, LOST_ANSWER.format(detail=attempts.detail))
    if answer is None:
        return result(Status.RETRY, attempts.error)
    if answer.status == 200:
        if answer.text.lstrip().startswith("<"):  # a proxy's or portal's page, not the Post API's answer: no delivery
            unsure = LOST_ANSWER.format(detail="an HTML page came back with 200")
            return result(Status.RETRY, unsure) if at_least_once else result(Status.REJECTED, unsure)
        return result(Status.DELIVERED)
    # The reason is Courier's words only (it reaches logs, the ledger and answers); what AppMetrica wrote, which may
    # echo the request, goes scrubbed to the rejected file alone.
    reason = f"AppMetrica answered {answer.status}"
    if answer.status in REFUSED:
        said = scrub(answer.text, key, limit=MAX_SAID).strip()
        return SaidResult(Status.REJECTED, reason, attempts.requests, attempts.retries, split=True, said=said)
    if 300 <= answer.status < 400:
        logger.error("AppMetrica's address redirects; set APPMETRICA_API_URL to the final address (rows stay queued)")
    elif answer.status in (401, 403):
        logger.error(
            "AppMetrica refused the Post API key; records stay queued until it is fixed",
            extra={"application_id": application_id},
        )
    return result(Status.RETRY, reason)


def post_api_sender(path: str) -> Callable[[Settings], Sender]:
    def make(settings: Settings) -> Sender:
        return PostApiSender(settings, path)

    return make


def by_application(fields: dict[str, Any]) -> str:
    """Post API requests carry one application's records (the key is per application)."""
    return str(fields["application_id"])
