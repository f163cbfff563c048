"""The one Logger, Metrics and Tracer, and the one scrubber every outgoing text passes through."""

from __future__ import annotations

import json
import logging
import re
from urllib.parse import quote, quote_plus

from aws_lambda_powertools import Logger, Metrics

logger = Logger(service="courier")
metrics = Metrics(namespace="Courier", service="courier")

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
