"""The fault harness: moto's server with the template's stack, a fault-injecting proxy in front of it, a counting
AppMetrica stand-in, and Lambda's part — each invocation in its own process, killed when its time is up, fed by a
poller that does what the SQS event source mapping does.

Courier is a black box here: the suite knows its handlers, its environment variables, the template, the files it
writes (`reports/`, `rejected/`) and what reaches the destination. Nothing of `courier` is imported.
"""

from __future__ import annotations

import contextlib
import csv
import io
import json
import logging
import math
import os
import queue
import re
import signal
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3

from cli.main import replay
from infra.template import load_template
from sandbox.lambda_runtime import sqs_event
from sandbox.stack import Stack, create_stack
from tests.faults.proxy import FaultProxy
from tests.faults.standin import AppMetricaStandIn

ROOT = Path(__file__).resolve().parents[2]
EVENTS = "appmetrica_events"
POST_API_KEY = "faults-post-api-key-0123456789ABCDEFGHIJ"
APPLICATION_ID = "1111"
REGION = "us-east-1"
WINDOW_SECONDS = 14 * 24 * 3600  # the Post API's window for events
KILL_GRACE_SECONDS = 0.25  # Lambda ends an invocation at its timeout; this much slack for the polling loop
INIT_TIMEOUT_SECONDS = 60.0
MAX_REJECTED_OBJECT_BYTES = 64 * 1024 * 1024
REPORT_FIELDS = ("read", "delivered", "rejected", "duplicates_skipped", "pending", "requests", "status")
# The contract's "sent, but the answer was lost" reason (docs/concepts/delivery.md): a record that may have reached
# the destination and was not sent again. Such a record may also have been delivered once.
LOST_ANSWER = re.compile(
    r"answer was lost|answer (?:is|was) unknown|no clear answer|possibly (?:sent|delivered)"
    r"|may have (?:been sent|been delivered|reached)",
    re.IGNORECASE,
)


# --- data ---------------------------------------------------------------------------------------------------------
def recent(seconds_ago: int = 3600) -> int:
    return int(time.time()) - seconds_ago


def ids(tag: str, count: int, start: int = 0) -> list[str]:
    return [f"{tag}-{n}" for n in range(start, start + count)]


def event_blocks(tag: str, count: int, timestamp: int, block_rows: int = 20_000) -> Iterator[bytes]:
    """An events CSV (header `profile_id,event_name,event_timestamp`) in blocks, never whole in memory."""
    yield b"profile_id,event_name,event_timestamp\n"
    for start in range(0, count, block_rows):
        end = min(start + block_rows, count)
        yield "".join(f"{tag}-{n},open,{timestamp}\n" for n in range(start, end)).encode()


class BlockStream(io.RawIOBase):
    """A readable file over an iterator of byte blocks: uploads big generated files without holding them."""

    def __init__(self, blocks: Iterable[bytes]) -> None:
        self._blocks = iter(blocks)
        self._pending = b""

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        view = memoryview(buffer).cast("B")
        while not self._pending:
            try:
                self._pending = next(self._blocks)
            except StopIteration:
                return 0
        size = min(len(view), len(self._pending))
        view[:size] = self._pending[:size]
        self._pending = self._pending[size:]
        return size


# --- invocations --------------------------------------------------------------------------------------------------
@dataclass
class Invocation:
    number: int
    function: str
    timeout: float
    log: Path
    messages: list[str] = field(default_factory=list)  # SQS message ids of the batch
    seconds: float = 0.0  # from the handler's start to its answer, exit or kill
    answer: Any = None
    error: str = ""
    killed: str = ""  # "timeout", "memory", or "on purpose: …"
    exit_code: int | None = None
    peak_rss_kb: int = 0

    @property
    def overran(self) -> bool:
        return self.killed in ("timeout", "memory")

    @property
    def answered(self) -> bool:
        return not self.killed and not self.error and self.exit_code == 0

    def failed_messages(self) -> list[str]:
        """The messages Lambda leaves on the queue: those reported failed, or all of them after an error or a kill
        or an answer that is not a valid partial batch response."""
        if not self.answered:
            return list(self.messages)
        if not self.answer:
            return []
        failures = self.answer.get("batchItemFailures") if isinstance(self.answer, dict) else None
        if not isinstance(failures, list):
            return list(self.messages)
        failed = [item.get("itemIdentifier") for item in failures if isinstance(item, dict)]
        if any(not isinstance(item, str) or item not in self.messages for item in failed):
            return list(self.messages)
        return [str(item) for item in failed]

    def describe(self) -> str:
        if self.killed:
            outcome = f"KILLED ({self.killed}) after {self.seconds:.1f} s"
        elif self.error:
            outcome = f"raised after {self.seconds:.1f} s: {self.error[:300]}"
        elif self.messages:
            outcome = f"answered in {self.seconds:.1f} s, {len(self.failed_messages())} failed"
        else:
            outcome = f"answered in {self.seconds:.1f} s: {json.dumps(self.answer, default=str)[:200]}"
        batch = f"{len(self.messages)} msg(s), " if self.messages else ""
        return (
            f"  #{self.number} {self.function} ({batch}timeout {self.timeout:g} s): {outcome}, "
            f"peak RSS {self.peak_rss_kb // 1024} MB"
        )


def _proc_status(pid: int) -> dict[str, int]:
    values: dict[str, int] = {}
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            name, _, rest = line.partition(":")
            if name in ("VmHWM", "VmRSS"):
                values[name] = int(rest.split()[0])
    except (OSError, ValueError, IndexError):
        pass
    return values


class Runner:
    """Runs each invocation in a fresh process and ends it when its time is up, as Lambda does."""

    def __init__(self, logs: Path, memory_mb: int) -> None:
        self.logs = logs
        self.memory_mb = memory_mb
        self.invocations: list[Invocation] = []
        self.on_start: list[Callable[[Invocation], None]] = []
        self._lock = threading.Lock()
        self._current: subprocess.Popen[bytes] | None = None
        self._current_invocation: Invocation | None = None

    def kill_current(self, reason: str) -> None:
        """SIGKILLs the running invocation at once (from any thread): a crash, an instance lost."""
        with self._lock:
            process, invocation = self._current, self._current_invocation
            if process is None or invocation is None or process.poll() is not None:
                return
            invocation.killed = invocation.killed or f"on purpose: {reason}"
            _kill(process)

    def invoke(self, function: str, event: dict[str, Any], timeout: float, env: dict[str, str]) -> Invocation:
        """Runs one invocation to its end. Callable from several threads at once (two invocations at a time);
        `kill_current` then concerns the last one started."""
        with self._lock:
            number = len(self.invocations) + 1
            invocation = Invocation(number, function, timeout, self.logs / f"{number:03d}-{function}.log")
            self.invocations.append(invocation)
        event_file = self.logs / f"{number:03d}-event.json"
        event_file.write_text(json.dumps(event), encoding="utf-8")
        command = [
            sys.executable,
            "-m",
            "tests.faults.invoke",
            function,
            str(event_file),
            "--timeout",
            str(timeout),
            "--memory",
            str(self.memory_mb),
        ]
        lines: queue.Queue[dict[str, Any] | None] = queue.Queue()
        with invocation.log.open("wb") as log:
            process = subprocess.Popen(  # noqa: S603  (this interpreter, our own module, fixed arguments)
                command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=log, start_new_session=True
            )
        reader = threading.Thread(target=_read_lines, args=(process, lines), daemon=True)
        reader.start()
        messages: list[dict[str, Any]] = []
        started = self._wait_for_start(process, lines, messages, invocation)
        if started is not None:
            with self._lock:
                self._current, self._current_invocation = process, invocation
            for listener in self.on_start:
                listener(invocation)
            self._watch(process, invocation, started)
            with self._lock:
                self._current = self._current_invocation = None
        invocation.exit_code = process.wait()
        reader.join(timeout=5)
        while True:
            try:
                message = lines.get_nowait()
            except queue.Empty:
                break
            if message is not None:
                messages.append(message)
        for message in messages:
            invocation.peak_rss_kb = max(invocation.peak_rss_kb, int(message.get("peak_rss_kb", 0) or 0))
            if message.get("phase") == "end":
                invocation.answer = message.get("answer")
            elif message.get("phase") == "error":
                invocation.error = str(message.get("error", "error"))
        if started is None and not invocation.error:
            invocation.error = f"the process ended before the handler started (exit {invocation.exit_code})"
        if not invocation.killed and not invocation.error and invocation.exit_code != 0:
            invocation.error = f"exit code {invocation.exit_code} without an answer"
        if invocation.error and not invocation.killed:
            tail = invocation.log.read_text(encoding="utf-8", errors="replace").strip().splitlines()[-3:]
            invocation.error += (" | log: " + " / ".join(tail)[:600]) if tail else ""
        return invocation

    def _wait_for_start(
        self,
        process: subprocess.Popen[bytes],
        lines: queue.Queue[dict[str, Any] | None],
        messages: list[dict[str, Any]],
        invocation: Invocation,
    ) -> float | None:
        deadline = time.monotonic() + INIT_TIMEOUT_SECONDS
        while time.monotonic() < deadline:
            try:
                message = lines.get(timeout=0.05)
            except queue.Empty:
                if process.poll() is not None:
                    return None
                continue
            if message is None:
                return None
            messages.append(message)
            if message.get("phase") == "start":
                return time.monotonic()
        invocation.killed = "init timeout"
        _kill(process)
        return None

    def _watch(self, process: subprocess.Popen[bytes], invocation: Invocation, started: float) -> None:
        limit_kb = self.memory_mb * 1024
        while process.poll() is None:
            status = _proc_status(process.pid)
            invocation.peak_rss_kb = max(invocation.peak_rss_kb, status.get("VmHWM", 0))
            now = time.monotonic()
            invocation.seconds = now - started
            if status.get("VmRSS", 0) > limit_kb:
                with self._lock:
                    invocation.killed = invocation.killed or "memory"
                _kill(process)
            elif now > started + invocation.timeout + KILL_GRACE_SECONDS:
                with self._lock:
                    invocation.killed = invocation.killed or "timeout"
                _kill(process)
            time.sleep(0.02)
        invocation.seconds = time.monotonic() - started


def _kill(process: subprocess.Popen[bytes]) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)  # its own session: the child and nothing else


def _read_lines(process: subprocess.Popen[bytes], lines: queue.Queue[dict[str, Any] | None]) -> None:
    assert process.stdout is not None
    for raw in process.stdout:
        try:
            parsed = json.loads(raw)
        except ValueError:
            continue
        if isinstance(parsed, dict):
            lines.put(parsed)
    lines.put(None)


# --- what ended where ---------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Rejection:
    source: str  # the rejected/ object
    reason: str

    @property
    def lost_answer(self) -> bool:
        return bool(LOST_ANSWER.search(self.reason))


@dataclass
class Rejections:
    by_id: dict[str, list[Rejection]] = field(default_factory=dict)
    objects: list[str] = field(default_factory=list)
    unreadable: list[str] = field(default_factory=list)

    def in_object(self, key: str) -> dict[str, list[Rejection]]:
        return {
            record_id: [r for r in found if r.source == key]
            for record_id, found in self.by_id.items()
            if any(r.source == key for r in found)
        }


def _record_id(row: dict[str, str]) -> str:
    if row.get("profile_id"):
        return row["profile_id"]
    try:
        record = json.loads(row.get("record") or "null")
    except ValueError:
        return ""
    if isinstance(record, str):  # a cell that was written with a leading quote against formula injection
        return record
    return str(record.get("profile_id", "")) if isinstance(record, dict) else ""


# --- the world ----------------------------------------------------------------------------------------------------
class World:
    """Everything a scenario runs against; one per test."""

    def __init__(self, moto_url: str, logs: Path, memory_mb: int = 512) -> None:
        self.moto_url = moto_url
        _reset_moto(moto_url)
        host, port = moto_url.rsplit("//", 1)[1].split(":")
        self.proxy = FaultProxy(host, int(port)).start()
        self.standin = AppMetricaStandIn(POST_API_KEY, APPLICATION_ID).start()
        session = boto3.session.Session(
            aws_access_key_id="testing", aws_secret_access_key="testing", region_name=REGION
        )
        self.s3 = session.client("s3", endpoint_url=moto_url)
        self.sqs = session.client("sqs", endpoint_url=moto_url)
        self.dynamodb = session.client("dynamodb", endpoint_url=moto_url)
        self.template = load_template()
        self.stack: Stack = create_stack(self.s3, self.sqs, dynamodb=self.dynamodb)
        self.bucket = self.stack.bucket
        self._skip_test_events()
        self.runner = Runner(logs, memory_mb)
        self.runner.on_start.append(self._invocation_started)
        self.env_overrides: dict[str, str] = {}

    def close(self) -> None:
        self.runner.kill_current("the test ended")
        self.standin.stop()
        self.proxy.stop()

    def _invocation_started(self, invocation: Invocation) -> None:
        self.standin.invocation = invocation.number

    def _skip_test_events(self) -> None:
        """S3 announces the new notification configuration with an s3:TestEvent on every queue: gone before we start."""
        for wiring in self.stack.functions.values():
            while True:
                got = self.sqs.receive_message(QueueUrl=wiring.queue_url, MaxNumberOfMessages=10).get("Messages", [])
                if not got:
                    break
                for message in got:
                    self.sqs.delete_message(QueueUrl=wiring.queue_url, ReceiptHandle=message["ReceiptHandle"])

    # --- wiring -------------------------------------------------------------------------------------------------
    def queue_url(self, function: str = EVENTS) -> str:
        return self.stack.functions[function].queue_url

    def dlq_url(self, function: str = EVENTS) -> str:
        return self.stack.functions[function].dlq_url

    def queue_arn(self, function: str = EVENTS) -> str:
        attributes = self.sqs.get_queue_attributes(QueueUrl=self.queue_url(function), AttributeNames=["QueueArn"])
        return str(attributes["Attributes"]["QueueArn"])

    def route(self, function: str = EVENTS) -> str:
        return self.stack.functions[function].routes[0]

    def env(self, function: str, overrides: dict[str, str] | None = None) -> dict[str, str]:
        """The function's environment as the template sets it, pointed at the proxy, moto and the stand-in."""
        inherited = {k: os.environ[k] for k in ("PATH", "HOME", "LANG", "LC_ALL", "TMPDIR", "TZ") if k in os.environ}
        variables = self.template.get("Globals", {}).get("Function", {}).get("Environment", {}).get("Variables", {})
        from_template = {k: v for k, v in variables.items() if isinstance(v, str)}
        return {
            **inherited,
            **from_template,
            "PYTHONPATH": os.pathsep.join([str(ROOT), str(ROOT / "layers" / "common")]),
            "PYTHONUNBUFFERED": "1",
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_DEFAULT_REGION": REGION,
            "AWS_REGION": REGION,
            "AWS_ENDPOINT_URL": self.proxy.url,
            "AWS_CONFIG_FILE": os.devnull,  # nothing from this machine's ~/.aws (profiles, retry modes)
            "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
            "AWS_EC2_METADATA_DISABLED": "true",
            "AWS_LAMBDA_FUNCTION_NAME": function,
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(self.runner.memory_mb),
            "POWERTOOLS_TRACE_DISABLED": "1",
            "DATA_BUCKET": self.bucket,
            "IDEMPOTENCY_TABLE": self.stack.table,
            "INGEST_QUEUE_URL": self.queue_url(function),
            "APPMETRICA_API_URL": self.standin.url,
            "APPMETRICA_POST_API_KEY": POST_API_KEY,
            "APPMETRICA_APPLICATION_ID": APPLICATION_ID,
            "COURIER_RETRY_BASE_SECONDS": "0.01",
            **self.env_overrides,
            **(overrides or {}),
        }

    # --- S3 -----------------------------------------------------------------------------------------------------
    def put_file(self, key: str, data: bytes | Iterable[bytes]) -> None:
        """Drops a file into the bucket; S3 announces it on the function's queue."""
        if isinstance(data, bytes):
            self.s3.put_object(Bucket=self.bucket, Key=key, Body=data)
        else:
            self.s3.upload_fileobj(BlockStream(data), self.bucket, key)

    def report(self, key: str) -> dict[str, Any] | None:
        try:
            body = self.s3.get_object(Bucket=self.bucket, Key=f"reports/{key}.json")["Body"].read()
        except self.s3.exceptions.NoSuchKey:
            return None
        loaded: dict[str, Any] = json.loads(body)
        return loaded

    def keys(self, prefix: str) -> list[tuple[str, int]]:
        found: list[tuple[str, int]] = []
        for page in self.s3.get_paginator("list_objects_v2").paginate(Bucket=self.bucket, Prefix=prefix):
            found.extend((item["Key"], int(item["Size"])) for item in page.get("Contents", []))
        return found

    def rejections(self) -> Rejections:
        """Every record listed under rejected/, by profile_id, with its reason."""
        result = Rejections()
        for key, size in self.keys("rejected/"):
            result.objects.append(key)
            if size > MAX_REJECTED_OBJECT_BYTES:
                result.unreadable.append(f"{key} ({size} bytes)")
                continue
            text = self.s3.get_object(Bucket=self.bucket, Key=key)["Body"].read().decode("utf-8", "replace")
            csv.field_size_limit(MAX_REJECTED_OBJECT_BYTES)
            for row in csv.DictReader(io.StringIO(text, newline="")):
                record_id = _record_id({k: v or "" for k, v in row.items() if isinstance(k, str)})
                reason = str(row.get("error") or "").strip()
                result.by_id.setdefault(record_id, []).append(Rejection(key, reason))
        return result

    # --- SQS ----------------------------------------------------------------------------------------------------
    def queue_counts(self, url: str) -> dict[str, int]:
        names = ["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"]
        names.append("ApproximateNumberOfMessagesDelayed")
        attributes = self.sqs.get_queue_attributes(QueueUrl=url, AttributeNames=names)["Attributes"]
        return {name.removeprefix("ApproximateNumberOf"): int(attributes.get(name, 0)) for name in names}

    def queue_empty(self, function: str = EVENTS) -> bool:
        return not any(self.queue_counts(self.queue_url(function)).values())

    def dead_letters(self, function: str = EVENTS) -> list[dict[str, Any]]:
        """The messages in the function's dead-letter queue (received and left invisible: call once, at the end)."""
        found: list[dict[str, Any]] = []
        while True:
            got = self.sqs.receive_message(
                QueueUrl=self.dlq_url(function), MaxNumberOfMessages=10, VisibilityTimeout=600
            ).get("Messages", [])
            if not got:
                return found
            found.extend(got)

    def replay_dead_letters(self, function: str = EVENTS) -> int:
        """What an operator does once the cause is fixed: `courier replay`, each dead letter back on the function's
        queue. Returns how many."""
        return replay(self.sqs, self.dlq_url(function), self.queue_url(function))

    def send_records(self, records: list[dict[str, Any]], function: str = EVENTS) -> str:
        sent = self.sqs.send_message(QueueUrl=self.queue_url(function), MessageBody=json.dumps(records))
        return str(sent["MessageId"])

    # --- Lambda -------------------------------------------------------------------------------------------------
    def invoke(
        self, event: dict[str, Any], timeout: float, function: str = EVENTS, env: dict[str, str] | None = None
    ) -> Invocation:
        return self.runner.invoke(function, event, timeout, self.env(function, env))

    def drain(
        self,
        function: str = EVENTS,
        *,
        timeout: float,
        batch_size: int = 10,
        retry_after: float | None = None,
        honour_backoff: bool = False,
        visibility: int | None = None,
        budget: float = 90.0,
        max_invocations: int = 60,
        env: dict[str, str] | None = None,
        after_invocation: Callable[[Invocation], None] | None = None,
    ) -> list[Invocation]:
        """What the SQS event source mapping does, until the queue is empty (or the budget is spent): receive up to
        `batch_size` messages, invoke, delete what succeeded, leave the rest. The queue's visibility timeout is set to
        `visibility` s (default timeout + 3; the template's 1,800 s would make a test wait half an hour), so a message
        whose invocation died comes back after it. Time is compressed for messages the function reported failed:
        they come back `retry_after` s later (default: timeout + 1 s, so whatever an earlier invocation left in
        progress has expired, as it would have after the function's real back-off); `honour_backoff=True` leaves
        them to the visibility the function set."""
        assert 1 <= batch_size <= 10
        url, arn = self.queue_url(function), self.queue_arn(function)
        hidden = visibility if visibility is not None else math.ceil(timeout) + 3
        comeback = int(retry_after if retry_after is not None else math.ceil(timeout) + 1)
        self.sqs.set_queue_attributes(QueueUrl=url, Attributes={"VisibilityTimeout": str(hidden)})
        deadline = time.monotonic() + budget
        done: list[Invocation] = []
        while time.monotonic() < deadline and len(done) < max_invocations:
            received = self.sqs.receive_message(
                QueueUrl=url,
                MaxNumberOfMessages=batch_size,
                AttributeNames=["All"],
                MessageAttributeNames=["All"],
                WaitTimeSeconds=0,
            ).get("Messages", [])
            if not received:
                if self.queue_empty(function):
                    break
                time.sleep(0.2)
                continue
            invocation = self.invoke(sqs_event(received, arn), timeout, function, env)
            invocation.messages = [m["MessageId"] for m in received]
            done.append(invocation)
            failed = set(invocation.failed_messages())
            succeeded = [m for m in received if m["MessageId"] not in failed]
            if succeeded:
                self.sqs.delete_message_batch(
                    QueueUrl=url,
                    Entries=[{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(succeeded)],
                )
            if not honour_backoff and invocation.answered:
                for message in received:
                    if message["MessageId"] in failed:
                        self.sqs.change_message_visibility(
                            QueueUrl=url, ReceiptHandle=message["ReceiptHandle"], VisibilityTimeout=comeback
                        )
            if after_invocation is not None:
                after_invocation(invocation)
        return done

    # --- verdicts -----------------------------------------------------------------------------------------------
    def overruns(self) -> list[Invocation]:
        return [invocation for invocation in self.runner.invocations if invocation.overran]

    def timeline(self) -> str:
        parts = ["invocations:", *([i.describe() for i in self.runner.invocations] or ["  (none)"])]
        parts += ["destination requests:", self.standin.summary()]
        if self.standin.follows:
            parts.append(f"  {len(self.standin.follows)} request(s) followed a redirect")
        with self.proxy.lock:
            injected = list(self.proxy.injected)
            served = [(key, count, self.proxy.s3_gets[key]) for key, count in self.proxy.s3_bytes.items()]
        sizes = dict(self.keys(""))
        for key, count, gets in served:
            size = sizes.get(key, 0)
            ratio = f", {count / size:.1f}× its size" if size else ""
            parts.append(f"S3 GetObject {key}: {count:,} bytes served in {gets} GET(s){ratio}")
        if injected:
            shown = injected[:15] + ([f"… {len(injected) - 15} more"] if len(injected) > 15 else [])
            parts += ["injected AWS faults:", *(f"  {line}" for line in shown)]
        return "\n".join(parts)

    def exactly_once_problems(
        self, expected: Collection[str], rejections: Rejections, in_flight: Collection[str] = ()
    ) -> list[str]:
        """Every expected record delivered exactly once, or rejected with a reason (a lost-answer rejection may also
        have been delivered once), never twice; nothing unexpected delivered; nothing dropped by AppMetrica."""
        delivered, dropped = self.standin.delivered, self.standin.dropped
        expected_set, flying = set(expected), set(in_flight)
        kinds: dict[str, list[str]] = {}

        def note(kind: str, record_id: str) -> None:
            kinds.setdefault(kind, []).append(record_id)

        for record_id in expected:
            times = delivered.get(record_id, 0)
            found = rejections.by_id.get(record_id, [])
            if times + dropped.get(record_id, 0) > 1:
                note("delivered more than once", record_id)
            if dropped.get(record_id) and not found:
                note("sent outside the 14-day window (AppMetrica dropped it silently)", record_id)
            elif any(not r.reason for r in found):
                note("rejected without a reason", record_id)
            elif times == 1 and found and not any(r.lost_answer for r in found):
                note("delivered, and also rejected (not as a lost answer)", record_id)
            elif times == 0 and not found and not dropped.get(record_id) and record_id not in flying:
                note("lost: neither delivered nor rejected", record_id)
        unexpected = [record_id for record_id in delivered if record_id not in expected_set]
        if unexpected:
            kinds["delivered but never sent to Courier"] = unexpected
        if rejections.unreadable:
            kinds["rejected/ objects too large to read"] = rejections.unreadable
        return [
            f"{len(found)} record(s) {kind}: {', '.join(found[:8])}{' …' if len(found) > 8 else ''}"
            + (f" (delivered {delivered.get(found[0], 0)}×)" if kind == "delivered more than once" else "")
            for kind, found in kinds.items()
        ]

    def report_problems(self, key: str, expected: Collection[str], rejections: Rejections) -> list[str]:
        """The file's report: complete, every row read and accounted, its counts matching the destination's."""
        report = self.report(key)
        if report is None:
            return [f"no report at reports/{key}.json"]
        missing = [name for name in REPORT_FIELDS if name not in report]
        if missing:
            return [f"the report lacks {missing}: {report}"]
        problems = []
        counts = {name: report[name] for name in REPORT_FIELDS}
        if report["status"] != "complete":
            problems.append(f"report status is {report['status']!r}, not 'complete'")
        if report["read"] != len(expected):
            problems.append(f"report read {report['read']} rows of {len(expected)}")
        if report["pending"] != 0:
            problems.append(f"report leaves {report['pending']} rows pending")
        total = report["delivered"] + report["rejected"] + report["duplicates_skipped"] + report["pending"]
        if total != report["read"]:
            problems.append(f"delivered + rejected + duplicates_skipped + pending = {total} ≠ read {report['read']}")
        in_file = rejections.in_object(f"rejected/{key}.csv")
        if report["rejected"] != len(in_file):
            problems.append(f"report says {report['rejected']} rejected, rejected/{key}.csv lists {len(in_file)}")
        lost = {record_id for record_id, found in in_file.items() if any(r.lost_answer for r in found)}
        arrived = sum(1 for record_id in expected if self.standin.delivered.get(record_id) and record_id not in lost)
        accounted = report["delivered"] + report["duplicates_skipped"]
        if accounted != arrived:
            problems.append(
                f"report delivered + duplicates_skipped = {accounted}, but {arrived} of the file's rows reached "
                "AppMetrica (not counting lost-answer rejections)"
            )
        return [f"{p} — report {counts}" for p in problems]

    def verdict(
        self,
        expected: Collection[str],
        files: Mapping[str, Collection[str]] | None = None,
        in_flight: Collection[str] = (),
        kills_expected: bool = False,
    ) -> list[str]:
        rejections = self.rejections()
        problems = self.exactly_once_problems(expected, rejections, in_flight)
        for key, rows in (files or {}).items():
            problems += self.report_problems(key, rows, rejections)
        if not kills_expected:
            problems += overrun_problems(self.overruns())
        return problems

    def fail_if(self, problems: list[str]) -> None:
        assert not problems, "\n".join(["", *problems, "", self.timeline()])

    def assert_sound(
        self,
        expected: Collection[str],
        files: Mapping[str, Collection[str]] | None = None,
        in_flight: Collection[str] = (),
        kills_expected: bool = False,
    ) -> None:
        self.fail_if(self.verdict(expected, files, in_flight, kills_expected))


def overrun_problems(overran: list[Invocation]) -> list[str]:
    """Invocations Lambda would have ended (out of time or memory), in one line."""
    if not overran:
        return []
    numbers = ", ".join(f"#{i.number}" for i in overran[:12]) + (" …" if len(overran) > 12 else "")
    return [
        f"{len(overran)} invocation(s) killed for overrunning their time or memory ({numbers}); first: "
        f"{overran[0].describe().strip()}"
    ]


def _reset_moto(url: str) -> None:
    """moto's state is process-wide: every world starts from nothing."""
    request = urllib.request.Request(f"{url}/moto-api/reset", method="POST", data=b"")  # noqa: S310  (127.0.0.1)
    with urllib.request.urlopen(request, timeout=30) as answer:  # noqa: S310
        answer.read()


def start_moto() -> tuple[Any, str]:
    from moto.server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    return server, f"http://{host}:{port}"


def run_problems(standin: AppMetricaStandIn, prefix: str, count: int) -> list[str]:
    """The rows `<prefix>0 … <prefix><count-1>` arrived in file order, each continuation starting at the row after the
    last one the previous invocation delivered: the taken rows of every request, in arrival order, make one run."""
    runs: list[tuple[int, int, int]] = []  # (first, last, invocation)
    for request in standin.requests():
        for run_prefix, first, last in request.runs:
            if run_prefix != prefix or not request.taken:
                continue
            if runs and runs[-1][1] + 1 == first:
                runs[-1] = (runs[-1][0], last, request.invocation)
            else:
                runs.append((first, last, request.invocation))
    if len(runs) == 1 and runs[0][:2] == (0, count - 1):
        return []
    shown = ", ".join(f"{a}..{b} (up to invocation {i})" for a, b, i in runs[:8])
    return [f"rows did not arrive as one run 0..{count - 1} in file order: {shown}{' …' if len(runs) > 8 else ''}"]
