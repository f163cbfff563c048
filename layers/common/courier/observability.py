"""The one Logger, Metrics and Tracer, and the one scrubber every outgoing text passes through."""

from __future__ import annotations

import re

from aws_lambda_powertools import Logger, Metrics

logger = Logger(service="courier")
metrics = Metrics(namespace="Courier", service="courier")

# The Post API key travels in the query string; requests puts whole URLs into its exceptions.
_SECRET_QUERY = re.compile(r"(post_api_key|token)=[^&\s'\"]*", re.IGNORECASE)
# A destination's error text may quote what it refused: e-mail addresses and phone numbers are masked.
_EMAIL = re.compile(r"[^\s@\"',;<>()]+@[^\s@\"',;<>()]+\.[A-Za-z]{2,}")
_PHONE = re.compile(r"\+?\d[\d ()\-]{6,}\d")


def scrub(text: str, *secrets: str) -> str:
    """Remove secret query parameters, known secret values, e-mail addresses and phone numbers from a text bound
    for a log, a report or an answer."""
    text = _SECRET_QUERY.sub(r"\1=***", text)
    text = _EMAIL.sub("***@***", text)
    text = _PHONE.sub("***", text)
    for secret in secrets:
        if secret:
            text = text.replace(secret, "***")
    return text
