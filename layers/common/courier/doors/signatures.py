"""Webhook signatures, checked before anything is queued. Two kinds, chosen per stack (`WEBHOOK_SIGNING`):

- `courier` (the default): `X-Courier-Timestamp: <Unix seconds>` and
  `X-Courier-Signature: sha256=<hex HMAC-SHA256(secret, canonical)>`, where canonical is

      <timestamp> LF <METHOD> LF <path> LF <query> LF <raw body>

  path is the route (`/appmetrica/events`, without the stage or a custom domain's base path) and query the call's
  query parameters sorted by name then value, each `name=value` percent-encoded as RFC 3986 says
  (`urlencode(sorted(pairs), quote_via=quote)`), joined with `&`; '' without a query.
- `hmac`: a provider's own HMAC-SHA256 — the signature in a header of its choosing (`WEBHOOK_SIGNATURE_HEADER`)
  after a prefix (`WEBHOOK_SIGNATURE_PREFIX`), hex or base64, over the body or over `<timestamp>.<body>` with the
  timestamp in `WEBHOOK_TIMESTAMP_HEADER` after `WEBHOOK_TIMESTAMP_PREFIX`. A header's value is read as
  comma-separated parts, so `Stripe-Signature: t=…,v1=…` gives both.

A timestamp more than 5 minutes old or more than 1 minute ahead is refused, and so is a signature already used: its
hash is claimed in the ledger table (a conditional put), or held in memory until it leaves the window where there is
no table. Every malformed header is a refusal with a reason, never an error."""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import re
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol
from urllib.parse import quote, urlencode

from courier.settings import Settings

MAX_AGE_SECONDS = 300  # a timestamp older than this is refused
MAX_AHEAD_SECONDS = 60  # a timestamp further ahead than this (the sender's clock) is refused
MAX_HEADER_CHARS = 1024  # a signature or timestamp header longer than this is malformed
MAX_PARTS = 8  # a header with more comma-separated parts than this is malformed
HEX = re.compile(r"[0-9a-fA-F]{64}")
BASE64 = re.compile(r"[A-Za-z0-9+/]{43}=")
STAMP = re.compile(r"[0-9]{1,12}")
REPLAY_PREFIX = "webhook-signature:"  # the ledger key of a signature that was used


@dataclass(frozen=True)
class Scheme:
    """How a stack's webhooks are signed."""

    kind: str  # courier | hmac
    signature_header: str
    signature_prefix: str = ""
    encoding: str = "hex"  # hex | base64
    signed_content: str = "body"  # body | timestamp.body (hmac); courier: the canonical string
    timestamp_header: str = ""
    timestamp_prefix: str = ""

    def problem(self) -> str:
        """What is wrong with the configuration ('' when nothing)."""
        if self.kind == "courier":
            return ""
        if not self.signature_header:
            return "WEBHOOK_SIGNING=hmac needs WEBHOOK_SIGNATURE_HEADER"
        if self.signed_content == "timestamp.body" and not self.timestamp_header:
            return "WEBHOOK_SIGNED_CONTENT=timestamp.body needs WEBHOOK_TIMESTAMP_HEADER"
        return ""

    @property
    def timestamped(self) -> bool:
        return self.kind == "courier" or self.signed_content == "timestamp.body"


COURIER = Scheme("courier", "X-Courier-Signature", "sha256=", "hex", "courier", "X-Courier-Timestamp")


def scheme_of(settings: Settings) -> Scheme | None:
    """The stack's scheme; None when signing is off (`WEBHOOK_SIGNING=off`, or unset without a signing secret)."""
    mode = settings.webhook_signing
    if not mode:
        mode = "courier" if settings.webhook_signing_secret or settings.webhook_signing_secret_secret else "off"
    if mode == "off":
        return None
    if mode == "courier":
        return COURIER
    return Scheme(
        "hmac",
        settings.webhook_signature_header,
        settings.webhook_signature_prefix,
        settings.webhook_signature_encoding,
        settings.webhook_signed_content,
        settings.webhook_timestamp_header,
        settings.webhook_timestamp_prefix,
    )


SIGNING_OFF = "webhook signing is off: HTTPS calls are checked by the API key only (set WEBHOOK_SIGNING)"


@dataclass(frozen=True)
class Call:
    """What of an HTTPS call a signature covers."""

    method: str
    path: str
    query: Sequence[tuple[str, str]]
    headers: Mapping[str, str]
    body: bytes


@dataclass(frozen=True)
class Verdict:
    problem: str = ""  # why the call is refused; '' when it is authentic
    replay_key: str = ""  # the key under which the signature is remembered ('' when it has no timestamp)
    expires: float = 0.0  # when the timestamp leaves the window (the key may be forgotten then)


class Seen(Protocol):
    def claim(self, key: str, owner: str, expires: float = 0) -> str: ...


def canonical_query(pairs: Sequence[tuple[str, str]]) -> str:
    return urlencode(sorted(pairs), quote_via=quote)


def canonical(timestamp: str, method: str, path: str, query: Sequence[tuple[str, str]], body: bytes) -> bytes:
    head = f"{timestamp}\n{method.upper()}\n{path}\n{canonical_query(query)}\n"
    return head.encode("utf-8") + body


def sign(
    secret: str,
    timestamp: str,
    body: bytes,
    *,
    method: str = "POST",
    path: str,
    query: Sequence[tuple[str, str]] = (),
) -> str:
    """Courier's `X-Courier-Signature` value for a call."""
    digest = hmac.new(secret.encode("utf-8"), canonical(timestamp, method, path, query, body), hashlib.sha256)
    return f"sha256={digest.hexdigest()}"


def verify(call: Call, secret: str, scheme: Scheme, now: float | None = None) -> Verdict:
    """Whether a call is authentic, and under which key its signature is remembered. The reason says what is wrong
    with the headers, never anything that would help forge a signature."""
    now = time.time() if now is None else now
    signature_value = _header(call.headers, scheme.signature_header)
    timestamp = ""
    if scheme.timestamped:
        timestamp_value = _header(call.headers, scheme.timestamp_header)
        if not signature_value or not timestamp_value:
            headers = dict.fromkeys((scheme.timestamp_header, scheme.signature_header))
            return Verdict(f"the call is not signed ({' and '.join(headers)} {_are(headers)} required)")
        timestamp, problem = _timestamp(timestamp_value, scheme, now)
        if problem:
            return Verdict(problem)
    elif not signature_value:
        return Verdict(f"the call is not signed ({scheme.signature_header} is required)")
    candidates, problem = _signatures(signature_value, scheme)
    if problem:
        return Verdict(problem)
    expected = hmac.new(secret.encode("utf-8"), _content(call, scheme, timestamp), hashlib.sha256).digest()
    matched = next((candidate for candidate in candidates if hmac.compare_digest(candidate, expected)), None)
    if matched is None:
        return Verdict("the signature does not match")
    if not timestamp:
        return Verdict()
    key = REPLAY_PREFIX + hashlib.sha256(matched).hexdigest()
    return Verdict(replay_key=key, expires=int(timestamp) + MAX_AGE_SECONDS)


def first_use(verdict: Verdict, owner: str, seen: Seen | None) -> bool:
    """True when the call's signature was not used before: recorded in `seen` (the ledger table, a conditional put)
    or, without one, in this process's memory until it expires."""
    if not verdict.replay_key:
        return True
    if seen is not None:
        return seen.claim(verdict.replay_key, owner, verdict.expires) == owner  # the item expires with the window
    return _MEMORY.claim(verdict.replay_key, owner, verdict.expires) == owner


class _Memory:
    """Used signatures in memory (local runs without a table), each forgotten once out of its window."""

    def __init__(self) -> None:
        self._owners: dict[str, tuple[str, float]] = {}
        self._lock = threading.Lock()

    def claim(self, key: str, owner: str, expires: float) -> str:
        now = time.time()
        with self._lock:
            if len(self._owners) > 10_000:
                self._owners = {k: v for k, v in self._owners.items() if v[1] >= now}
            found = self._owners.get(key)
            if found is not None and found[1] >= now:
                return found[0]
            self._owners[key] = (owner, expires)
            return owner


_MEMORY = _Memory()


def _header(headers: Mapping[str, str], name: str) -> str:
    wanted = name.lower()
    return next((value or "" for key, value in headers.items() if key.lower() == wanted), "")


def _are(headers: Mapping[str, None]) -> str:
    return "are" if len(headers) > 1 else "is"


def _parts(value: str, prefix: str) -> tuple[list[str], str]:
    """The comma-separated parts of a header value that start with `prefix`, without it."""
    if len(value) > MAX_HEADER_CHARS:
        return [], f"longer than {MAX_HEADER_CHARS} characters"
    parts = [part.strip() for part in value.split(",")]
    if len(parts) > MAX_PARTS:
        return [], f"more than {MAX_PARTS} comma-separated parts"
    found = [part[len(prefix) :] for part in parts if part.startswith(prefix)]
    if not found:
        return [], f"no part starting with {prefix!r}" if prefix else "empty"
    return found, ""


def _timestamp(value: str, scheme: Scheme, now: float) -> tuple[str, str]:
    """The timestamp's digits, or why it is refused."""
    name = scheme.timestamp_header
    found, problem = _parts(value, scheme.timestamp_prefix)
    if not problem and len(found) != 1:
        problem = "more than one timestamp"
    if not problem and not STAMP.fullmatch(found[0]):
        problem = "not Unix seconds (1 to 12 ASCII digits)"
    if problem:
        return "", f"the signature's timestamp ({name}) is malformed: {problem}"
    stamp = int(found[0])
    if now - stamp > MAX_AGE_SECONDS:
        return "", f"the signature's timestamp is more than {MAX_AGE_SECONDS // 60} minutes old"
    if stamp - now > MAX_AHEAD_SECONDS:
        return "", f"the signature's timestamp is more than {MAX_AHEAD_SECONDS // 60} minute ahead"
    return found[0], ""


def _signatures(value: str, scheme: Scheme) -> tuple[list[bytes], str]:
    """The digests a header carries, or why it is malformed."""
    found, problem = _parts(value, scheme.signature_prefix)
    shape = f"{scheme.signature_prefix}<{'64 hex digits' if scheme.encoding == 'hex' else '44 base64 characters'}>"
    digests = []
    for text in found:
        if scheme.encoding == "hex" and HEX.fullmatch(text):
            digests.append(bytes.fromhex(text))
        elif scheme.encoding == "base64" and BASE64.fullmatch(text):
            try:
                digests.append(base64.b64decode(text, validate=True))
            except (binascii.Error, ValueError):
                continue
    if problem or not digests:
        reason = problem or f"expected {shape}"
        return [], f"the signature ({scheme.signature_header}) is malformed: {reason}"
    return digests, ""


def _content(call: Call, scheme: Scheme, timestamp: str) -> bytes:
    if scheme.kind == "courier":
        return canonical(timestamp, call.method, call.path, call.query, call.body)
    if scheme.signed_content == "timestamp.body":
        return timestamp.encode("ascii") + b"." + call.body
    return call.body
