"""Door 2: SQS messages (records, arrays of records, S3 notifications), with partial batch responses."""

from __future__ import annotations

import json
import time
from typing import Any
from urllib.parse import unquote_plus

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

from courier.delivery.pipeline import as_rows, deliver
from courier.delivery.reports import RejectedRows, door_key
from courier.destinations import Destination
from courier.doors.files import DroppedFile, RetryLaterError, process_file
from courier.doors.services import Services, deadline_of
from courier.observability import logger


def handle_sqs_batch(event: dict[str, Any], context: Any, destination: Destination, services: Services) -> Any:
    deadline = deadline_of(context)
    processor = BatchProcessor(event_type=EventType.SQS, raise_on_entire_batch_failure=False)

    def record_handler(record: SQSRecord) -> None:
        process_message(record.body, record.message_id, destination, services, deadline)

    return process_partial_response(event=event, record_handler=record_handler, processor=processor, context=context)


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
    body_text: str, message_id: str, destination: Destination, services: Services, deadline: float
) -> None:
    """Delivers one message's records; raises when any must be retried, so only this message comes back."""
    settings = services.settings
    rejected = RejectedRows()
    try:
        body = json.loads(body_text)
    except ValueError:
        rejected.add(0, body_text, ["message: the body is not JSON (expected a record or an array of records)"])
        body = []
    if isinstance(body, dict) and body.get("Event") == "s3:TestEvent":
        logger.info("s3:TestEvent skipped")
        return
    if is_s3_notification(body):
        for file in dropped_files(body):
            process_file(file, destination, services, deadline)
        return
    tally = deliver(
        destination,
        destination.make_preparer(settings, time.time()),
        services.sender,
        as_rows(body if isinstance(body, list) else [body]),
        deadline,
        rejected.add,
    )
    logger.info(
        "message processed",
        extra={"message_id": message_id, **{k: v for k, v in tally.as_dict().items() if isinstance(v, int)}},
    )
    if settings.data_bucket:
        rejected.upload(services.s3, settings.data_bucket, door_key("sqs", destination.name, message_id))
    if tally.pending:
        raise RetryLaterError(f"{tally.pending} records of message {message_id} must be retried: {tally.retry_reason}")
