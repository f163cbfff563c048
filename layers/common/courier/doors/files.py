"""Door 1: a file dropped in the data bucket, announced through the function's queue.

A file may take several invocations: each part reads from where the last one stopped (a ranged read from a byte
offset) and hands the rest on in a continuation message. Every part rewrites `reports/<key>.json` with the whole
file's counts so far; rejected rows of part n > 0 go to `rejected/<key>.<n>.csv`."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import IO, TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from courier.delivery.driver import Budget, Delivery
from courier.delivery.ledger import Ledger
from courier.delivery.preparation import Preparation, preparation
from courier.delivery.reports import RejectedRows, put_report
from courier.delivery.tally import COUNTS, Tally
from courier.doors.faults import Fault, RefusedMessageError, RetryLaterError, fault_of, problem_of
from courier.doors.services import Services
from courier.mappings import MappingUnavailableError, check_name
from courier.model import Destination, Mark, Sender
from courier.observability import BYTES_READ, invocation, logger
from courier.sources.files import SourceUnavailableError, UnreadableFileError, open_file
from courier.sources.s3 import s3_opener

if TYPE_CHECKING:
    from courier.mappings.rules import CompiledMapping

CONTINUE = "courier_continue"  # a message that carries on with a file an earlier invocation began


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


@dataclass
class FileRun:
    """One part of a file as the driver delivered it: None until the file was opened."""

    delivery: Delivery | None = None
    rejected: RejectedRows | None = None
    problem: str = ""  # why the file (or this part) cannot be delivered, in Courier's words
    comes_back: bool = False  # the file is tried again: its message returns
    on_reject: Callable[[int, list[str]], None] | None = None  # also told of each refused row (`courier send`)

    def reject(self, index: int, record: Any, errors: list[str]) -> None:
        if self.rejected is not None:
            self.rejected.add(index, record, errors)
        if self.on_reject is not None:
            self.on_reject(index, errors)

    @property
    def must_retry(self) -> bool:
        return self.comes_back or (self.delivery is not None and self.delivery.must_retry)


def deliver_file(
    run: FileRun,
    opener: Callable[[int], IO[bytes]],
    name: str,
    start: Mark | None,
    destination: Destination,
    setup: Preparation,
    sender: Sender,
    budget: Budget,
    ledger: Ledger,
    unit: str,
) -> None:
    """The file door's delivery of one file (or its part from `start`): used by every dropped file and by
    `courier send`. Errors propagate; `run` holds what was done before one."""
    with open_file(opener, name, start) as source:
        run.rejected = RejectedRows(source.columns)
        run.delivery = Delivery(destination, setup.prepare, sender, budget, ledger, unit, run.reject, knows=setup.knows)
        run.delivery.run(source, check_fields=source.columns is None)


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
    streams: list[tuple[int, IO[bytes]]] = []  # each stream opened, with the byte it began at: the bytes read
    run = _deliver_part(file, part, destination, services, budget, ledger, streams)
    tally = _whole_file(part, run)
    rejected_files = _write_rejected(file, part, run, services)
    report = _report(file, part, run, tally, rejected_files, destination, started)
    report["report_file"] = put_report(services.s3, _out_bucket(file, services), f"reports/{file.key}.json", report)
    if run.delivery is not None and run.delivery.resume_at is not None:
        _continue(file, Part(part.number + 1, run.delivery.resume_at, tally, rejected_files), services)
    _log(report)
    if run.delivery is not None:
        run.delivery.tally.count()  # this part's counts (the report's are the whole file's)
    # S3Reader.tell() is where it stands in the object, closed or not (a buffered stream's is not, once closed)
    invocation.count(BYTES_READ, sum(getattr(stream, "raw", stream).tell() - offset for offset, stream in streams))
    if run.comes_back:
        raise RetryLaterError(f"{file.key} is not read: {run.problem}")
    if run.must_retry:
        raise RetryLaterError(f"{tally.pending} records of {file.key} must be retried: {tally.retry_reason}")
    return report


def _deliver_part(
    file: DroppedFile,
    part: Part,
    destination: Destination,
    services: Services,
    budget: Budget,
    ledger: Ledger,
    streams: list[tuple[int, IO[bytes]]],
) -> FileRun:
    """Delivers the part; a failure the door expects is settled in the run (see faults.py), any other propagates."""
    # Without a version id the reader holds to the ETag the notification named: no part reads another object's bytes
    opener = s3_opener(services.s3, file.bucket, file.key, file.version_id or None, etag=file.etag)

    def counted(offset: int) -> IO[bytes]:
        streams.append((offset, opener(offset)))
        return streams[-1][1]

    run = FileRun()
    try:
        setup = preparation(destination, services.settings, mapping_of_file(file.key, destination, services))
        deliver_file(run, counted, file.key, part.start, destination, setup, services.sender, budget, ledger, file.unit)
    except (MappingUnavailableError, UnreadableFileError, SourceUnavailableError, ClientError) as error:
        fault = fault_of(error)
        if fault is None:
            raise  # S3 itself failed: the message comes back
        _settle_fault(run, file, fault, error)
    return run


def _settle_fault(run: FileRun, file: DroppedFile, fault: Fault, error: BaseException) -> None:
    if not isinstance(error, SourceUnavailableError):  # nothing read, or nothing more to read
        run.problem, run.comes_back = problem_of(error), fault.comes_back
        return
    # the bytes could not be read now: the message comes back and reading resumes
    logger.warning("the file could not be read now", extra={"source": file.unit, "problem": str(error)})
    if run.delivery is None:
        raise RetryLaterError(f"{file.key} could not be read now: {error}") from None
    run.delivery.tally.retry_reason = f"the file could not be read now: {error}"
    run.delivery.leave_pending([], "")


def _whole_file(part: Part, run: FileRun) -> Tally:
    """The whole file's counts so far: the parts before this one, and this one."""
    tally = Tally()
    tally.add(part.before)
    if run.delivery is not None:
        tally.add(run.delivery.tally)
    return tally


def _out_bucket(file: DroppedFile, services: Services) -> str:
    return services.settings.data_bucket or file.bucket


def _write_rejected(file: DroppedFile, part: Part, run: FileRun, services: Services) -> list[str]:
    """This part's rejected rows in rejected/<key>.csv (part 0) or rejected/<key>.<n>.csv; every part's files."""
    key = f"rejected/{file.key}.csv" if part.number == 0 else f"rejected/{file.key}.{part.number}.csv"
    written = run.rejected.upload(services.s3, _out_bucket(file, services), key) if run.rejected else None
    return [*part.rejected_files, *([written] if written else [])]


def _report(
    file: DroppedFile,
    part: Part,
    run: FileRun,
    tally: Tally,
    rejected_files: list[str],
    destination: Destination,
    started: float,
) -> dict[str, Any]:
    resume_at = run.delivery.resume_at if run.delivery is not None else None
    return {
        "source": f"s3://{file.bucket}/{file.key}",
        "function": destination.name,
        "status": _status(resume_at is not None, run.must_retry, run.problem),
        "problem": run.problem,
        **tally.as_dict(),
        "part": part.number,
        "continues_at_row": resume_at["index"] + 1 if resume_at is not None else None,
        "duration_ms": round((time.monotonic() - started) * 1000),
        "rejected_file": rejected_files[0] if rejected_files else None,
        "rejected_files": rejected_files,
    }


def _continue(file: DroppedFile, following: Part, services: Services) -> None:
    """Queues the next part: a continuation message on the function's own queue."""
    body = {CONTINUE: asdict(file), **following.to_json()}
    services.sqs.send_message(QueueUrl=services.settings.ingest_queue_url, MessageBody=json.dumps(body))


LOGGED = ("source", "status", "part", "read", "delivered", "rejected", "pending", "requests", "retry_reason")


def _log(report: dict[str, Any]) -> None:
    logger.info("file processed", extra={name: report[name] for name in LOGGED})


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
