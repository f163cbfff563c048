"""Door 1: a file dropped in the data bucket, announced through the function's queue."""

from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass
from typing import Any

from botocore.exceptions import ClientError

from courier.delivery.ledger import Ledger
from courier.delivery.outcomes import Tally
from courier.delivery.pipeline import Delivery
from courier.delivery.reports import RejectedRows, put_report
from courier.destinations import Destination
from courier.doors.services import Services
from courier.observability import logger, metrics
from courier.sources.files import UnreadableFileError, open_rows

MISSING_OBJECT_CODES = frozenset({"NoSuchKey", "NoSuchVersion", "404"})
CONTINUE = "courier_continue"  # a message that carries on with a file an earlier invocation began


class RetryLaterError(RuntimeError):
    """Some records could not be delivered now; the SQS message must come back."""


@dataclass(frozen=True)
class DroppedFile:
    bucket: str
    key: str
    version_id: str = ""
    etag: str = ""
    sequencer: str = ""

    @property
    def unit(self) -> str:
        """The object version: what the ledger knows this file by (a re-upload is a new version)."""
        return f"s3://{self.bucket}/{self.key}@{self.version_id or self.etag}"


def process_file(
    file: DroppedFile,
    destination: Destination,
    services: Services,
    deadline: float,
    ledger: Ledger | None = None,
    skip_chunks: int = 0,
) -> dict[str, Any]:
    """Streams one file to the destination and writes reports/<key>.json (and rejected/<key>.csv). When time runs
    short it queues a continuation that starts at the next chunk; the ledger keeps any chunk from going out twice."""
    from aws_lambda_powertools.utilities.streaming import S3Object

    started = time.monotonic()
    settings = services.settings
    out_bucket = settings.data_bucket or file.bucket
    stream = S3Object(bucket=file.bucket, key=file.key, version_id=file.version_id or None, boto3_client=services.s3)
    problem = ""
    delivery: Delivery | None = None
    rejected: RejectedRows | None = None
    try:
        opened = open_rows(stream, file.key)
        rejected = RejectedRows(opened.columns)
        delivery = Delivery(
            destination,
            destination.make_preparer(settings, time.time()),
            services.sender,
            deadline,
            rejected.add,
            unit=file.unit,
            ledger=ledger,
            skip_chunks=skip_chunks,
        )
        if opened.columns is not None:
            delivery.ignore_unknown(opened.columns)
        delivery.feed(opened.rows, check_fields=opened.columns is None)
        delivery.finish()
    except UnreadableFileError as error:
        problem = str(error)
        if delivery is not None:
            delivery.finish()  # what was read before the break is still delivered
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") not in MISSING_OBJECT_CODES:
            raise  # S3 itself failed: the message comes back
        problem = "the object no longer exists (deleted or overwritten before it was read)"
    tally = delivery.tally if delivery is not None else Tally()
    continue_from = delivery.continue_from if delivery is not None else None
    report = _report(file, destination, tally, problem, time.monotonic() - started, continue_from)
    if continue_from is not None:
        _continue_later(file, continue_from, services)
    rejected_key = f"rejected/{file.key}.csv"
    report["rejected_file"] = rejected.upload(services.s3, out_bucket, rejected_key) if rejected else None
    report["report_file"] = put_report(services.s3, out_bucket, f"reports/{file.key}.json", report)
    logger.info(
        "file processed",
        extra={
            k: report[k]
            for k in ("source", "status", "read", "delivered", "rejected", "pending", "requests", "retry_reason")
        },
    )
    metrics.add_metric(name="RecordsDelivered", unit="Count", value=tally.delivered)
    metrics.add_metric(name="RecordsRejected", unit="Count", value=tally.rejected)
    if tally.pending and continue_from is None:
        raise RetryLaterError(f"{tally.pending} records of {file.key} must be retried: {tally.retry_reason}")
    return report


def _continue_later(file: DroppedFile, chunks_done: int, services: Services) -> None:
    """The rest of the file goes to a new message on the function's own queue."""
    body = {CONTINUE: asdict(file), "chunks_done": chunks_done}
    services.sqs.send_message(QueueUrl=services.settings.ingest_queue_url, MessageBody=json.dumps(body))


def _report(
    file: DroppedFile,
    destination: Destination,
    tally: Tally,
    problem: str,
    seconds: float,
    continue_from: int | None,
) -> dict[str, Any]:
    if continue_from is not None:
        status = "continuing"
    elif tally.pending:
        status = "retrying"
    elif problem:
        status = "failed"
    else:
        status = "complete"
    return {
        "source": f"s3://{file.bucket}/{file.key}",
        "function": destination.name,
        "status": status,
        "problem": problem,
        **tally.as_dict(),
        "continues_at_chunk": continue_from,
        "duration_ms": round(seconds * 1000),
    }
