"""One measurement, in a fresh process so its peak memory is its own: `python -m bench.measure PATH KEY [FUNCTION
[PER_MESSAGE]]`.
Prints {"seconds", "rows", "peak_mb", "requests", "ledger_calls", ...} and what the path made AWS do (invocations,
AWS calls, billed SQS requests). S3, SQS and DynamoDB are moto's server, the destination bench.servers. PATH is limit,
naive, a function's name (KEY: the S3 object), or stream / webhooks (KEY: how many records, FUNCTION: the function
that takes them, PER_MESSAGE: records a message or an HTTPS call, 1 unless given)."""

from __future__ import annotations

import json
import math
import os
import resource
import sys
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterable
from typing import Any, TypeVar

import requests

from bench.costs import sqs_requests

LINES_PER_REQUEST = 100_000
LEDGER_CALLS: Counter[str] = Counter()  # DynamoDB operations made by the measured code, by name
LEDGER_ITEMS: Counter[str] = Counter()  # items they read or wrote
LEDGER_SECONDS: list[float] = []  # stretches of time with a ledger call in flight (calls overlap)
CAPACITY: Counter[str] = Counter()  # DynamoDB's billed units of those calls: "write" and "read" (on-demand)
SECONDS: list[float] = []  # the measured stretches of this process
AWS_CALLS: Counter[str] = Counter()  # the handlers' own AWS calls ("s3.GetObject"), from botocore's events
AROUND: Counter[str] = Counter()  # calls made around the handlers, by formula: the producer's, S3's, the mapping's
SQS_BILLED: Counter[str] = Counter()  # SQS requests as billed (a request per 64 KB chunk), by operation
INVOKED: list[float] = []  # each invocation's billed duration, seconds
IN_HANDLER = threading.Event()  # set while a handler runs: the bench's own calls (uploads, reports) are not Courier's
T = TypeVar("T")


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
    body = json.dumps(notification)
    event = {
        "Records": [
            {
                "messageId": "bench",
                "receiptHandle": "r",
                "body": body,
                "attributes": {"ApproximateReceiveCount": "1"},
                "messageAttributes": {},
                "eventSource": "aws:sqs",
                "eventSourceARN": "arn:aws:sqs:us-east-1:1:bench",
            }
        ]
    }
    # around the invocation: the file's upload (one PUT), S3's notification to the queue and the mapping's polling
    _around("s3.PutObject")
    _around("sqs.SendMessage", payload_bytes(body))
    _polled(event["Records"])
    answer: dict[str, Any] = _invoke(handler, event, 900)
    assert answer == {"batchItemFailures": []}, answer
    report = json.loads(s3.get_object(Bucket=os.environ["DATA_BUCKET"], Key=f"reports/{key}.json")["Body"].read())
    if report["status"] != "complete" or report["rejected"]:
        raise RuntimeError(f"the benchmark file did not go through cleanly: {report}")
    return int(report["delivered"])


# The n-th single record a producer sends each function (by either streamed door), made at a time an hour ago
RECORDS: dict[str, Callable[[int, int], dict[str, Any]]] = {
    "appmetrica_events": lambda n, ts: {"profile_id": f"user-{n}", "event_name": "open", "event_timestamp": ts},
    "appmetrica_profiles": lambda n, _: {
        "profile_id": f"crm-{n}",
        "attributes": {"level": "gold"},
        "email": f"User.{n}+x@GoogleMail.com",
    },
    "altcraft_profile_import": lambda n, _: {
        "email": f"p{n}@example.com",
        "data": {"email": f"p{n}@example.com", "_fname": f"Person {n}"},
    },
}


def stream(function: str, count: int, handler: Any, per_message: int) -> int:
    """`count` records, `per_message` a message, handed to the function in batches as the event source mapping
    builds them (the template's QueueBatchSize). Sending them is the producer's work and receiving and deleting them
    Lambda's: neither is in the time, both are counted as they would be made (a SendMessage a message; see _polled).
    Each batch is made just before its invocation (outside the clock), so the peak memory is the function's."""
    stamp = int(time.time()) - 3600

    def message(n: int) -> dict[str, Any]:
        body = json.dumps([RECORDS[function](r, stamp) for r in range(n * per_message, (n + 1) * per_message)])
        _around("sqs.SendMessage", payload_bytes(body))
        return {"MessageId": str(uuid.uuid4()), "ReceiptHandle": f"handle-{n}", "Body": body}

    size, messages = wiring(function).batch_size, count // per_message
    batches = ([message(n) for n in range(at, min(at + size, messages))] for at in range(0, messages, size))
    return _hand_over(batches, handler, function) * per_message


def webhooks(function: str, count: int, handler: Any, per_call: int) -> int:
    """`count` records, `per_call` an HTTPS call (one: the record as an object; more: an array), through the async
    door (each call queues a message on moto's SQS, and each is an API Gateway request and a Lambda invocation), then
    the messages it queued handed to the function in
    Lambda-shaped batches. They are taken as the door sent them (its SendMessage calls, with the ids SQS gave them):
    receiving them is Lambda's work, so not measured, only counted (_polled)."""
    import boto3

    from sandbox.lambda_runtime import api_gateway_event

    stamp, route = int(time.time()) - 3600, wiring(function).routes[0]

    def body(n: int) -> str:
        records = [RECORDS[function](r, stamp) for r in range(n * per_call, (n + 1) * per_call)]
        return json.dumps(records[0] if per_call == 1 else records)

    calls = [api_gateway_event(route, body(n)) for n in range(count // per_call)]
    queued: list[dict[str, Any]] = []

    def sending(params: dict[str, Any], **_: Any) -> None:
        queued.append({"Body": params["MessageBody"], "MessageAttributes": params.get("MessageAttributes", {})})

    def sent(parsed: dict[str, Any], **_: Any) -> None:
        queued[-1].update(MessageId=parsed["MessageId"], ReceiptHandle=f"handle-{len(queued)}")

    assert boto3.DEFAULT_SESSION is not None
    boto3.DEFAULT_SESSION.events.register("before-parameter-build.sqs.SendMessage", sending)
    boto3.DEFAULT_SESSION.events.register("after-call.sqs.SendMessage", sent)

    def answer(block: list[dict[str, Any]]) -> int:
        for call in block:
            _around("apigateway.POST")  # the REST API's request that invokes the function
            answer = _invoke(handler, call, 30)
            if answer["statusCode"] != 202:
                raise RuntimeError(f"the HTTPS door answered {answer}")
        return len(block)

    sqs = boto3.client("sqs")
    for at in range(0, len(calls), CALLS_PER_PURGE):
        _timed(lambda at=at: answer(calls[at : at + CALLS_PER_PURGE]))  # type: ignore[misc]
        sqs.purge_queue(QueueUrl=os.environ["INGEST_QUEUE_URL"])  # what was queued is in `queued`
    size = wiring(function).batch_size
    _hand_over((queued[at : at + size] for at in range(0, len(queued), size)), handler, function)
    return len(calls) * per_call


QUEUE_ARN = "arn:aws:sqs:us-east-1:123456789012:bench-ingest"
CALLS_PER_PURGE = (
    250  # moto's SendMessage slows with every message in the queue (AWS's does not): emptied outside the clock
)


def wiring(function: str) -> Any:
    """The function as the template wires it: its HTTPS route, and its queue's BatchSize (the default
    QueueBatchSize), the most messages the event source mapping hands an invocation."""
    from infra.template import function_wirings, load_template

    return function_wirings(load_template())[function]


def payload_bytes(body: str, attributes: dict[str, Any] | None = None) -> int:
    """A message's size as SQS bills it: its body and each attribute's name, type and value (attributes as the API
    spells them, or as Lambda's event does)."""
    size = len(body.encode())
    for name, attribute in (attributes or {}).items():
        kind = attribute.get("DataType", attribute.get("dataType", ""))
        value = attribute.get("StringValue", attribute.get("stringValue")) or ""
        size += len(name.encode()) + len(kind.encode()) + len(value.encode())
    return size


def _around(call: str, payload: int = 0) -> None:
    """A call made around the handler, not by Courier's code: counted by formula (SQS's billed by its payload)."""
    AROUND[call] += 1
    if call.startswith("sqs."):
        SQS_BILLED[call] += sqs_requests(payload)


def _polled(records: list[dict[str, Any]]) -> None:
    """What the event source mapping asks of SQS for one batch: a ReceiveMessage per 10 messages (the most SQS
    returns at once), billed by the messages it returns, and a DeleteMessageBatch per 10 after the invocation."""
    for at in range(0, len(records), 10):
        group = records[at : at + 10]
        _around("sqs.ReceiveMessage", sum(payload_bytes(r["body"], r["messageAttributes"]) for r in group))
        _around("sqs.DeleteMessageBatch")


def _invoke(handler: Any, event: dict[str, Any], timeout: float) -> Any:
    """One Lambda invocation: its duration billed as Lambda bills it (rounded up to the millisecond), and the AWS
    calls made meanwhile counted as Courier's."""
    from sandbox.lambda_runtime import LambdaContext

    context = LambdaContext(timeout_seconds=timeout)
    IN_HANDLER.set()
    started = time.perf_counter()
    try:
        return handler(event, context)
    finally:
        INVOKED.append(math.ceil((time.perf_counter() - started) * 1000) / 1000)
        IN_HANDLER.clear()


def _timed(work: Callable[[], T]) -> T:
    started = time.perf_counter()
    done = work()
    SECONDS.append(time.perf_counter() - started)
    return done


def _hand_over(batches: Iterable[list[dict[str, Any]]], handler: Any, function: str) -> int:
    """Each batch as one invocation's SQS event; only the invocations are timed."""
    from sandbox.lambda_runtime import sqs_event

    timeout = wiring(function).timeout
    handed = 0
    for batch in batches:
        event = sqs_event(batch, QUEUE_ARN)
        _polled(event["Records"])
        answer = _timed(lambda event=event: _invoke(handler, event, timeout))  # type: ignore[misc]
        if answer != {"batchItemFailures": []}:
            raise RuntimeError(f"messages came back: {answer}")
        handed += len(batch)
    return handed


def destination_requests(function: str) -> int:
    url = os.environ["ALTCRAFT_API_URL" if function.startswith("altcraft") else "APPMETRICA_API_URL"]
    return len(requests.get(url + "/_emulator/state", timeout=30).json()["requests"])


def count_ledger_calls() -> None:
    """Every AWS call the measured code makes goes through boto3's default session: each handler's counted by
    service and operation; DynamoDB's with its items, billed units and time (the ledger's share of the run, and
    what an item costs in moto)."""
    import boto3

    boto3.setup_default_session()
    assert boto3.DEFAULT_SESSION is not None
    lock, in_flight, since = threading.Lock(), [0], [0.0]

    def items(params: dict[str, Any], model: Any, **_: Any) -> None:
        if model.name == "TransactWriteItems":
            count = len(params["TransactItems"])
            CAPACITY["write"] += sum(
                2 * write_units(next(iter(i.values())).get("Item", {})) for i in params["TransactItems"]
            )
        elif model.name == "BatchGetItem":
            count = sum(len(table["Keys"]) for table in params["RequestItems"].values())
            CAPACITY["read"] += count  # a unit a key, found or not; more for an item past 4 KB (after the call)
        else:
            count = 1
            if model.name in ("PutItem", "UpdateItem", "DeleteItem"):
                CAPACITY["write"] += write_units(params.get("Item", {}))
        LEDGER_ITEMS.update({model.name: count})

    def read(parsed: dict[str, Any], model: Any, **_: Any) -> None:
        """A consistent read is a unit per 4 KB of the item found, and a unit for a key not found."""
        if model.name == "GetItem":
            CAPACITY["read"] += read_units(parsed.get("Item", {}))
        elif model.name == "BatchGetItem":
            found = [item for table in parsed.get("Responses", {}).values() for item in table]
            CAPACITY["read"] += sum(read_units(item) - 1 for item in found)

    def before(model: Any, **_: Any) -> None:
        with lock:
            LEDGER_CALLS.update([model.name])
            in_flight[0] += 1
            if in_flight[0] == 1:
                since[0] = time.perf_counter()

    def after(**_: Any) -> None:
        with lock:
            in_flight[0] -= 1
            if in_flight[0] == 0:
                LEDGER_SECONDS.append(time.perf_counter() - since[0])

    def call(params: dict[str, Any], model: Any, event_name: str, **_: Any) -> None:
        """Every AWS call a handler makes (once a call, before botocore's retries), SQS's with its billed size."""
        if not IN_HANDLER.is_set():
            return
        service = event_name.split(".")[1]
        AWS_CALLS[f"{service}.{model.name}"] += 1
        if service == "sqs":
            entries = params.get("Entries", [params]) if model.name == "SendMessageBatch" else [params]
            sent = sum(payload_bytes(e.get("MessageBody", ""), e.get("MessageAttributes")) for e in entries)
            SQS_BILLED[f"sqs.{model.name}"] += sqs_requests(sent)

    boto3.DEFAULT_SESSION.events.register("before-parameter-build", call)
    boto3.DEFAULT_SESSION.events.register("before-parameter-build.dynamodb", items)
    boto3.DEFAULT_SESSION.events.register("before-call.dynamodb", before)
    boto3.DEFAULT_SESSION.events.register("after-call.dynamodb", after)
    boto3.DEFAULT_SESSION.events.register("after-call.dynamodb", read)


def item_bytes(item: dict[str, Any]) -> int:
    """An item's size as DynamoDB bills it: each attribute's name and value (a number about a byte per two digits)."""
    size = 0
    for name, value in item.items():
        [(kind, data)] = value.items()
        size += len(name.encode()) + (
            len(data) if kind == "B" else len(data.encode()) if kind == "S" else len(data) // 2 + 1
        )
    return size


def write_units(item: dict[str, Any]) -> int:
    return max(1, -(-item_bytes(item) // 1024))  # a unit per 1 KB written, rounded up


def read_units(item: dict[str, Any]) -> int:
    return max(1, -(-item_bytes(item) // 4096))  # a consistent read: a unit per 4 KB, rounded up


def main() -> None:
    path, key = sys.argv[1], sys.argv[2]
    import importlib

    import boto3

    count_ledger_calls()
    boto3.client("s3")  # imports and clients made before the clock starts, for every path alike
    function = sys.argv[3] if path in ("stream", "webhooks") else path
    per = int(sys.argv[4]) if len(sys.argv) > 4 else 1  # records a message or a call
    handler = None
    if path not in ("limit", "naive"):
        handler = importlib.import_module(f"functions.{function}.app").lambda_handler
    requests_before = destination_requests(function)
    if path == "limit":
        rows = _timed(lambda: limit(key))
    elif path == "naive":
        rows = _timed(lambda: naive(key))
    elif path == "stream":
        rows = stream(function, int(key), handler, per)
    elif path == "webhooks":
        rows = webhooks(function, int(key), handler, per)
    else:
        rows = _timed(lambda: courier(path, key, handler))
    result = {
        "seconds": sum(SECONDS),
        "rows": rows,
        "peak_mb": round(peak_rss_mb(), 1),
        "requests": destination_requests(function) - requests_before,
        "ledger_calls": sum(LEDGER_CALLS.values()),
        "ledger_by_operation": dict(LEDGER_CALLS),
        "ledger_items": sum(LEDGER_ITEMS.values()),
        "ledger_seconds": sum(LEDGER_SECONDS),
        "write_units": CAPACITY["write"],
        "read_units": CAPACITY["read"],
        "lambda_invocations": len(INVOKED),
        "lambda_seconds": sum(INVOKED),
        "aws_calls": dict(AWS_CALLS),
        "around_calls": dict(AROUND),
        "sqs_requests": sum(SQS_BILLED.values()),
    }
    print(json.dumps(result))


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
