"""`make demo`: the sample data through every door of every function, on moto and the local emulators.

Prints a table (function × door → delivered / rejected / retrying, with the report of each) and copies what the
functions wrote to the data bucket into out/demo/, then stops everything."""

from __future__ import annotations

import csv
import io
import json
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager, redirect_stdout
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "out" / "demo"
SANDBOX_KEY = "sandbox-post-api-key"
SANDBOX_APP = "1111"


@dataclass
class Row:
    function: str
    door: str
    delivered: int
    rejected: int
    retrying: int
    report: str


def fresh_seed_sample() -> bytes:
    """The seed's events sample with its timestamps moved to the last hours, and one stale row to show a refusal."""
    text = (ROOT / "events" / "appmetrica_events" / "seed_sample.csv").read_text(encoding="utf-8")
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


def run() -> list[Row]:
    import boto3
    from moto import mock_aws

    from courier.doors.services import reset_services
    from functions.appmetrica_events.app import lambda_handler
    from sandbox.appmetrica_emulator import AppMetricaEmulator
    from sandbox.lambda_runtime import LambdaContext, api_gateway_event, drain
    from sandbox.stack import create_stack

    emulator = AppMetricaEmulator(keys={SANDBOX_KEY: {SANDBOX_APP}}).start()
    fake_aws = {"AWS_ACCESS_KEY_ID": "sandbox", "AWS_SECRET_ACCESS_KEY": "sandbox", "AWS_DEFAULT_REGION": "us-east-1"}
    rows: list[Row] = []
    try:
        with sandbox_env(fake_aws), mock_aws():
            s3, sqs = boto3.client("s3"), boto3.client("sqs")
            stack = create_stack(s3, sqs)
            wiring = stack.functions["appmetrica_events"]
            env = {
                "DATA_BUCKET": stack.bucket,
                "INGEST_QUEUE_URL": wiring.queue_url,
                "APPMETRICA_API_URL": emulator.url,
                "APPMETRICA_POST_API_KEY": SANDBOX_KEY,
                "APPMETRICA_APPLICATION_ID": SANDBOX_APP,
            }
            with sandbox_env(env):
                reset_services()

                def delivered() -> int:
                    return len(emulator.events(SANDBOX_APP))

                # Door 1: a file dropped in the bucket
                key = "appmetrica_events/demo/seed_sample.csv"
                s3.put_object(Bucket=stack.bucket, Key=key, Body=fresh_seed_sample())
                drain(sqs, wiring.queue_url, lambda_handler)
                report = json.loads(s3.get_object(Bucket=stack.bucket, Key=f"reports/{key}.json")["Body"].read())
                rows.append(
                    Row(
                        "appmetrica_events",
                        "S3 file",
                        report["delivered"],
                        report["rejected"],
                        report["pending"],
                        f"s3://{stack.bucket}/reports/{key}.json",
                    )
                )

                # Door 2: a message on the function's queue
                before, now = delivered(), int(time.time())
                records = [
                    {"profile_id": "sqs-user", "event_name": "energy_restored", "event_timestamp": now - 60},
                    {"profile_id": "sqs-user", "event_name": "in_ms", "event_timestamp": now * 1000},
                ]
                sqs.send_message(QueueUrl=wiring.queue_url, MessageBody=json.dumps(records))
                results = drain(sqs, wiring.queue_url, lambda_handler)
                rows.append(
                    Row(
                        "appmetrica_events",
                        "SQS message",
                        delivered() - before,
                        len(records) - (delivered() - before),
                        sum(len(r.failed) for r in results),
                        rejected_files(s3, stack.bucket, "rejected/sqs/"),
                    )
                )

                # Door 3: an HTTPS call from a webhook
                before = delivered()
                body = [
                    {
                        "profile_id": "web-user",
                        "event_name": "payment_succeeded",
                        "event_timestamp": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(now - 30)),
                        "event_json": {"amount": 990, "currency": "RUB"},
                    },
                    {"event_name": "no_identifier", "event_timestamp": now},
                ]
                response = lambda_handler(api_gateway_event("/appmetrica/events", json.dumps(body)), LambdaContext())
                answer = json.loads(response["body"])
                drain(sqs, wiring.queue_url, lambda_handler)
                rows.append(
                    Row(
                        "appmetrica_events",
                        f"HTTPS ({response['statusCode']})",
                        delivered() - before,
                        len(answer["rejected"]),
                        0,
                        rejected_files(s3, stack.bucket, "rejected/https/"),
                    )
                )
                save_bucket(s3, stack.bucket)
            reset_services()
    finally:
        emulator.stop()
    return rows


def rejected_files(s3: Any, bucket: str, prefix: str) -> str:
    listing = s3.list_objects_v2(Bucket=bucket, Prefix=prefix).get("Contents", [])
    return ", ".join(f"s3://{bucket}/{item['Key']}" for item in listing)


def save_bucket(s3: Any, bucket: str) -> None:
    """Copies reports/ and rejected/ out of the in-memory bucket so a person can open them."""
    for prefix in ("reports/", "rejected/"):
        for item in s3.list_objects_v2(Bucket=bucket, Prefix=prefix).get("Contents", []):
            target = OUT / item["Key"]
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(s3.get_object(Bucket=bucket, Key=item["Key"])["Body"].read())


def print_table(rows: list[Row]) -> None:
    headers = ("function", "door", "delivered", "rejected", "retrying", "report / rejected rows")
    table = [
        headers,
        *[(r.function, r.door, str(r.delivered), str(r.rejected), str(r.retrying), r.report) for r in rows],
    ]
    widths = [max(len(line[i]) for line in table) for i in range(len(headers))]
    for n, line in enumerate(table):
        print("  ".join(cell.ljust(width) for cell, width in zip(line, widths, strict=True)))
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
