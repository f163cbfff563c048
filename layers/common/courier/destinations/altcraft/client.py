"""The client for one `Method`: one record to its single path, several to its batch path; every answer is
read for `error` / `error_text` (not only the HTTP status), and batch `result[i]` maps back to record i.

A batch answer (error 0) whose `result` does not map one-to-one onto its records (shorter, longer, not a list, or
reordered: results that carry a record's matching key at another place) is mapped where it can be: results carrying
a key that names exactly one record answer that record. Every other record of a profile method goes again alone
when resending is safe (plain values), and is refused with the lost-answer reason when it is not (incr / add /
delete); a trigger's records are never sent again. Every later request of that sender goes one profile at a time,
whose answers always map back."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, cast

from courier.destinations.altcraft import rules
from courier.destinations.altcraft.batch import AltcraftBatch, single_body
from courier.destinations.altcraft.methods import Method
from courier.http.retrying import (
    Attempts,
    LazySession,
    RateLimiter,
    RetryPolicy,
    SaidItem,
    SaidResult,
    post_with_retries,
    said_of,
)
from courier.model import Batch, ItemResult, Sender, SendResult, Status
from courier.observability import logger, scrub
from courier.settings import Settings, altcraft_api_token

if TYPE_CHECKING:
    import requests

JSON_HEADERS = {"Content-Type": "application/json"}
MAX_CHARS = 9 * 1024 * 1024  # Altcraft advises at most 10 MB a request
MAX_SAID = 300  # characters of Altcraft's error_text a rejected row shows
CONFIGURATION_FAULTS = {
    401: "Altcraft wants a token: set ALTCRAFT_API_TOKEN or ALTCRAFT_API_TOKEN_SECRET",
    402: "Altcraft's tariff limit is reached: raise the plan's limit",
    403: "Altcraft refused the token: check ALTCRAFT_API_TOKEN(_SECRET) and the token's rights on the database",
}
AMBIGUOUS = (
    "sent, but no clear answer came back ({detail}); the record has incr/add/delete functions, so it was not sent "
    "again: check the profile in Altcraft before sending it once more"
)
AMBIGUOUS_LAUNCH = (
    "sent, but no clear answer came back ({detail}); starting the trigger again would send its message twice, so it "
    "was not sent again: check in Altcraft whether the message went out before sending it once more"
)
UNMAPPED = (
    "sent in a batch whose answer does not say which records {effect} ({detail}); not sent again, so no "
    "message goes twice: check in Altcraft whether the message went out before sending it once more"
)


class AltcraftSender:
    max_chars = MAX_CHARS

    def __init__(self, settings: Settings, method: Method, session: requests.Session | None = None) -> None:
        self._settings = settings
        self.method = method
        base = settings.altcraft_api_url.rstrip("/") + "/api/v1.1/"
        self._single_url = base + method.single_path
        self._batch_url = base + method.batch_path
        self._unsure = method.unsure or (AMBIGUOUS if method.may_resend else AMBIGUOUS_LAUNCH)
        self.one_by_one = False  # set when a batch answer could not be mapped back to its records
        self._session = LazySession(session)
        self._limiter = RateLimiter(settings.altcraft_max_rps)
        self._policy = RetryPolicy(base_delay=settings.retry_base_seconds)
        self.max_rows = settings.altcraft_batch_size

    def may_resend(self, batch: Batch) -> bool:
        """Plain values set twice are set once; incr / add / delete applied twice are not, nor is a trigger's start."""
        return self.method.may_resend and not cast(AltcraftBatch, batch).non_idempotent

    def _careful(self, data: dict[str, Any]) -> bool:
        """A request that may have arrived must not go again."""
        return not self.method.may_resend or rules.uses_non_idempotent(data)

    def send(self, batch: Batch, deadline: float) -> SendResult:
        altcraft = cast(AltcraftBatch, batch)
        token = altcraft_api_token(self._settings)
        if altcraft.single or self.one_by_one:
            return self._send_each(altcraft, token, deadline)
        careful = not self.may_resend(altcraft)
        attempts = self._post(self._batch_url, altcraft.batch_body(token), deadline, not careful)
        answer = _answer(attempts, token)
        whole = _whole_request(attempts, answer, careful, token, self._unsure)
        if whole is not None:  # a batch refused whole, not for a lost answer: halving finds the records it refuses
            split = whole.status is Status.REJECTED and not attempts.possibly_sent and attempts.answer is not None
            made, retried = attempts.requests, attempts.retries
            return SaidResult(whole.status, whole.reason, made, retried, split=split, said=said_of(whole))
        results = answer.get("result")
        if not self.method.answer_documented and _bare_ids(results, altcraft.rows):
            self._go_one_by_one()
            items = tuple(ItemResult(Status.DELIVERED) for _ in results)  # ids not tied to records: order unknown
            return SendResult(Status.DELIVERED, requests=attempts.requests, retries=attempts.retries, items=items)
        mapped = map_results(results, altcraft.bodies)
        if all(result is not None for result in mapped):
            items = tuple(_item(result, token) for result in mapped)
            return SendResult(Status.DELIVERED, requests=attempts.requests, retries=attempts.retries, items=items)
        self._go_one_by_one()
        detail = _unmapped_detail(results, altcraft.rows)
        if not self.method.answer_documented and not any(result is not None for result in mapped):
            return SendResult(
                Status.REJECTED,
                UNMAPPED.format(detail=detail, effect=self.method.effect),
                attempts.requests,
                attempts.retries,
            )
        return self._settle_unmapped(altcraft, mapped, detail, attempts, token, deadline)

    def _go_one_by_one(self) -> None:
        if not self.one_by_one:
            logger.warning(
                "Altcraft's batch answer does not map back to its records: this function now sends one profile a "
                "request",
                extra={"method": self.method.name},
            )
        self.one_by_one = True

    def _settle_unmapped(
        self,
        batch: AltcraftBatch,
        mapped: list[Any],
        detail: str,
        attempts: Attempts,
        token: str,
        deadline: float,
    ) -> SendResult:
        """Records the answer named keep its result; the others go again alone where that is safe (plain profile
        values set twice are set once), and are refused with the lost-answer reason where it is not."""
        items: list[ItemResult | None] = [None if result is None else _item(result, token) for result in mapped]
        again = [
            p for p, item in enumerate(items) if item is None and not self._careful(batch.bodies[p].get("data") or {})
        ]
        refused = UNMAPPED.replace("{effect}", self.method.effect) if not self.method.may_resend else self._unsure
        for position, item in enumerate(items):
            if item is None and position not in again:
                items[position] = ItemResult(Status.REJECTED, refused.format(detail=detail))
        made, retried = attempts.requests, attempts.retries
        if again:
            alone = self._send_each(batch.subset(again), token, deadline)
            made, retried = made + alone.requests, retried + alone.retries
            for position, item in zip(again, alone.items or (), strict=True):
                items[position] = item
        settled = tuple(item for item in items if item is not None)
        return SendResult(Status.DELIVERED, requests=made, retries=retried, items=settled)

    def _send_each(self, batch: AltcraftBatch, token: str, deadline: float) -> SendResult:
        items: list[ItemResult] = []
        made = retried = 0
        for body in batch.bodies:
            if items and items[-1].status is Status.RETRY:  # the destination is unavailable: keep the rest
                items.append(items[-1])
                continue
            careful = self._careful(body.get("data") or {})
            attempts = self._post(self._single_url, single_body(body, token), deadline, not careful)
            made, retried = made + attempts.requests, retried + attempts.retries
            answer = _answer(attempts, token)
            whole = _whole_request(attempts, answer, careful, token, self._unsure, self.method.absent_is_done)
            items.append(whole if whole is not None else _item(answer, token))
        return SendResult(Status.DELIVERED, requests=made, retries=retried, items=tuple(items))

    def _post(self, url: str, body: bytes, deadline: float, idempotent: bool) -> Attempts:
        """A request that may have arrived goes again only when that changes nothing (`idempotent`)."""
        return post_with_retries(
            self._session.get(),
            url,
            params={},
            body=body,
            headers=JSON_HEADERS,
            deadline=deadline,
            limiter=self._limiter,
            policy=self._policy,
            resend_when_unsure=idempotent,
            timeout=self._settings.http_read_timeout_seconds,
        )


def _bare_ids(results: Any, rows: int) -> bool:
    """A bare list of one profile id per record: start_batch's documented `result`
    (docs/contracts/altcraft.md#trigger-batch)."""
    return isinstance(results, list) and len(results) == rows and all(isinstance(r, str) for r in results)


def _unmapped_detail(results: Any, rows: int) -> str:
    if not isinstance(results, list):
        return "no result list"
    if len(results) != rows:
        return f"{len(results)} results for {rows} records"
    return f"{rows} results not in the records' order"


def _identity(body: dict[str, Any]) -> dict[str, Any]:
    """A record's matching key values, as a result that names its record would carry them."""
    return {name: body[name] for name in ("email", "phone", "profile_id", "field_value") if name in body}


def map_results(results: Any, bodies: list[dict[str, Any]]) -> list[Any]:
    """The result that answers each record, or None where the answer does not say. One result object per record,
    none of them carrying a matching key: result i answers record i (the documented reading). Results that carry a
    key (`email`, `phone`, `profile_id`, `field_value`) answer the one record with that key, wherever they stand;
    when any result carries one, a result without a key answers nobody (its place is not to be trusted)."""
    rows = len(bodies)
    if not isinstance(results, list):
        return [None] * rows
    identities = [_identity(body) for body in bodies]
    names = {name for identity in identities for name in identity}
    keyed = [isinstance(r, dict) and any(name in r for name in names) for r in results]
    if any(keyed):
        return _claimed([r for r, has_key in zip(results, keyed, strict=True) if has_key], identities)
    if len(results) == rows and all(isinstance(r, dict) for r in results):
        return list(results)
    return [None] * rows


def _claimed(keyed: list[dict[str, Any]], identities: list[dict[str, Any]]) -> list[Any]:
    """Each record's one result that names it alone; None where none or several do."""
    claims: dict[int, list[Any]] = {}
    for result in keyed:
        named = [position for position, identity in enumerate(identities) if _names(result, identity)]
        if len(named) == 1:
            claims.setdefault(named[0], []).append(result)
    return [claims[p][0] if len(claims.get(p, ())) == 1 else None for p in range(len(identities))]


def _names(result: dict[str, Any], identity: dict[str, Any]) -> bool:
    """The result carries one of the record's keys at least, and no key of another value."""
    return any(n in result for n in identity) and all(identity[n] == result[n] for n in identity if n in result)


def _answer(attempts: Attempts, token: str) -> Any:
    if attempts.answer is None:
        return None
    try:
        return json.loads(attempts.answer.body)
    except ValueError:
        return None


def _code(answer: Any, http_status: int) -> tuple[int, str]:
    """Altcraft's own code (the body's `error`, else the HTTP status) and its text."""
    body = answer if isinstance(answer, dict) else {}
    code = body.get("error")
    text = str(body.get("error_text") or "")
    if not isinstance(code, int) or isinstance(code, bool):
        code = 0 if 200 <= http_status < 300 else http_status
    if code == 0 and not 200 <= http_status < 300:
        code = http_status
    return code, text


NOT_FOUND = 404


def _classify(code: int, text: str, token: str, absent_is_done: bool = False) -> ItemResult:
    """The reason is Courier's words only (it reaches logs, the ledger and answers); Altcraft's `error_text`, which
    may echo the request, goes scrubbed to the rejected file alone."""
    reason = f"Altcraft error {code}"
    if code == NOT_FOUND and absent_is_done:  # deleting a profile that is gone: the database is as asked
        return ItemResult(Status.DELIVERED)
    if code in CONFIGURATION_FAULTS:
        logger.error(CONFIGURATION_FAULTS[code] + "; the records stay queued until it is fixed", extra={"code": code})
        return ItemResult(Status.RETRY, reason)
    if code in (420, 429) or code >= 500:
        return ItemResult(Status.RETRY, reason)
    return SaidItem(Status.REJECTED, reason, said=scrub(text, token, limit=MAX_SAID).strip())


def _whole_request(
    attempts: Attempts, answer: Any, careful: bool, token: str, unsure: str, absent_is_done: bool = False
) -> ItemResult | None:
    """The outcome of a request that failed as a whole; None when it succeeded (items to read). `unsure` says why
    a request that may have arrived was not sent again."""
    response = attempts.answer
    if attempts.possibly_sent and careful:
        return ItemResult(Status.REJECTED, unsure.format(detail=attempts.detail))
    if response is None:
        return ItemResult(Status.RETRY, attempts.detail)
    if 300 <= response.status < 400:
        logger.error("Altcraft's address redirects; set ALTCRAFT_API_URL to the final address (records stay queued)")
        return ItemResult(Status.RETRY, f"Altcraft answered {response.status} (a redirect, not followed)")
    if 200 <= response.status < 300 and not isinstance(answer, dict):  # not Altcraft's answer: not a delivery
        detail = f"HTTP {response.status} without Altcraft's JSON answer"
        return (
            ItemResult(Status.REJECTED, unsure.format(detail=detail)) if careful else ItemResult(Status.RETRY, detail)
        )
    code, text = _code(answer, response.status)
    return None if code == 0 else _classify(code, text, token, absent_is_done)


def _item(result: Any, token: str) -> ItemResult:
    code, text = _code(result, 200)
    if code != 0:
        return _classify(code, text, token)
    # profiles/delete answers the id inside `data`; the others at the top
    body = result if isinstance(result, dict) else {}
    inner = body.get("data")
    profile_id = body.get("profile_id") or (inner.get("profile_id") if isinstance(inner, dict) else None)
    return ItemResult(Status.DELIVERED, destination_id=str(profile_id or ""))


def altcraft_sender(method: Method) -> Callable[[Settings], Sender]:
    def make(settings: Settings) -> Sender:
        return AltcraftSender(settings, method)

    return make
