"""Door 2: SQS messages (records, arrays of records, S3 notifications), with partial batch responses."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import unquote_plus

from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

from courier.delivery.driver import Budget
from courier.delivery.ledger import Ledger, LedgerUnavailableError
from courier.doors.files import CONTINUE, DroppedFile, Part, RetryLaterError, process_file
from courier.doors.messages import ORIGIN_ATTRIBUTE, PREPARED_ATTRIBUTE, Message, PreparedRecord, deliver_messages
from courier.doors.services import Services, budget_of
from courier.model import Destination
from courier.observability import logger
from courier.sources.records import as_rows

BACKOFF_SECONDS, MAX_BACKOFF_SECONDS = 30, 900


def handle_sqs_batch(event: dict[str, Any], context: Any, destination: Destination, services: Services) -> Any:
    """The plain messages' records go out together; S3 notifications and continuations are files, each on its
    own, within the same invocation's time. Only the messages with records still to deliver come back."""
    budget = budget_of(context)
    ledger = services.ledger()
    records = [SQSRecord(raw) for raw in event["Records"]]
    plain: list[Message] = []
    files: list[tuple[SQSRecord, Any]] = []
    for record in records:
        body, message = _read(record)
        if message is not None:
            plain.append(message)
        elif body is not None:
            files.append((record, body))
    failed: set[str] = set()
    if plain:
        try:
            failed |= set(deliver_messages(plain, destination, services, budget, ledger))
        except LedgerUnavailableError as error:
            logger.warning("the ledger could not be read: the messages come back", extra={"problem": str(error)})
            failed |= {message.id for message in plain}
    for record, body in files:
        try:
            process_control(body, record.message_id, destination, services, budget, ledger)
        except (RetryLaterError, LedgerUnavailableError) as error:
            logger.info("message to retry", extra={"message_id": record.message_id, "reason": str(error)})
            failed.add(record.message_id)
    _back_off(services, [record for record in records if record.message_id in failed])
    return {"batchItemFailures": [{"itemIdentifier": r.message_id} for r in records if r.message_id in failed]}


def _read(record: SQSRecord) -> tuple[Any, Message | None]:
    """(a control message's body, None), (None, None) for one to skip, or (None, a message of records)."""
    message_id = record.message_id
    try:
        body = json.loads(record.body)
    except (ValueError, RecursionError):
        message = Message(message_id, [])
        message.rejected.add(
            0, record.body, ["message: the body is not JSON (expected a record or an array of records)"]
        )
        return None, message
    if isinstance(body, dict) and body.get("Event") == "s3:TestEvent":
        logger.info("s3:TestEvent skipped")
        return None, None
    if isinstance(body, dict) and (CONTINUE in body or is_s3_notification(body)):
        return body, None
    attributes: dict[str, Any] = record.raw_event.get("messageAttributes") or {}
    prepared = (attributes.get(PREPARED_ATTRIBUTE) or {}).get("stringValue") == "1"
    records = body if isinstance(body, list) else [body]
    if prepared:
        records = [PreparedRecord(item) if isinstance(item, dict) else item for item in records]
    origin = str((attributes.get(ORIGIN_ATTRIBUTE) or {}).get("stringValue") or "")
    receives = int(record.attributes.approximate_receive_count or 1)
    return None, Message(message_id, list(as_rows(records)), origin=origin, receives=receives)


def _back_off(services: Services, records: list[SQSRecord]) -> None:
    """Messages that must be retried come back later each time (30 s, 60 s, … 15 min), then to the DLQ. Ten to a
    call; a call that fails changes nothing but the wait (the queue's visibility timeout), so it is only logged."""
    from botocore.exceptions import BotoCoreError, ClientError

    queue_url = services.settings.ingest_queue_url
    if not queue_url:
        return
    entries = []
    for number, record in enumerate(records):
        receives = int(record.attributes.approximate_receive_count or 1)
        delay = min(MAX_BACKOFF_SECONDS, BACKOFF_SECONDS * 2 ** (receives - 1))
        entries.append({"Id": str(number), "ReceiptHandle": record.receipt_handle, "VisibilityTimeout": delay})
    for start in range(0, len(entries), 10):
        try:
            answer = services.sqs.change_message_visibility_batch(
                QueueUrl=queue_url, Entries=entries[start : start + 10]
            )
            failures = [failure.get("Code", "") for failure in answer.get("Failed", [])]
        except (BotoCoreError, ClientError) as error:
            failures = [type(error).__name__]
        if failures:
            logger.warning(
                "a back-off was not set: the messages come back after the visibility timeout",
                extra={"problems": sorted(set(failures))},
            )


def dropped_files(notification: dict[str, Any]) -> list[DroppedFile]:
    """The objects an S3 notification announces; keys arrive URL-encoded ('a+b.csv', '%2F')."""
    files = []
    for entry in notification.get("Records", []):
        if not str(entry.get("eventName", "")).startswith("ObjectCreated"):
            continue
        s3 = entry["s3"]
        obj = s3["object"]
        files.append(
            DroppedFile(
                bucket=s3["bucket"]["name"],
                key=unquote_plus(obj["key"]),
                version_id=obj.get("versionId") or "",
                etag=obj.get("eTag") or "",
                sequencer=obj.get("sequencer") or "",
            )
        )
    return files


def is_s3_notification(body: Any) -> bool:
    records = body.get("Records") if isinstance(body, dict) else None
    return isinstance(records, list) and bool(records) and records[0].get("eventSource") == "aws:s3"


def process_control(
    body: dict[str, Any], message_id: str, destination: Destination, services: Services, budget: Budget, ledger: Ledger
) -> None:
    """A continuation, or an S3 notification: the files it names. Raises when the message must come back."""
    if CONTINUE in body:
        process_file(DroppedFile(**body[CONTINUE]), destination, services, budget, ledger, Part.from_json(body))
        return
    for file in dropped_files(body):
        if ledger.claim(f"file:{file.unit}", message_id) != message_id:
            logger.info("duplicate S3 notification skipped", extra={"source": file.unit})
            continue
        process_file(file, destination, services, budget, ledger)
