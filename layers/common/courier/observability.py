"""The one Logger, Metrics and Tracer, the one list of the metrics Courier emits, and the one scrubber every outgoing
text passes through."""

from __future__ import annotations

import functools
import importlib.util
import json
import logging
import re
import threading
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, quote_plus

from aws_lambda_powertools import Logger, Metrics, Tracer

NAMESPACE, SERVICE = "Courier", "courier"
FUNCTION_DIMENSION = "function"  # the function's name (appmetrica_events, …): eight functions told apart

logger = Logger(service=SERVICE)
metrics = Metrics(namespace=NAMESPACE, service=SERVICE)


@functools.cache
def tracer() -> Tracer | None:
    """Traces destination calls as subsegments (courier.http.retrying), when the layer has the X-Ray SDK; None when
    it has not, the default: the SDK brings botocore into the layer, ahead of the runtime's own (README, Monitoring).
    Made at the first request, so that a call refused before sending never loads the SDK; and no library is patched,
    which would load botocore and requests at every cold start and trace every ledger call. None too where
    Powertools disables tracing (outside Lambda, in SAM's local runtime, with POWERTOOLS_TRACE_DISABLED): a disabled
    tracer traces nothing, and the SDK would cost its import and two botocore clients (about 170 ms here)."""
    if importlib.util.find_spec("aws_xray_sdk") is None or Tracer._is_tracer_disabled():
        return None
    return Tracer(service=SERVICE, auto_patch=False)


class _Untraced:
    """What a subsegment is without the X-Ray SDK: annotations go nowhere."""

    def put_annotation(self, key: str, value: str) -> None:
        return None


def subsegment(name: str) -> AbstractContextManager[Any]:
    """An X-Ray subsegment of the invocation's trace (annotate it with put_annotation), or a stand-in."""
    found = tracer()
    return found.provider.in_subsegment(name) if found is not None else nullcontext(_Untraced())


@dataclass(frozen=True)
class Declared:
    """A metric Courier emits (namespace NAMESPACE, dimensions `service` and FUNCTION_DIMENSION). The dashboard, the
    alarms, README's table and the tests are made from these declarations."""

    name: str
    unit: str  # a CloudWatch unit: Count, Milliseconds, Bytes
    meaning: str


RECORDS_READ = Declared("RecordsRead", "Count", "records read: of a file, of an SQS batch's messages, of a body")
RECORDS_DELIVERED = Declared("RecordsDelivered", "Count", "records the destination took")
RECORDS_REJECTED = Declared("RecordsRejected", "Count", "records rejected, for any reason (the sum of the next three)")
REJECTED_INVALID = Declared("RejectedInvalid", "Count", "rejected by Courier's own checks: the record is not valid")
REJECTED_BY_DESTINATION = Declared("RejectedByDestination", "Count", "rejected by the destination's answer")
REJECTED_LOST_ANSWER = Declared(
    "RejectedLostAnswer", "Count", "possibly delivered: sent without a clear answer, so never resent (check them)"
)
DUPLICATES_SKIPPED = Declared("DuplicatesSkipped", "Count", "delivered by an earlier attempt: not sent again")
RECORDS_PENDING = Declared("RecordsPending", "Count", "left to retry: their message comes back later")
RECORDS_FILTERED = Declared("RecordsFiltered", "Count", "left out by a mapping's filter: neither sent nor rejected")
RECORDS_QUEUED = Declared("RecordsQueued", "Count", "accepted by the HTTPS door onto the function's queue")
ANSWERS_2XX = Declared("DestinationAnswers2xx", "Count", "destination requests answered 2xx")
ANSWERS_3XX = Declared("DestinationAnswers3xx", "Count", "destination requests answered with a redirect (not followed)")
ANSWERS_4XX = Declared("DestinationAnswers4xx", "Count", "destination requests answered 4xx (except 420 and 429)")
ANSWERS_UNAUTHORIZED = Declared(
    "DestinationAnswersUnauthorized", "Count", "destination requests answered 401 or 403 (also in 4xx): a key fault"
)
ANSWERS_THROTTLED = Declared("DestinationAnswersThrottled", "Count", "destination requests answered 420 or 429")
ANSWERS_5XX = Declared("DestinationAnswers5xx", "Count", "destination requests answered 5xx")
NETWORK_ERRORS = Declared("DestinationNetworkErrors", "Count", "destination requests with no answer (network error)")
REQUEST_LATENCY = Declared("DestinationLatency", "Milliseconds", "time from a request's start to its whole answer")
RETRIES = Declared("DestinationRetries", "Count", "requests that repeated an earlier one (after 429, 5xx, …)")
BYTES_READ = Declared("BytesRead", "Bytes", "bytes read: of files from S3, of message and request bodies")
VALUES_DROPPED = Declared(
    "FirstPartyValuesDropped", "Count", "first-party values (phone, e-mail, Telegram) left out of records sent"
)
METRICS: tuple[Declared, ...] = (
    RECORDS_READ,
    RECORDS_DELIVERED,
    RECORDS_REJECTED,
    REJECTED_INVALID,
    REJECTED_BY_DESTINATION,
    REJECTED_LOST_ANSWER,
    DUPLICATES_SKIPPED,
    RECORDS_PENDING,
    RECORDS_FILTERED,
    RECORDS_QUEUED,
    ANSWERS_2XX,
    ANSWERS_3XX,
    ANSWERS_4XX,
    ANSWERS_UNAUTHORIZED,
    ANSWERS_THROTTLED,
    ANSWERS_5XX,
    NETWORK_ERRORS,
    REQUEST_LATENCY,
    RETRIES,
    BYTES_READ,
    VALUES_DROPPED,
)
ALWAYS_PUBLISHED = (RECORDS_READ, RECORDS_DELIVERED, RECORDS_REJECTED, RECORDS_PENDING)
ANSWER_CLASSES = (ANSWERS_2XX, ANSWERS_3XX, ANSWERS_4XX, ANSWERS_THROTTLED, ANSWERS_5XX, NETWORK_ERRORS)


def answer_classes(status: int | None) -> tuple[Declared, ...]:
    """The metrics one destination answer counts in (None: no answer came)."""
    if status is None:
        return (NETWORK_ERRORS,)
    if status in (420, 429):
        return (ANSWERS_THROTTLED,)
    if status in (401, 403):
        return (ANSWERS_4XX, ANSWERS_UNAUTHORIZED)
    return ({2: ANSWERS_2XX, 3: ANSWERS_3XX, 4: ANSWERS_4XX}.get(status // 100, ANSWERS_5XX),)


class _Invocation:
    """What one invocation counted, summed as it goes (per chunk, batch or request, never per row) and published as
    one EMF line at its end. Requests are counted on the sending thread, hence the lock."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._sums: dict[Declared, float] = {}
        self._latencies: list[float] = []

    def count(self, metric: Declared, value: float) -> None:
        if value:
            with self._lock:
                self._sums[metric] = self._sums.get(metric, 0) + value

    def request(self, status: int | None, seconds: float) -> None:
        for metric in answer_classes(status):
            self.count(metric, 1)
        with self._lock:
            self._latencies.append(round(seconds * 1000, 1))

    def begin(self) -> None:
        with self._lock:
            self._sums.clear()
            self._latencies.clear()

    def publish(self, function: str) -> None:
        """Adds the sums to Powertools' metrics, with the function's name as a dimension (flushed by log_metrics)."""
        with self._lock:
            sums, latencies = dict(self._sums), list(self._latencies)
            self._sums.clear()
            self._latencies.clear()
        metrics.add_dimension(FUNCTION_DIMENSION, function)
        for metric in ALWAYS_PUBLISHED:  # zeros too: graphs and the rejected share read 0, not a gap
            sums.setdefault(metric, 0)
        for metric, value in sums.items():
            metrics.add_metric(name=metric.name, unit=metric.unit, value=value)
        for value in latencies:
            metrics.add_metric(name=REQUEST_LATENCY.name, unit=REQUEST_LATENCY.unit, value=value)


invocation = _Invocation()

# At DEBUG, urllib3 logs every request line (the Post API key is in the query string) and botocore logs whole
# request and response bodies (a secret's value among them). Their level is fixed here, at import: no level set
# from outside (POWERTOOLS_LOG_LEVEL, Lambda's ApplicationLogLevel on the root logger) makes them print.
QUIET_LIBRARIES = ("urllib3", "urllib3.connectionpool", "requests", "botocore", "boto3", "s3transfer")

# The Post API key travels in the query string; requests puts whole URLs into its exceptions.
_SECRET_QUERY = re.compile(r"(post_api_key|token)=[^&\s'\"]*", re.IGNORECASE)
# A destination's error text may quote what it refused: e-mail addresses (any script's domain), Telegram logins
# and phone numbers (spaces, dashes, dots or brackets between the digits) are masked.
_EMAIL = re.compile(r"[^\s@\"',;<>()\[\]{}]+@[^\s@\"',;<>()\[\]{}]+\.[^\W\d_]{2,}")
_LOGIN = re.compile(r"(?<![\w@*])@[A-Za-z0-9_]{3,32}")
_PHONE = re.compile(r"\+?\d[\d ()\-.]{6,}\d")
# A JSON answer may write non-ASCII text as \uXXXX escapes (an e-mail on a Cyrillic domain among it): they are read
# back first, so the masks see the text; surrogates stay escaped (alone they are no text).
_ESCAPE = re.compile(r"\\u(?![dD][89a-fA-F])([0-9a-fA-F]{4})")


def _forms(secret: str) -> list[str]:
    """A secret as it may appear in a text: raw, URL-encoded (path or query style) and JSON-escaped."""
    forms = {secret, quote(secret, safe=""), quote(secret), quote_plus(secret), json.dumps(secret)[1:-1]}
    forms.add(json.dumps(secret, ensure_ascii=False)[1:-1])
    return sorted(forms, key=len, reverse=True)


def _without(text: str, secrets: tuple[str, ...]) -> str:
    for secret in secrets:
        if secret:
            for form in _forms(secret):
                text = text.replace(form, "***")
    return text


def scrub(text: str, *secrets: str, limit: int | None = None) -> str:
    """A text bound for a log, a report or an answer, without known secret values (removed first, in every form they
    may take), secret query parameters, e-mail addresses, Telegram logins and phone numbers; then cut to `limit`
    characters (cutting last, so that no part of a secret or of a value survives the cut)."""
    text = _without(text, secrets)
    if "\\u" in text:  # read back, then rid again of a secret written with escapes of its own
        text = _without(_ESCAPE.sub(lambda escape: chr(int(escape[1], 16)), text), secrets)
    text = _SECRET_QUERY.sub(r"\1=***", text)
    text = _EMAIL.sub("***@***", text)
    text = _LOGIN.sub("@***", text)
    text = _PHONE.sub("***", text)
    return text if limit is None or len(text) <= limit else text[:limit] + "…"


class _Scrubbed(logging.Filter):
    """Scrubs a library's record (urllib3 puts request lines, query string and all, into its own), should anyone set
    that library's level lower again."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            text = record.getMessage()
        except Exception:  # a malformed record: its raw parts are scrubbed instead
            text = f"{record.msg} {record.args}"
        record.msg, record.args = scrub(text), None
        return True


for _name in QUIET_LIBRARIES:
    logging.getLogger(_name).setLevel(logging.WARNING)
    logging.getLogger(_name).addFilter(_Scrubbed())
