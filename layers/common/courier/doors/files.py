"""Door 1: a file dropped in the data bucket, announced through the function's queue.

A file may take several invocations: each part reads from where the last one stopped (a ranged read from a byte
offset) and hands the rest on in a continuation message. Every part rewrites `reports/<key>.json` with the whole
file's counts so far; rejected rows of part n > 0 go to `rejected/<key>.<n>.csv`."""

from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass, field
from typing import IO, TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from courier.delivery.driver import Budget, Delivery
from courier.delivery.ledger import Ledger
from courier.delivery.reports import RejectedRows, put_report
from courier.delivery.tally import COUNTS, Tally
from courier.doors.services import Services
from courier.mappings import MappingUnavailableError, check_name
from courier.model import Destination, Mark
from courier.observability import BYTES_READ, invocation, logger
from courier.sources.files import SourceUnavailableError, UnreadableFileError, open_file
from courier.sources.s3 import CHANGED_OBJECT_CODES, MISSING_OBJECT_CODES, s3_opener

if TYPE_CHECKING:
    from courier.mappings.rules import CompiledMapping

CONTINUE = "courier_continue"  # a message that carries on with a file an earlier invocation began


class RetryLaterError(RuntimeError):
    """Some records could not be delivered now; the SQS message must come back."""


class RefusedMessageError(ValueError):
    """A control message (S3 notification or continuation) the function does not act on: malformed, or naming an
    object it does not own. It is never retried; the message is our own words, never the message's values."""


MAX_COUNT = 2**53  # a continuation's numbers (rows, bytes, counts) are whole numbers below this


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

    @classmethod
    def from_json(cls, data: Any) -> DroppedFile:
        """The file a continuation names (as `asdict` wrote it); RefusedMessageError when it is not that."""
        if not isinstance(data, dict):
            raise RefusedMessageError(f"continuation: {CONTINUE} must be an object")
        unknown = set(data) - {"bucket", "key", "version_id", "etag", "sequencer"}
        if unknown:
            raise RefusedMessageError(f"continuation: {CONTINUE} has unknown fields ({len(unknown)})")
        values = {}
        for name in ("bucket", "key", "version_id", "etag", "sequencer"):
            value = data.get(name, "")
            if not isinstance(value, str):
                raise RefusedMessageError(f"continuation: {CONTINUE}.{name} must be text")
            values[name] = value
        file = cls(**values)
        file.check()
        return file

    def check(self) -> None:
        """A bucket and a key S3 could name: RefusedMessageError otherwise (before any request is built)."""
        if not self.bucket or not self.key:
            raise RefusedMessageError("the message names no bucket or no key")
        for name, value, limit in (("bucket", self.bucket, 255), ("key", self.key, 1024)):
            try:
                size = len(value.encode("utf-8"))
            except UnicodeEncodeError:
                raise RefusedMessageError(f"the {name} is not valid Unicode text") from None
            if size > limit:
                raise RefusedMessageError(f"the {name} is longer than S3 allows ({limit} bytes)")
        for name, value in (("version_id", self.version_id), ("etag", self.etag), ("sequencer", self.sequencer)):
            if len(value) > 1024 or not value.isascii():
                raise RefusedMessageError(f"the {name} is not one S3 could have given")


@dataclass
class Part:
    """Which part of a file an invocation delivers: from `start` (None: the beginning), with the counts of the
    parts before it."""

    number: int = 0
    start: Mark | None = None
    before: Tally = field(default_factory=Tally)
    rejected_files: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {
            "part": self.number,
            "start": self.start,
            "before": self.before.as_dict(),
            "rejected_files": self.rejected_files,
        }

    @classmethod
    def from_json(cls, body: dict[str, Any]) -> Part:
        """The part a continuation asks for (as `to_json` wrote it); RefusedMessageError when it is not that."""
        number: Any = body.get("part")
        if not _count(number) or number < 1:
            raise RefusedMessageError("continuation: part must be a whole number from 1")
        start = body.get("start")
        if not isinstance(start, dict) or set(start) != {"index", "offset"}:
            raise RefusedMessageError("continuation: start must be an object with index and offset")
        if not _count(start["index"]) or not (_count(start["offset"]) or start["offset"] == -1):
            raise RefusedMessageError("continuation: start's index and offset must be whole numbers")
        before = body.get("before")
        if not isinstance(before, dict):
            raise RefusedMessageError("continuation: before must be an object of counts")
        for name in COUNTS:
            if name in before and not _count(before[name]):
                raise RefusedMessageError(f"continuation: before.{name} must be a whole number")
        reasons = before.get("rejected_reasons", {})
        if not isinstance(reasons, dict) or not all(_count(count) for count in reasons.values()):
            raise RefusedMessageError("continuation: before.rejected_reasons must map reasons to whole numbers")
        files = body.get("rejected_files")
        if not isinstance(files, list) or not all(isinstance(name, str) for name in files):
            raise RefusedMessageError("continuation: rejected_files must be a list of s3:// addresses")
        return cls(number, dict(start), Tally.from_dict(before), list(files))


def _count(value: Any) -> bool:
    """A whole number a continuation may carry: an int (not a bool, not a float), 0 or more, below MAX_COUNT."""
    return type(value) is int and 0 <= value < MAX_COUNT


def process_file(
    file: DroppedFile,
    destination: Destination,
    services: Services,
    budget: Budget,
    ledger: Ledger,
    part: Part | None = None,
) -> dict[str, Any]:
    """Streams one file (or its next part) to the destination and writes reports/<key>.json and the rejected rows.
    When time runs short it queues a continuation that starts where this part stopped."""
    started = time.monotonic()
    part = part or Part()
    settings = services.settings
    out_bucket = settings.data_bucket or file.bucket
    problem = ""
    delivery: Delivery | None = None
    rejected: RejectedRows | None = None
    # Without a version id the reader holds to the ETag the notification named: no part reads another object's bytes
    opener = s3_opener(services.s3, file.bucket, file.key, file.version_id or None, etag=file.etag)
    streams: list[tuple[int, IO[bytes]]] = []  # each stream opened, with the byte it began at: the bytes read

    def counted(offset: int) -> IO[bytes]:
        streams.append((offset, opener(offset)))
        return streams[-1][1]

    mapping_failed = False
    try:
        mapping = mapping_of_file(file.key, destination, services)
        with open_file(counted, file.key, part.start) as source:
            rejected = RejectedRows(source.columns)
            prepare = destination.make_preparer(settings, time.time())
            knows = None
            if mapping is not None:
                prepare, knows = mapping.preparer(prepare), mapping.knows
            delivery = Delivery(
                destination, prepare, services.sender, budget, ledger, file.unit, rejected.add, knows=knows
            )
            delivery.run(source, check_fields=source.columns is None)
    except MappingUnavailableError as error:  # nothing read: the file comes back (retried, then the DLQ)
        problem, mapping_failed = str(error), True
    except UnreadableFileError as error:
        problem = str(error)
    except SourceUnavailableError as error:  # transient: the message comes back and reading resumes
        logger.warning("the file could not be read now", extra={"source": file.unit, "problem": str(error)})
        if delivery is None:
            raise RetryLaterError(f"{file.key} could not be read now: {error}") from None
        delivery.tally.retry_reason = f"the file could not be read now: {error}"
        delivery.leave_pending([], "")
    except ClientError as error:
        code = error.response.get("Error", {}).get("Code")
        if code in MISSING_OBJECT_CODES:
            problem = "the object no longer exists (deleted or overwritten before it was read)"
        elif code in CHANGED_OBJECT_CODES:
            problem = "the object was overwritten while it was read (turn on bucket versioning to keep each upload)"
        else:
            raise  # S3 itself failed: the message comes back
    tally = Tally()
    tally.add(part.before)
    if delivery is not None:
        tally.add(delivery.tally)
    resume_at = delivery.resume_at if delivery is not None else None
    retry = mapping_failed or (delivery is not None and delivery.must_retry)
    rejected_key = f"rejected/{file.key}.csv" if part.number == 0 else f"rejected/{file.key}.{part.number}.csv"
    written = rejected.upload(services.s3, out_bucket, rejected_key) if rejected else None
    rejected_files = [*part.rejected_files, *([written] if written else [])]
    report = {
        "source": f"s3://{file.bucket}/{file.key}",
        "function": destination.name,
        "status": _status(resume_at is not None, retry, problem),
        "problem": problem,
        **tally.as_dict(),
        "part": part.number,
        "continues_at_row": resume_at["index"] + 1 if resume_at is not None else None,
        "duration_ms": round((time.monotonic() - started) * 1000),
        "rejected_file": rejected_files[0] if rejected_files else None,
        "rejected_files": rejected_files,
    }
    report["report_file"] = put_report(services.s3, out_bucket, f"reports/{file.key}.json", report)
    if resume_at is not None:
        following = Part(part.number + 1, resume_at, tally, rejected_files)
        body = {CONTINUE: asdict(file), **following.to_json()}
        services.sqs.send_message(QueueUrl=settings.ingest_queue_url, MessageBody=json.dumps(body))
    logger.info(
        "file processed",
        extra={
            k: report[k]
            for k in (
                "source",
                "status",
                "part",
                "read",
                "delivered",
                "rejected",
                "pending",
                "requests",
                "retry_reason",
            )
        },
    )
    if delivery is not None:
        delivery.tally.count()  # this part's counts (the report's are the whole file's)
    # S3Reader.tell() is where it stands in the object, closed or not (a buffered stream's is not, once closed)
    invocation.count(BYTES_READ, sum(getattr(stream, "raw", stream).tell() - offset for offset, stream in streams))
    if mapping_failed:
        raise RetryLaterError(f"{file.key} is not read: {problem}")
    if retry:
        raise RetryLaterError(f"{tally.pending} records of {file.key} must be retried: {tally.retry_reason}")
    return report


def mapping_of_file(key: str, destination: Destination, services: Services) -> CompiledMapping | None:
    """The mapping a file's folder names: `<function>/<name>/…` uses mapping `<name>` when
    `mappings/<function>/<name>.yaml` exists. Any other folder (`<function>/2026/…`) is a plain folder, and a file
    directly under `<function>/` uses no mapping."""
    folder, slash, _ = key.removeprefix(f"{destination.name}/").partition("/")
    if not slash:
        return None
    try:
        check_name(folder)
    except ValueError:
        return None  # a folder no mapping could be named after
    return services.mappings(destination).find(folder)


def _status(continuing: bool, retry: bool, problem: str) -> str:
    if continuing:
        return "continuing"
    if retry:
        return "retrying"
    return "failed" if problem else "complete"
