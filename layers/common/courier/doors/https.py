"""Door 3: POST /<destination>/<endpoint> through API Gateway (REST, API key required)."""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response, content_types

from courier.delivery.driver import Delivery
from courier.delivery.ledger import LedgerUnavailableError
from courier.delivery.preparation import Preparation, PreparedRecord, preparation
from courier.delivery.reports import RejectedRows, door_key
from courier.delivery.tally import Tally
from courier.destinations.values import compact_json
from courier.doors.faults import Fault, fault_of
from courier.doors.messages import PREPARED_ATTRIBUTE
from courier.doors.services import Services, budget_of
from courier.doors.signatures import Call, Scheme, Verdict, first_use, scheme_of, verify
from courier.http.retrying import SAID
from courier.mappings import MappingUnavailableError
from courier.model import Destination, RowPreparer, field_map
from courier.observability import BYTES_READ, RECORDS_QUEUED, VALUES_DROPPED, invocation, logger
from courier.settings import webhook_signing_secret
from courier.sources.api_bodies import BadBodyError, body_rows
from courier.sources.records import RecordsSource

if TYPE_CHECKING:
    from courier.mappings.rules import CompiledMapping

MESSAGE_CHARS = 200_000  # records per SQS message are packed under this, well inside SQS's limit
SYNC_SECONDS = 24.0  # ?mode=sync stops sending after this: API Gateway gives up on a call at 29 s


def handle_https_request(event: dict[str, Any], context: Any, destination: Destination, services: Services) -> Any:
    app = APIGatewayRestResolver()

    @app.post(destination.route)
    def ingest() -> Response[str]:
        request = app.current_event
        request_id = request.request_context.request_id or getattr(context, "aws_request_id", "local")
        try:
            raw = _body_bytes(request.body, bool(request.is_base64_encoded), services.settings.max_body_bytes)
        except BadBodyError as error:
            return _bad_body(error, request_id)
        invocation.count(BYTES_READ, len(raw))
        scheme = scheme_of(services.settings)
        if scheme is not None:
            refusal = _refusal(request.raw_event, raw, scheme, request_id, services)
            if refusal is not None:
                return refusal
        try:
            body = _text(raw)
            rows = body_rows(body, _header(request.headers, "content-type"))
        except BadBodyError as error:
            return _bad_body(error, request_id)
        if len(rows) > services.settings.max_records_per_request:
            limit = services.settings.max_records_per_request
            return _answer(413, {"error": f"at most {limit} records per request", "request_id": request_id})
        query = request.query_string_parameters or {}
        mapping = None
        if query.get("mapping"):
            try:
                mapping = services.mappings(destination).get(query["mapping"])
            except MappingUnavailableError as error:  # nothing accepted: the caller sends again after the fix
                status = (fault_of(error) or Fault.SETUP).http_status
                return _answer(status, {"error": str(error), "request_id": request_id})
        return _ingest(rows, query.get("mode") == "sync", request_id, destination, services, context, mapping)

    return app.resolve(event, context)


def _refusal(
    event: Mapping[str, Any], raw: bytes, scheme: Scheme, request_id: str, services: Services
) -> Response[str] | None:
    """None when the call is signed as the stack wants and its signature is new; else the answer (401 with the
    reason; 500 or 503 when the check itself cannot be made). Nothing is queued for a refused call."""
    settings = services.settings
    problem = scheme.problem()
    try:
        secret = webhook_signing_secret(settings)
    except Exception as error:  # Secrets Manager fails in many ways; the call is refused either way
        logger.error("the webhook signing secret could not be read", extra={"error": type(error).__name__})
        return _answer(500, {"error": "the webhook signing secret could not be read", "request_id": request_id})
    if not secret:
        problem = problem or "webhook signing is on but WEBHOOK_SIGNING_SECRET(_SECRET) is not set"
    if problem:
        logger.error("webhook signing is misconfigured", extra={"request_id": request_id, "reason": problem})
        return _answer(500, {"error": "webhook signing is misconfigured", "request_id": request_id})
    call = Call(
        str(event.get("httpMethod") or ""), str(event.get("path") or ""), _query(event), event.get("headers") or {}, raw
    )
    verdict = verify(call, secret, scheme)
    if not verdict.problem:
        seen = services.ledger() if settings.idempotency_table else None
        try:
            if not first_use(verdict, request_id, seen):
                verdict = Verdict("the signature was already used (sign each call anew)")
        except LedgerUnavailableError:
            logger.warning("webhook replay check unavailable", extra={"request_id": request_id})
            return _answer(503, {"error": "the call could not be checked now; try again", "request_id": request_id})
    if verdict.problem:
        logger.warning("webhook call refused", extra={"request_id": request_id, "reason": verdict.problem})
        return _answer(401, {"error": verdict.problem, "request_id": request_id})
    return None


def _query(event: Mapping[str, Any]) -> list[tuple[str, str]]:
    """The call's query parameters, every value of each."""
    multi = event.get("multiValueQueryStringParameters") or {}
    if multi:
        return [(str(name), str(value)) for name, values in multi.items() for value in (values or [])]
    return [(str(name), str(value)) for name, value in (event.get("queryStringParameters") or {}).items()]


class BodyTooLargeError(BadBodyError):
    pass


def _bad_body(error: BadBodyError, request_id: str) -> Response[str]:
    status = 413 if isinstance(error, BodyTooLargeError) else 400
    return _answer(status, {"error": str(error), "request_id": request_id})


def _header(headers: Mapping[str, str] | None, name: str) -> str:
    return next((value for key, value in (headers or {}).items() if key.lower() == name), "")


def _body_bytes(body: str | None, is_base64: bool, limit: int) -> bytes:
    raw = body or ""
    if is_base64:
        try:
            data = base64.b64decode(raw, validate=True)
        except binascii.Error:
            raise BadBodyError("the body is not valid base64") from None
    else:
        data = raw.encode("utf-8", "surrogatepass")
    if len(data) > limit:
        raise BodyTooLargeError(f"the body is larger than {limit} bytes; send a file to the bucket instead")
    return data


def _text(data: bytes) -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise BadBodyError("the body is not valid UTF-8") from None


class _Checked:
    """A call's records after their checks: accepted (prepared), refused with reasons, left out by the mapping's
    filter, and the first-party values dropped from accepted ones."""

    def __init__(self) -> None:
        self.rejected_rows = RejectedRows()
        self.refused: list[dict[str, Any]] = []
        self.accepted: list[tuple[int, Any, dict[str, Any]]] = []  # (index, record as sent to us, prepared)
        self.dropped: list[dict[str, Any]] = []
        self.skipped = 0

    def reject(self, index: int, record: Any, errors: list[str]) -> None:
        self.refused.append({"index": index, "errors": errors})
        self.rejected_rows.add(index, record, errors)

    def check(self, rows: list[tuple[int, Any, str]], prepare: RowPreparer) -> None:
        for index, record, parse_error in rows:
            fields, errors = prepare(record) if not parse_error else (None, [parse_error])
            if fields is None and not errors:
                self.skipped += 1
            elif fields is None:
                self.reject(index, record, errors)
            else:
                self.accepted.append((index, record, field_map(fields)))
                if errors:
                    self.dropped.append({"index": index, "dropped": errors})

    def answer(self, request_id: str, mapped: bool) -> dict[str, Any]:
        answer: dict[str, Any] = {"accepted": len(self.accepted), "rejected": self.refused, "request_id": request_id}
        if mapped:
            answer["skipped"] = self.skipped
        if self.dropped:
            answer["dropped_values"] = self.dropped
        return answer


def _ingest(
    rows: list[tuple[int, Any, str]],
    sync: bool,
    request_id: str,
    destination: Destination,
    services: Services,
    context: Any,
    mapping: CompiledMapping | None = None,
) -> Response[str]:
    """Checks the call's records, then delivers the accepted ones now (`?mode=sync`) or queues them."""
    # as_is: the records checked here are prepared once; delivered now, they go as prepared
    setup = preparation(destination, services.settings, mapping, as_is=True)
    checked = _Checked()
    checked.check(rows, setup.prepare)
    accepted = checked.accepted
    # What the door itself settled: records refused by their checks, and first-party values dropped
    Tally(read=len(rows) if not sync else len(rows) - len(accepted), rejected=len(checked.refused)).count()
    invocation.count(VALUES_DROPPED, sum(len(item["dropped"]) for item in checked.dropped))
    answer = checked.answer(request_id, mapping is not None)
    status = 202 if accepted else 200 if checked.skipped else 400
    if accepted and sync:
        status = _deliver_now(checked, answer, destination, setup, services, context, request_id)
    elif accepted:
        _enqueue([fields for _, _, fields in accepted], services)
        invocation.count(RECORDS_QUEUED, len(accepted))
    if services.settings.data_bucket:
        checked.rejected_rows.upload(
            services.s3, services.settings.data_bucket, door_key("https", destination.name, request_id)
        )
    logger.info(
        "request processed",
        extra={
            "request_id": request_id,
            "status": status,
            "accepted": len(accepted),
            "rejected": len(checked.refused),
            "sync": sync,
        },
    )
    return _answer(status, answer)


def _deliver_now(
    checked: _Checked,
    answer: dict[str, Any],
    destination: Destination,
    setup: Preparation,
    services: Services,
    context: Any,
    request_id: str,
) -> int:
    """`?mode=sync`: the accepted records delivered within the call's time, the rest queued; the answer says which.
    Returns the call's status."""
    results: list[dict[str, Any]] = []
    id_name = destination.result_id

    def delivered(index: int, destination_id: str) -> None:
        if id_name:
            results.append({"index": index, id_name: destination_id})

    # Each record was prepared above: it is sent as it is, and a refusal shows the record as the caller sent it
    originals = {index: record for index, record, _ in checked.accepted}

    def refused_by_destination(index: int, record: Any, errors: list[str]) -> None:
        # the answer gives Courier's reasons; what the destination said is for the rejected file only
        checked.refused.append({"index": index, "errors": [error for error in errors if not error.startswith(SAID)]})
        checked.rejected_rows.add(index, originals[index], errors)

    source = RecordsSource([(index, PreparedRecord(fields), "") for index, _, fields in checked.accepted])
    budget = budget_of(context, at_most=SYNC_SECONDS)
    delivery = Delivery(
        destination,
        setup.prepare,
        services.sender,
        budget,
        services.ledger(budget),
        f"https:{request_id}",
        refused_by_destination,
        delivered,
    )
    tally = delivery.run(source)
    if delivery.resume_at is not None:  # out of time: the rest is queued
        delivery.leave_pending(source.after(delivery.resume_at), "")
    tally.count()  # the accepted records: delivered, refused by the destination, or pending (queued)
    if id_name:
        answer["results"] = sorted(results, key=lambda item: item["index"])
    left = set(delivery.pending_indexes)
    pending = [fields for index, _, fields in checked.accepted if index in left]
    _enqueue(pending, services)
    answer.update(delivered=tally.delivered, queued=len(pending))
    checked.refused.sort(key=lambda item: item["index"])
    return 202 if pending else (200 if tally.delivered else 400)


def _enqueue(records: list[dict[str, Any]], services: Services) -> None:
    """Puts accepted records, as prepared, on the function's queue, packed into messages of bounded size and marked
    prepared, so that the SQS door sends them as they are."""
    if not records:
        return
    queue_url = services.settings.ingest_queue_url
    if not queue_url:
        raise RuntimeError("INGEST_QUEUE_URL is not set: the HTTPS door has nowhere to queue records")
    prepared = {PREPARED_ATTRIBUTE: {"DataType": "String", "StringValue": "1"}}

    def send(texts: list[str]) -> None:
        body = "[" + ",".join(texts) + "]"
        services.sqs.send_message(QueueUrl=queue_url, MessageBody=body, MessageAttributes=prepared)

    chunk: list[str] = []
    size = 0
    for record in records:
        text = compact_json(record)
        if chunk and size + len(text) > MESSAGE_CHARS:
            send(chunk)
            chunk, size = [], 0
        chunk.append(text)
        size += len(text) + 1
    send(chunk)


def _answer(status: int, body: dict[str, Any]) -> Response[str]:
    return Response(status_code=status, content_type=content_types.APPLICATION_JSON, body=json.dumps(body))
