"""Webhook signatures: `X-Courier-Signature: sha256=<hex HMAC-SHA256(secret, "<timestamp>.<raw body>")>` with
`X-Courier-Timestamp` (Unix seconds) no more than 5 minutes off, checked over the raw body bytes."""

from __future__ import annotations

import hashlib
import hmac
import time

TOLERANCE_SECONDS = 300


def sign(secret: str, timestamp: str, body: bytes) -> str:
    digest = hmac.new(secret.encode("utf-8"), timestamp.encode("ascii") + b"." + body, hashlib.sha256).hexdigest()
    return f"sha256={digest}"


def signature_problem(secret: str, timestamp: str, signature: str, body: bytes, now: float | None = None) -> str:
    """Why a call is not authentic ('' when it is). Says nothing that would help forge one."""
    if not timestamp or not signature:
        return "the call is not signed (X-Courier-Timestamp and X-Courier-Signature are required)"
    if not timestamp.isdigit() or abs((now or time.time()) - int(timestamp)) > TOLERANCE_SECONDS:
        return "the signature's timestamp is missing, malformed or more than 5 minutes off"
    if not hmac.compare_digest(sign(secret, timestamp, body), signature.strip()):
        return "the signature does not match"
    return ""
