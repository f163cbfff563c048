"""`make demo`: the sample data through every door of every function, on moto and the local emulators.

Prints a table (function, door → delivered / rejected / retrying, with the report or rejected rows of each), copies
what the functions wrote to the data bucket into out/demo/, then stops everything."""

from __future__ import annotations

import csv
import importlib
import io
import json
import os
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, redirect_stdout
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
EVENTS = ROOT / "events"
OUT = ROOT / "out" / "demo"
ROUTES = {
    "appmetrica_events": "/appmetrica/events",
    "appmetrica_profiles": "/appmetrica/profiles",
    "altcraft_profile_import": "/altcraft/profiles/import",
    "altcraft_profile_update": "/altcraft/profiles/update",
}
SANDBOX_KEY = "sandbox-post-api-key"
SANDBOX_APP = "1111"
SANDBOX_TOKEN = "sandbox-altcraft-token"  # noqa: S105  (the emulator's, not a secret)
SANDBOX_DB = 1


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
    """What the demo plays through one function's doors."""

    file_name: str
    file_body: bytes
    message: list[dict[str, Any]]
    request: list[dict[str, Any]]


def fresh_seed_sample() -> bytes:
    """The seed's events sample with its timestamps moved to the last hours, and one stale row to show a refusal."""
    text = (EVENTS / "appmetrica_events" / "seed_sample.csv").read_text(encoding="utf-8")
    rows = list(csv.DictReader(io.StringIO(text, newline="")))
    now = int(time.time())
    for offset, row in enumerate(rows):
        row["event_timestamp"] = str(now - 3600 * (offset + 1))
    stale = {**rows[0], "profile_id": "stale-user", "event_timestamp": str(now - 20 * 24 * 3600)}
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(rows[0]), lineterminator="\n")
    writer.writeheader()
    writer.writerows([*rows, stale])
    return out.getvalue().encode("utf-8")


def samples() -> dict[str, Samples]:
    now = int(time.time())
    return {
        "appmetrica_events": Samples(
            "seed_sample.csv",
            fresh_seed_sample(),
            [
                {"profile_id": "sqs-user", "event_name": "energy_restored", "event_timestamp": now - 60},
                {"profile_id": "sqs-user", "event_name": "in_ms", "event_timestamp": now * 1000},
            ],
            [
                {
                    "profile_id": "web-user",
                    "event_name": "payment_succeeded",
                    "event_timestamp": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(now - 30)),
                    "event_json": {"amount": 990, "currency": "RUB"},
                },
                {"event_name": "no_identifier", "event_timestamp": now},
            ],
        ),
        "appmetrica_profiles": Samples(
            "sample_profiles.csv",
            (EVENTS / "appmetrica_profiles" / "sample_profiles.csv").read_bytes(),
            [
                {"profile_id": "crm-2001", "attributes": {"plan": "pro"}, "email": "Ivan.Petrov@ya.ru"},
                {"profile_id": "crm-2002", "attributes": {"plan": ["not", "a", "scalar"]}},
            ],
            [
                {"profile_id": "crm-3001", "phone": "+7 (916) 012-34-56", "attributes": {"tier": 2}},
                {"profile_id": "crm-3002", "attributes": {"appmetrica_reserved": 1}},
            ],
        ),
        "altcraft_profile_import": Samples(
            "sample_profiles.csv",
            (EVENTS / "altcraft_profile_import" / "sample_profiles.csv").read_bytes(),
            [
                json.loads((EVENTS / "altcraft_profile_import" / "seed_import_record.json").read_text()),
                {"matching": "phone", "data": {"_fname": "No phone"}},
            ],
            [
                {"email": "web@example.com", "data": {"email": "web@example.com", "_fname": "Web"}},
                {"matching": "profile_id", "profile_id": "5f4fa1a5ce9448665fef548e", "data": {"_fname": "x"}},
            ],
        ),
        "altcraft_profile_update": Samples(
            "sample_updates.csv",
            (EVENTS / "altcraft_profile_update" / "sample_updates.csv").read_bytes(),
            [
                {"email": "anna@example.com", "data": {"loyalty": {"action": "incr", "value": 1}}},
                {"email": "anna@example.com", "data": {"email": {"action": "unset"}}},
            ],
            [
                {"email": "boris@example.com", "data": {"interests": {"action": "add", "value": ["travel"]}}},
                {"email": "nobody@example.com", "data": {"_fname": "Nobody"}},
            ],
        ),
    }


@contextmanager
def sandbox_env(values: dict[str, str]) -> Iterator[None]:
    saved = {name: os.environ.get(name) for name in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def rejected_keys(s3: Any, bucket: str, function: str) -> set[str]:
    keys: set[str] = set()
    for door in ("sqs", "https"):
        listing = s3.list_objects_v2(Bucket=bucket, Prefix=f"rejected/{door}/{function}/").get("Contents", [])
        keys |= {item["Key"] for item in listing}
    return keys


def new_files(s3: Any, bucket: str, function: str, seen: set[str]) -> str:
    return ", ".join(f"s3://{bucket}/{key}" for key in sorted(rejected_keys(s3, bucket, function) - seen))


def play(
    function: str,
    played: Samples,
    handler: Callable[..., Any],
    delivered: Callable[[], int],
    s3: Any,
    sqs: Any,
    bucket: str,
    queue_url: str,
) -> list[Row]:
    from sandbox.lambda_runtime import LambdaContext, api_gateway_event, drain

    rows = []
    # Door 1: a file dropped in the bucket
    key = f"{function}/demo/{played.file_name}"
    s3.put_object(Bucket=bucket, Key=key, Body=played.file_body)
    drain(sqs, queue_url, handler)
    report = json.loads(s3.get_object(Bucket=bucket, Key=f"reports/{key}.json")["Body"].read())
    rows.append(
        Row(
            function,
            "S3 file",
            report["delivered"],
            report["rejected"],
            report["pending"],
            f"s3://{bucket}/reports/{key}.json",
        )
    )
    # Door 2: a message on the function's queue
    before, seen = delivered(), rejected_keys(s3, bucket, function)
    sqs.send_message(QueueUrl=queue_url, MessageBody=json.dumps(played.message))
    failed = sum(len(result.failed) for result in drain(sqs, queue_url, handler))
    sent = delivered() - before
    rows.append(
        Row(
            function,
            "SQS message",
            sent,
            len(played.message) - sent,
            failed,
            new_files(s3, bucket, function, seen),
        )
    )
    # Door 3: an HTTPS call from a webhook; refusals come in the answer, or later from the destination
    before, seen = delivered(), rejected_keys(s3, bucket, function)
    response = handler(api_gateway_event(ROUTES[function], json.dumps(played.request)), LambdaContext())
    failed = sum(len(result.failed) for result in drain(sqs, queue_url, handler))
    sent = delivered() - before
    rows.append(
        Row(
            function,
            f"HTTPS ({response['statusCode']})",
            sent,
            len(played.request) - sent - failed,
            failed,
            new_files(s3, bucket, function, seen),
        )
    )
    return rows


def run() -> list[Row]:
    import boto3
    from moto import mock_aws

    from courier.doors.services import reset_services
    from sandbox.altcraft_emulator import AltcraftEmulator
    from sandbox.appmetrica_emulator import AppMetricaEmulator
    from sandbox.stack import create_stack

    appmetrica = AppMetricaEmulator(keys={SANDBOX_KEY: {SANDBOX_APP}}).start()
    altcraft = AltcraftEmulator(tokens={SANDBOX_TOKEN: {SANDBOX_DB}}).start()
    for email in ("anna@example.com", "boris@example.com"):  # the customers the update samples change
        altcraft.add_profile(SANDBOX_DB, {"email": email, "loyalty": 100, "promo_code": "WELCOME"})
    counters = {
        "appmetrica_events": lambda: len(appmetrica.events(SANDBOX_APP)),
        "appmetrica_profiles": lambda: len(appmetrica.profiles(SANDBOX_APP)),
        "altcraft_profile_import": altcraft.accepted,
        "altcraft_profile_update": altcraft.accepted,
    }
    fake_aws = {"AWS_ACCESS_KEY_ID": "sandbox", "AWS_SECRET_ACCESS_KEY": "sandbox", "AWS_DEFAULT_REGION": "us-east-1"}
    rows: list[Row] = []
    try:
        with sandbox_env(fake_aws), mock_aws():
            s3, sqs = boto3.client("s3"), boto3.client("sqs")
            stack = create_stack(s3, sqs)
            for function, played in samples().items():
                wiring = stack.functions[function]
                env = {
                    "DATA_BUCKET": stack.bucket,
                    "INGEST_QUEUE_URL": wiring.queue_url,
                    "APPMETRICA_API_URL": appmetrica.url,
                    "APPMETRICA_POST_API_KEY": SANDBOX_KEY,
                    "APPMETRICA_APPLICATION_ID": SANDBOX_APP,
                    "ALTCRAFT_API_URL": altcraft.url,
                    "ALTCRAFT_API_TOKEN": SANDBOX_TOKEN,
                    "ALTCRAFT_DB_ID": str(SANDBOX_DB),
                }
                with sandbox_env(env):
                    reset_services()
                    handler = importlib.import_module(f"functions.{function}.app").lambda_handler
                    rows += play(function, played, handler, counters[function], s3, sqs, stack.bucket, wiring.queue_url)
            save_bucket(s3, stack.bucket)
            reset_services()
    finally:
        appmetrica.stop()
        altcraft.stop()
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
    started = time.monotonic()
    OUT.mkdir(parents=True, exist_ok=True)
    log = OUT / "functions.log"
    with log.open("w", encoding="utf-8") as handle, redirect_stdout(handle):  # the functions' JSON logs
        rows = run()
    print_table(rows)
    print(f"The functions' logs: {log.relative_to(ROOT)}. Done in {time.monotonic() - started:.1f} s.")


if __name__ == "__main__":
    main()
