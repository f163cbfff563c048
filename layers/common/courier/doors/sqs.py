"""Door 2: SQS messages (records, arrays of records, S3 notifications), with partial batch responses."""

from __future__ import annotations

import json
import time
from typing import Any
from urllib.parse import unquote_plus

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

from courier.delivery.driver import Budget, Delivery
from courier.delivery.ledger import Ledger, LedgerUnavailableError
from courier.delivery.reports import RejectedRows, door_key
from courier.doors.files import CONTINUE, DroppedFile, Part, RetryLaterError, process_file
from courier.doors.services import Services, budget_of
from courier.model import Destination
from courier.observability import logger
from courier.sources.records import RecordsSource, as_rows

BACKOFF_SECONDS, MAX_BACKOFF_SECONDS = 30, 900


def handle_sqs_batch(event: dict[str, Any], context: Any, destination: Destination, services: Services) -> Any:
    budget = budget_of(context)
    ledger = services.ledger()
    processor = BatchProcessor(event_type=EventType.SQS, raise_on_entire_batch_failure=False)

    def record_handler(record: SQSRecord) -> None:
        try:
            process_message(record.body, record.message_id, destination, services, budget, ledger)
        except (RetryLaterError, LedgerUnavailableError):
            _back_off(services, record)
            raise

    return process_partial_response(event=event, record_handler=record_handler, processor=processor, context=context)


def _back_off(services: Services, record: SQSRecord) -> None:
    """A message that must be retried comes back later each time (30 s, 60 s, … 15 min), then to the DLQ."""
    receives = int(record.attributes.approximate_receive_count or 1)
    delay = min(MAX_BACKOFF_SECONDS, BACKOFF_SECONDS * 2 ** (receives - 1))
    queue_url = services.settings.ingest_queue_url
    if queue_url:
        services.sqs.change_message_visibility(
            QueueUrl=queue_url, ReceiptHandle=record.receipt_handle, VisibilityTimeout=delay
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


def process_message(
    body_text: str,
    message_id: str,
    destination: Destination,
    services: Services,
    budget: Budget,
    ledger: Ledger,
) -> None:
    """Delivers one message's records; raises when any must be retried, so only this message comes back. Through
    the ledger, what one delivery of the message sent is not sent again by a redelivery."""
    settings = services.settings
    rejected = RejectedRows()
    try:
        body = json.loads(body_text)
    except (ValueError, RecursionError):
        rejected.add(0, body_text, ["message: the body is not JSON (expected a record or an array of records)"])
        body = []
    if isinstance(body, dict) and body.get("Event") == "s3:TestEvent":
        logger.info("s3:TestEvent skipped")
        return
    if isinstance(body, dict) and CONTINUE in body:
        process_file(DroppedFile(**body[CONTINUE]), destination, services, budget, ledger, Part.from_json(body))
        return
    if is_s3_notification(body):
        for file in dropped_files(body):
            if ledger.claim(f"file:{file.unit}", message_id) != message_id:
                logger.info("duplicate S3 notification skipped", extra={"source": file.unit})
                continue
            process_file(file, destination, services, budget, ledger)
        return
    source = RecordsSource(list(as_rows(body if isinstance(body, list) else [body])))
    prepare = destination.make_preparer(settings, time.time())
    delivery = Delivery(destination, prepare, services.sender, budget, ledger, f"sqs:{message_id}", rejected.add)
    tally = delivery.run(source)
    if delivery.resume_at is not None:  # no time left in this invocation: the rest comes back with the message
        delivery.leave_pending(source.after(delivery.resume_at), "no time left in this invocation")
    logger.info(
        "message processed",
        extra={
            "message_id": message_id,
            **{k: v for k, v in tally.as_dict().items() if isinstance(v, int)},
            "retry_reason": tally.retry_reason,  # our own words or the destination's status, never a value
        },
    )
    if settings.data_bucket:
        rejected.upload(services.s3, settings.data_bucket, door_key("sqs", destination.name, message_id))
    if delivery.stopped:
        raise RetryLaterError(f"{tally.pending} records of message {message_id} must be retried: {tally.retry_reason}")
