"""Door 2: SQS messages (records, arrays of records, S3 notifications), with partial batch responses.

A control message (an S3 notification or a continuation) is acted on only when it names the function's own data
bucket and a key under the function's own prefix (`<function>/`); any other, and any malformed one, is refused
before anything is read: logged with its reason, kept in rejected/sqs/<function>/<date>/<message id>.csv, never
retried."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import unquote_plus

from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

from courier.delivery.driver import Budget
from courier.delivery.ledger import Ledger, LedgerUnavailableError
from courier.delivery.messages import Message
from courier.delivery.preparation import PreparedRecord
from courier.delivery.reports import RejectedRows, door_key
from courier.delivery.tally import Tally
from courier.doors.faults import RefusedMessageError, RetryLaterError, fault_of
from courier.doors.files import CONTINUE, DroppedFile, Part, process_file
from courier.doors.messages import MAPPING_ATTRIBUTE, ORIGIN_ATTRIBUTE, PREPARED_ATTRIBUTE, deliver_messages
from courier.doors.services import Services, budget_of
from courier.mappings import MappingUnavailableError
from courier.model import Destination
from courier.observability import BYTES_READ, invocation, logger
from courier.sources.records import as_rows

BACKOFF_SECONDS, MAX_BACKOFF_SECONDS = 30, 900
OUTPUTS = ("reports/", "rejected/")  # what Courier writes to the data bucket: never a file to deliver


def handle_sqs_batch(event: dict[str, Any], context: Any, destination: Destination, services: Services) -> Any:
    """The plain messages' records go out together; S3 notifications and continuations are files, each on its
    own, within the same invocation's time. Only the messages with records still to deliver come back."""
    budget = budget_of(context)
    ledger = services.ledger(budget)
    records = [SQSRecord(raw) for raw in event["Records"]]
    plain: list[Message] = []
    files: list[tuple[SQSRecord, Any]] = []
    invocation.count(BYTES_READ, sum(len(record.body) for record in records))
    for record in records:
        body, message = _read(record)
        if message is not None:
            plain.append(message)
        elif body is not None:
            files.append((record, body))
    failed = _deliver_plain(plain, destination, services, budget, ledger)
    for record, body in files:
        try:
            process_control(body, record.message_id, destination, services, budget, ledger)
        except (RefusedMessageError, RetryLaterError, LedgerUnavailableError) as error:
            fault = fault_of(error)
            if fault is not None and fault.comes_back:
                logger.info("message to retry", extra={"message_id": record.message_id, "reason": str(error)})
                failed.add(record.message_id)
            else:
                refuse(record, error, destination, services)
    _back_off(services, [record for record in records if record.message_id in failed])
    return {"batchItemFailures": [{"itemIdentifier": r.message_id} for r in records if r.message_id in failed]}


def _deliver_plain(
    plain: list[Message], destination: Destination, services: Services, budget: Budget, ledger: Ledger
) -> set[str]:
    """The plain messages' records, delivered together per mapping; the ids of the messages that come back."""
    failed: set[str] = set()
    by_mapping: dict[str, list[Message]] = {}
    for message in plain:
        by_mapping.setdefault(message.mapping, []).append(message)
    for name, messages in by_mapping.items():
        try:
            mapping = services.mappings(destination).get(name) if name else None
            failed |= set(deliver_messages(messages, destination, services, budget, ledger, mapping))
        except MappingUnavailableError as error:  # nothing read: they come back (retried, then the DLQ)
            logger.warning("the messages' mapping cannot be used: they come back", extra={"problem": str(error)})
            failed |= {message.id for message in messages}
        except LedgerUnavailableError as error:
            logger.warning("the ledger could not be read: the messages come back", extra={"problem": str(error)})
            failed |= {message.id for message in messages}
    return failed


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
        Tally(read=1, rejected=1).count()
        return None, message
    if isinstance(body, dict) and body.get("Event") == "s3:TestEvent":
        logger.info("s3:TestEvent skipped")
        return None, None
    if isinstance(body, dict) and (CONTINUE in body or is_s3_notification(body) or _names_s3_events(body)):
        return body, None
    attributes: dict[str, Any] = record.raw_event.get("messageAttributes") or {}
    prepared = (attributes.get(PREPARED_ATTRIBUTE) or {}).get("stringValue") == "1"
    records = body if isinstance(body, list) else [body]
    if prepared:
        records = [PreparedRecord(item) if isinstance(item, dict) else item for item in records]
    origin = str((attributes.get(ORIGIN_ATTRIBUTE) or {}).get("stringValue") or "")
    mapping = str((attributes.get(MAPPING_ATTRIBUTE) or {}).get("stringValue") or "")
    receives = int(record.attributes.approximate_receive_count or 1)
    rows = list(as_rows(records, record.body))
    return None, Message(message_id, rows, origin=origin, receives=receives, mapping=mapping)


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
    """The objects an S3 notification announces; keys arrive URL-encoded ('a+b.csv', '%2F'). Events other than
    ObjectCreated are skipped; a notification not shaped as S3 writes them is refused whole (RefusedMessageError)."""
    entries = notification.get("Records")
    if not isinstance(entries, list) or not entries:
        raise RefusedMessageError("notification: Records must be a list of S3 events")
    files = []
    for number, entry in enumerate(entries):
        if not isinstance(entry, dict) or entry.get("eventSource") != "aws:s3":
            raise RefusedMessageError(f"notification: event {number} is not an S3 event")
        event_name = entry.get("eventName")
        if not isinstance(event_name, str):
            raise RefusedMessageError(f"notification: event {number} has no eventName")
        if not event_name.startswith("ObjectCreated"):
            continue
        s3 = entry.get("s3")
        bucket = s3.get("bucket") if isinstance(s3, dict) else None
        obj = s3.get("object") if isinstance(s3, dict) else None
        name = bucket.get("name") if isinstance(bucket, dict) else None
        key = obj.get("key") if isinstance(obj, dict) else None
        if not isinstance(name, str) or not isinstance(key, str) or not isinstance(obj, dict):
            raise RefusedMessageError(f"notification: event {number} names no bucket or no object key")
        extras = {field: obj.get(field) or "" for field in ("versionId", "eTag", "sequencer")}
        if not all(isinstance(value, str) for value in extras.values()):
            raise RefusedMessageError(f"notification: event {number} has a versionId, eTag or sequencer not text")
        file = DroppedFile(
            bucket=name,
            key=unquote_plus(key),
            version_id=extras["versionId"],
            etag=extras["eTag"],
            sequencer=extras["sequencer"],
        )
        file.check()
        files.append(file)
    return files


def is_s3_notification(body: Any) -> bool:
    records = body.get("Records") if isinstance(body, dict) else None
    return (
        isinstance(records, list)
        and bool(records)
        and isinstance(records[0], dict)
        and records[0].get("eventSource") == "aws:s3"
    )


def _names_s3_events(body: dict[str, Any]) -> bool:
    """A body whose Records hold an S3 event anywhere, not only first: a control message, checked as one (a record
    never carries S3 events)."""
    records = body.get("Records")
    return isinstance(records, list) and any(
        isinstance(entry, dict) and entry.get("eventSource") == "aws:s3" for entry in records
    )


def owned(file: DroppedFile, destination: Destination, data_bucket: str) -> None:
    """RefusedMessageError unless the file is the function's to read: in its data bucket, under its prefix. Courier's
    own outputs (reports/, rejected/) and other functions' prefixes are never read."""
    if not data_bucket:
        raise RefusedMessageError("the function has no DATA_BUCKET: it reads no files")
    if file.bucket != data_bucket:
        raise RefusedMessageError("names another bucket than the function's data bucket (DATA_BUCKET)")
    if file.key.startswith(OUTPUTS):
        raise RefusedMessageError("names Courier's own output (reports/ or rejected/), not a file to deliver")
    if not file.key.startswith(f"{destination.name}/"):
        raise RefusedMessageError(f"names a key outside the function's prefix {destination.name}/")


def process_control(
    body: dict[str, Any], message_id: str, destination: Destination, services: Services, budget: Budget, ledger: Ledger
) -> None:
    """A continuation, or an S3 notification: the files it names. Raises RetryLaterError when the message must come
    back, RefusedMessageError (before anything is read) when it is malformed or names a file the function does not
    own: one such file refuses the whole message."""
    data_bucket = services.settings.data_bucket
    if CONTINUE in body:
        file = DroppedFile.from_json(body[CONTINUE])
        owned(file, destination, data_bucket)
        part = Part.from_json(body)
        if any(not name.startswith(f"s3://{data_bucket}/rejected/") for name in part.rejected_files):
            raise RefusedMessageError("continuation: rejected_files must be the function's own rejected/ files")
        process_file(file, destination, services, budget, ledger, part)
        return
    files = dropped_files(body)
    for file in files:
        owned(file, destination, data_bucket)
    for file in files:
        if ledger.claim(f"file:{file.unit}", message_id) != message_id:
            logger.info("duplicate S3 notification skipped", extra={"source": file.unit})
            continue
        process_file(file, destination, services, budget, ledger)


def refuse(record: SQSRecord, error: Exception, destination: Destination, services: Services) -> None:
    """A control message not acted on: logged with its reason and where it pointed (bucket and top-level prefix,
    never the rest of the key), kept in rejected/ with the reason, not retried. One that names Courier's own
    outputs is only logged: a notification on the whole bucket would otherwise refuse each refusal's file in turn."""
    body = record.body
    bucket, prefix = _where(body)
    logger.warning(
        "control message refused",
        extra={"message_id": record.message_id, "reason": str(error), "bucket": bucket, "prefix": prefix},
    )
    data_bucket = services.settings.data_bucket
    if not data_bucket or prefix in OUTPUTS:
        return
    rows = RejectedRows()
    rows.add(0, body, [f"message: refused, not read: {error}"])
    rows.upload(services.s3, data_bucket, door_key("sqs", destination.name, record.message_id))


def _where(text: str) -> tuple[str, str]:
    """The bucket and the key's first folder a control message names, as far as it can be told (for the log)."""
    try:
        body = json.loads(text)
        if CONTINUE in body:
            places = [body[CONTINUE]]
        else:
            places = [
                {"bucket": entry["s3"]["bucket"]["name"], "key": unquote_plus(entry["s3"]["object"]["key"])}
                for entry in body["Records"]
            ]
        bucket, key = str(places[0]["bucket"])[:255], str(places[0]["key"])
    except (ValueError, TypeError, KeyError, IndexError, AttributeError, RecursionError):  # malformed
        return "", ""
    folder, slash, _ = key.partition("/")
    return bucket, (folder[:100] + slash if slash else "")
