"""The one Logger, Metrics and Tracer, and the one scrubber every outgoing text passes through."""

from __future__ import annotations

import re

from aws_lambda_powertools import Logger, Metrics

logger = Logger(service="courier")
metrics = Metrics(namespace="Courier", service="courier")

# The Post API key travels in the query string; requests puts whole URLs into its exceptions.
_SECRET_QUERY = re.compile(r"(post_api_key|token)=[^&\s'\"]*", re.IGNORECASE)


def scrub(text: str, *secrets: str) -> str:
    """Remove secret query parameters and any known secret value from a text bound for a log or a report."""
    text = _SECRET_QUERY.sub(r"\1=***", text)
    for secret in secrets:
        if secret:
            text = text.replace(secret, "***")
    return text
