"""`make demo`: the sample data through every door of every function, on the sandbox (moto's server and the local
emulators, wired as template.yaml wires AWS).

Prints a table (function, door → delivered / rejected / retrying, with the report or rejected rows of each), copies
what the functions wrote to the data bucket into out/demo/, then stops everything."""

from __future__ import annotations

import csv
import io
import json
import re
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import requests

if TYPE_CHECKING:  # imported when run: the functions' loggers must be made after their output is redirected
    from sandbox.runner import Sandbox

ROOT = Path(__file__).resolve().parent.parent
EVENTS = ROOT / "events"
OUT = ROOT / "out" / "demo"
SETTLE_SECONDS = 180  # a loaded machine (CI) takes far longer than the usual few seconds per door


@dataclass
class Row:
    function: str
    door: str
    delivered: int
    rejected: int
    retrying: int
    report: str


@dataclass
class Samples:
    """What the demo plays through one function's doors: `events/<function>/demo.json` names the file to drop and
    holds the records of the message and of the HTTPS call. `$NOW-<seconds>`, `$NOW_MS` and `$ISO-<seconds>` in them
    become times relative to now (the Post API takes only the last 14 days). Its `mapped` part, when there is one,
    names a mapping (`mappings/<name>.yaml` beside it) and the records in the user's own shape that go through it."""

    file_name: str
    file_body: bytes
    message: list[dict[str, Any]]
    request: list[dict[str, Any]]
    mapping: str = ""  # the mapping these samples go through ('': none)
    mapping_text: str = ""
    mapped: Samples | None = None  # the samples in the user's own shape, with their mapping

    @classmethod
    def of(cls, function: str, now: int) -> Samples:
        folder = EVENTS / function
        plan = json.loads(_fresh((folder / "demo.json").read_text(encoding="utf-8"), now))
        samples = cls._of(folder, plan, now)
        if "mapped" in plan:
            mapping_path = folder / plan["mapped"]["mapping"]
            samples.mapped = cls._of(folder, plan["mapped"], now)
            samples.mapped.mapping = mapping_path.stem
            samples.mapped.mapping_text = mapping_path.read_text(encoding="utf-8")
        return samples

    @classmethod
    def _of(cls, folder: Path, plan: dict[str, Any], now: int) -> Samples:
        body = _fresh((folder / plan["file"]).read_text(encoding="utf-8"), now).encode("utf-8")
        return cls(plan["file"], body, plan["message"], plan["request"])


TIME_TOKEN = re.compile(r"\$(NOW_MS|NOW|ISO)(?:-(\d+))?")


def _fresh(text: str, now: int) -> str:
    def moment(match: re.Match[str]) -> str:
        at = now - int(match.group(2) or 0)
        if match.group(1) == "NOW_MS":
            return str(at * 1000)
        return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(at)) if match.group(1) == "ISO" else str(at)

    return TIME_TOKEN.sub(moment, text)


def rejected_files(sandbox: Sandbox, function: str) -> set[str]:
    keys: set[str] = set()
    for door in ("sqs", "https"):
        listing = sandbox.s3.list_objects_v2(Bucket=sandbox.bucket, Prefix=f"rejected/{door}/{function}/")
        keys |= {item["Key"] for item in listing.get("Contents", [])}
    return keys


def rows_in(sandbox: Sandbox, keys: set[str]) -> int:
    return sum(
        len(
            list(
                csv.DictReader(
                    io.StringIO(
                        sandbox.s3.get_object(Bucket=sandbox.bucket, Key=key)["Body"].read().decode("utf-8"), newline=""
                    )
                )
            )
        )
        for key in keys
    )


def in_flight(sandbox: Sandbox, function: str) -> int:
    """Messages still retrying or in the dead-letter queue."""
    wiring = sandbox.functions[function].wiring
    names = ["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"]
    return sum(
        int(value)
        for url in (wiring.queue_url, wiring.dlq_url)
        for value in sandbox.sqs.get_queue_attributes(QueueUrl=url, AttributeNames=names)["Attributes"].values()
    )


def settled(sandbox: Sandbox, what: str) -> None:
    """Waits for the queues to empty; a demo that never settles says what it waited for, rather than reading a
    report that is not written yet."""
    if not sandbox.settle(timeout=SETTLE_SECONDS):
        raise SystemExit(f"the sandbox did not settle within {SETTLE_SECONDS} s after {what} (see {OUT}/functions.log)")


def play(sandbox: Sandbox, function: str, played: Samples, delivered: Callable[[], int]) -> list[Row]:
    """Each door as a user would use it: a file into the bucket, a message onto the queue, an HTTPS call; with a
    mapping, put in the bucket first and named by the file's folder, the message's attribute and the query."""
    from sandbox.runner import API_KEY

    rows = []
    name = played.mapping
    if name:
        mapping_key = f"mappings/{function}/{name}.yaml"
        sandbox.s3.put_object(Bucket=sandbox.bucket, Key=mapping_key, Body=played.mapping_text.encode("utf-8"))
    attributes = {"mapping": {"DataType": "String", "StringValue": name}} if name else {}
    suffix = f" (mapping {name})" if name else ""
    key = f"{function}/{name or 'demo'}/{played.file_name}"
    sandbox.s3.put_object(Bucket=sandbox.bucket, Key=key, Body=played.file_body)
    settled(sandbox, f"the file {key}")
    report = json.loads(sandbox.s3.get_object(Bucket=sandbox.bucket, Key=f"reports/{key}.json")["Body"].read())
    rows.append(
        Row(
            function,
            "S3 file" + suffix,
            report["delivered"],
            report["rejected"],
            report["pending"],
            f"s3://{sandbox.bucket}/reports/{key}.json",
        )
    )
    for door, send in (
        (
            "SQS message",
            lambda: sandbox.sqs.send_message(
                QueueUrl=sandbox.functions[function].wiring.queue_url,
                MessageBody=json.dumps(played.message),
                MessageAttributes=attributes,
            ),
        ),
        (
            "HTTPS",
            lambda: requests.post(
                sandbox.api_url + sandbox.functions[function].destination.route,
                json=played.request,
                params={"mapping": name} if name else None,
                headers={"x-api-key": API_KEY},
                timeout=30,
            ),
        ),
    ):
        before, seen = delivered(), rejected_files(sandbox, function)
        answer = send()
        settled(sandbox, f"{function}'s {door}")
        new = rejected_files(sandbox, function) - seen
        label = (f"HTTPS ({answer.status_code})" if door == "HTTPS" else door) + suffix
        rows.append(
            Row(
                function,
                label,
                delivered() - before,
                rows_in(sandbox, new),
                in_flight(sandbox, function),
                ", ".join(f"s3://{sandbox.bucket}/{k}" for k in sorted(new)),
            )
        )
    return rows


SUBSCRIBER = {"id": "5a5b91d769d4265b958b9acb", "email": "sub.demo@example.com", "_fname": "Demo"}


def run(
    before_stop: Callable[[Sandbox], None] = lambda sandbox: None,
    prepare: Callable[[Sandbox], None] = lambda sandbox: None,
) -> list[Row]:
    """Plays the samples; `prepare` sees the sandbox once started (the built-artifact test swaps its handlers),
    `before_stop` looks at it once they are played, before it stops."""
    from courier.destinations.apis import ALTCRAFT, APPMETRICA
    from courier.destinations.registry import ENDPOINTS
    from sandbox.runner import ALTCRAFT_DB, QUICK_WINDOW, Sandbox

    with Sandbox(batching_window=QUICK_WINDOW) as sandbox:
        prepare(sandbox)
        for email in ("anna@example.com", "boris@example.com"):  # the customers the update samples change
            sandbox.altcraft.add_profile(ALTCRAFT_DB, {"email": email, "loyalty": 100, "promo_code": "WELCOME"})
        sandbox.altcraft.add_profile(ALTCRAFT_DB, SUBSCRIBER)  # the profile whose subscriptions the samples set
        accepted = {APPMETRICA: sandbox.appmetrica.accepted, ALTCRAFT: sandbox.altcraft.accepted}
        rows, now = [], int(time.time())
        for endpoint in ENDPOINTS:
            samples = Samples.of(endpoint.name, now)
            for played in (samples, samples.mapped):
                if played is not None:
                    rows += play(sandbox, endpoint.name, played, accepted[endpoint.api])
        save_bucket(sandbox.s3, sandbox.bucket)
        before_stop(sandbox)
    return rows


def save_bucket(s3: Any, bucket: str) -> None:
    """Copies reports/ and rejected/ out of the in-memory bucket so a person can open them."""
    for prefix in ("reports/", "rejected/"):
        for item in s3.list_objects_v2(Bucket=bucket, Prefix=prefix).get("Contents", []):
            target = OUT / item["Key"]
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(s3.get_object(Bucket=bucket, Key=item["Key"])["Body"].read())


def print_table(rows: list[Row]) -> None:
    headers = ("function", "door", "delivered", "rejected", "retrying", "report / rejected rows")
    cells = [(r.function, r.door, str(r.delivered), str(r.rejected), str(r.retrying), r.report) for r in rows]
    table = [headers, *cells]
    widths = [max(len(line[i]) for line in table) for i in range(len(headers))]
    for n, line in enumerate(table):
        print("  ".join(cell.ljust(width) for cell, width in zip(line, widths, strict=True)).rstrip())
        if n == 0:
            print("  ".join("-" * width for width in widths))
    print(f"\nReports and rejected rows copied to {OUT.relative_to(ROOT)}/")


def main() -> None:
    from cli.main import status
    from cli.status import DEFAULT_HOURS
    from sandbox.runner import functions_output

    started = time.monotonic()
    OUT.mkdir(parents=True, exist_ok=True)
    log = OUT / "functions.log"
    health: list[str] = []

    def take_status(sandbox: Sandbox) -> None:  # what `courier status` says of the sandbox, from the functions' EMF
        sys.stdout.flush()
        status(None, DEFAULT_HOURS, log, health.append)

    with log.open("w", encoding="utf-8") as handle, functions_output(handle):  # the functions' JSON logs and metrics
        rows = run(take_status)
    print_table(rows)
    print(f"The functions' logs: {log.relative_to(ROOT)}.\n\ncourier status, on the demo's sandbox before it stops:")
    print("\n".join(health))
    print(f"\nDone in {time.monotonic() - started:.1f} s.")


if __name__ == "__main__":
    main()
