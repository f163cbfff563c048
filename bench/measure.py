"""One measurement, in a fresh process so its peak memory is its own: `python -m bench.measure PATH KEY ROWS`.
Prints {"seconds", "rows", "peak_mb"}. The S3 object is in moto's server, the destination in bench.servers."""

from __future__ import annotations

import json
import os
import resource
import sys
import time
from typing import Any

import requests

LINES_PER_REQUEST = 100_000


def limit(key: str) -> int:
    """Raw pass-through: the object's bytes straight into requests of 100,000 lines, no parsing."""
    import boto3

    body = boto3.client("s3").get_object(Bucket=os.environ["DATA_BUCKET"], Key=key)["Body"]
    url = os.environ["APPMETRICA_API_URL"] + "/logs/v1/import/events.csv"
    params = {"post_api_key": os.environ["APPMETRICA_POST_API_KEY"], "application_id": "1111"}
    session = requests.Session()
    header, rows, pending = b"", 0, b""
    lines: list[bytes] = []
    for chunk in body.iter_chunks(1 << 20):
        data = pending + chunk
        cut = data.rfind(b"\n") + 1
        pending, data = data[cut:], data[:cut]
        if not header:
            end = data.index(b"\n") + 1
            header, data = data[:end], data[end:]
        lines += data.splitlines(keepends=True)
        while len(lines) >= LINES_PER_REQUEST:
            batch, lines = lines[:LINES_PER_REQUEST], lines[LINES_PER_REQUEST:]
            session.post(url, params=params, data=header + b"".join(batch), timeout=600).raise_for_status()
            rows += len(batch)
    if lines:
        session.post(url, params=params, data=header + b"".join(lines), timeout=600).raise_for_status()
        rows += len(lines)
    return rows


def naive(key: str, sample: int = 2000) -> int:
    """One request per event with query parameters, as typical Post API clients do (a sample of the rows)."""
    import csv
    import io

    import boto3

    text = boto3.client("s3").get_object(Bucket=os.environ["DATA_BUCKET"], Key=key, Range="bytes=0-1000000")
    reader = csv.DictReader(io.StringIO(text["Body"].read().decode().rsplit("\n", 1)[0]))
    url = os.environ["APPMETRICA_API_URL"] + "/logs/v1/import/events"
    session = requests.Session()
    sent = 0
    for row in reader:
        params = {"post_api_key": os.environ["APPMETRICA_POST_API_KEY"], "application_id": "1111", **row}
        session.post(url, params=params, timeout=60).raise_for_status()
        sent += 1
        if sent >= sample:
            break
    return sent


def courier(function: str, key: str, handler: Any) -> int:
    """The real function path: an S3 notification on the queue, handed to lambda_handler."""
    import boto3

    from sandbox.lambda_runtime import LambdaContext

    s3 = boto3.client("s3")
    etag = s3.head_object(Bucket=os.environ["DATA_BUCKET"], Key=key)["ETag"].strip('"')  # as S3 announces it
    notification = {
        "Records": [
            {
                "eventSource": "aws:s3",
                "eventName": "ObjectCreated:Put",
                "s3": {"bucket": {"name": os.environ["DATA_BUCKET"]}, "object": {"key": key, "eTag": etag}},
            }
        ]
    }
    event = {
        "Records": [
            {
                "messageId": "bench",
                "receiptHandle": "r",
                "body": json.dumps(notification),
                "attributes": {"ApproximateReceiveCount": "1"},
                "messageAttributes": {},
                "eventSource": "aws:sqs",
                "eventSourceARN": "arn:aws:sqs:us-east-1:1:bench",
            }
        ]
    }
    answer: dict[str, Any] = handler(event, LambdaContext(timeout_seconds=900))
    assert answer == {"batchItemFailures": []}, answer
    report = json.loads(s3.get_object(Bucket=os.environ["DATA_BUCKET"], Key=f"reports/{key}.json")["Body"].read())
    if report["status"] != "complete" or report["rejected"]:
        raise RuntimeError(f"the benchmark file did not go through cleanly: {report}")
    return int(report["delivered"])


def main() -> None:
    path, key = sys.argv[1], sys.argv[2]
    import importlib

    import boto3

    boto3.client("s3")  # imports and clients made before the clock starts, for every path alike
    handler = None if path in ("limit", "naive") else importlib.import_module(f"functions.{path}.app").lambda_handler
    started = time.perf_counter()
    if path == "limit":
        rows = limit(key)
    elif path == "naive":
        rows = naive(key)
    else:
        rows = courier(path, key, handler)
    seconds = time.perf_counter() - started
    print(json.dumps({"seconds": seconds, "rows": rows, "peak_mb": round(peak_rss_mb(), 1)}))


def peak_rss_mb() -> float:
    """This process's peak resident memory. On Linux, VmHWM: ru_maxrss would also count the parent's memory,
    copied into the child by fork before exec (the bench's parent holds the files it uploads)."""
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            return next(int(line.split()[1]) for line in status if line.startswith("VmHWM:")) / 1024
    except OSError:
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        return peak / 2**20 if sys.platform == "darwin" else peak / 1024  # bytes on macOS, KiB elsewhere


if __name__ == "__main__":
    main()
