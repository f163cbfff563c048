"""What Lambda and API Gateway do around a handler, done in-process: SQS polling with partial batch responses and
REST proxy events. It adds no behaviour of its own; everything Courier does happens in the handlers."""

from __future__ import annotations

import base64
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

Handler = Callable[[dict[str, Any], Any], Any]


@dataclass
class LambdaContext:
    function_name: str = "courier-local"
    timeout_seconds: float = 300.0
    memory_limit_in_mb: int = 512
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    invoked_function_arn: str = "arn:aws:lambda:us-east-1:123456789012:function:courier-local"
    started: float = field(default_factory=time.monotonic)

    def get_remaining_time_in_millis(self) -> int:
        return int(max(self.timeout_seconds - (time.monotonic() - self.started), 0) * 1000)


def sqs_event(messages: list[dict[str, Any]], queue_arn: str) -> dict[str, Any]:
    """The event Lambda's SQS event source mapping builds from received messages."""
    return {
        "Records": [
            {
                "messageId": m["MessageId"],
                "receiptHandle": m["ReceiptHandle"],
                "body": m["Body"],
                "attributes": {
                    "ApproximateReceiveCount": m.get("Attributes", {}).get("ApproximateReceiveCount", "1"),
                    "SentTimestamp": m.get("Attributes", {}).get("SentTimestamp", "0"),
                },
                "messageAttributes": {
                    name: {
                        "stringValue": attribute.get("StringValue"),
                        "stringListValues": [],
                        "binaryListValues": [],
                        "dataType": attribute["DataType"],
                    }
                    for name, attribute in m.get("MessageAttributes", {}).items()
                },
                "md5OfBody": m.get("MD5OfBody", ""),
                "eventSource": "aws:sqs",
                "eventSourceARN": queue_arn,
                "awsRegion": "us-east-1",
            }
            for m in messages
        ]
    }


def _gather(sqs: Any, queue_url: str, batch_size: int, window: float, wait: int) -> list[dict[str, Any]]:
    received: list[dict[str, Any]] = []
    until = 0.0
    while len(received) < batch_size:
        got = sqs.receive_message(
            QueueUrl=queue_url,
            MaxNumberOfMessages=min(10, batch_size - len(received)),
            AttributeNames=["All"],
            MessageAttributeNames=["All"],
            WaitTimeSeconds=0 if received else wait,
        ).get("Messages", [])
        if got:
            until = until or time.monotonic() + window
            received += got
        elif not received or time.monotonic() >= until:
            break
        else:
            time.sleep(0.1)
    return received


@dataclass
class PollResult:
    received: int
    failed: list[str]
    error: str = ""  # the kind of error the invocation raised, as Lambda would log it ('' when it answered)


def poll_once(
    sqs: Any,
    queue_url: str,
    handler: Handler,
    context_timeout: float = 300.0,
    retry_after: int | None = 0,
    batch_size: int = 10,
    window: float = 0.0,
    wait: int = 0,
) -> PollResult:
    """One receive → invoke → delete round, as the event source mapping does with ReportBatchItemFailures:
    messages the handler reports failed stay on the queue (and reach the DLQ after maxReceiveCount). They come back
    after `retry_after` seconds (None: after the queue's own visibility timeout, as in AWS). Like the mapping, it
    gathers up to `batch_size` messages, waiting at most `window` seconds after the first for the batch to fill, and
    up to `wait` seconds for the first (long polling, as the mapping polls)."""
    received = _gather(sqs, queue_url, batch_size, window, wait)
    if not received:
        return PollResult(0, [])
    arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    error = ""
    try:
        response = handler(sqs_event(received, arn), LambdaContext(timeout_seconds=context_timeout))
        failed = [item["itemIdentifier"] for item in (response or {}).get("batchItemFailures", [])]
    except Exception as raised:  # an invocation error fails the whole batch, as in Lambda
        failed, error = [m["MessageId"] for m in received], type(raised).__name__  # its kind: text may hold a URL
    done = [m for m in received if m["MessageId"] not in failed]
    for start in range(0, len(done), 10):
        sqs.delete_message_batch(
            QueueUrl=queue_url,
            Entries=[
                {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(done[start : start + 10])
            ],
        )
    again = [m for m in received if m["MessageId"] in failed] if retry_after is not None else []
    for start in range(0, len(again), 10):  # sooner than the queue's visibility timeout; a batch call, as the
        sqs.change_message_visibility_batch(  # mapping's: a message gone meanwhile (purged) fails only its entry
            QueueUrl=queue_url,
            Entries=[
                {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"], "VisibilityTimeout": retry_after}
                for i, m in enumerate(again[start : start + 10])
            ],
        )
    return PollResult(len(received), failed, error)


def drain(
    sqs: Any, queue_url: str, handler: Handler, max_rounds: int = 50, context_timeout: float = 300.0
) -> list[PollResult]:
    """Polls until the queue is empty (or max_rounds, for messages that keep failing)."""
    results = []
    for _ in range(max_rounds):
        result = poll_once(sqs, queue_url, handler, context_timeout)
        if not result.received:
            break
        results.append(result)
    return results


def api_gateway_event(
    path: str,
    body: str | bytes,
    *,
    content_type: str = "application/json",
    query: dict[str, str] | None = None,
    headers: dict[str, str] | None = None,
    method: str = "POST",
) -> dict[str, Any]:
    """A REST API (v1) proxy event, as API Gateway sends after checking the API key."""
    is_binary = isinstance(body, bytes)
    return {
        "resource": path,
        "path": path,
        "httpMethod": method,
        "headers": {"Content-Type": content_type, **(headers or {})},
        "multiValueHeaders": {},
        "queryStringParameters": query,
        "multiValueQueryStringParameters": {k: [v] for k, v in (query or {}).items()} or None,
        "pathParameters": None,
        "stageVariables": None,
        "requestContext": {
            "resourcePath": path,
            "httpMethod": method,
            "path": f"/v1{path}",
            "stage": "v1",
            "requestId": str(uuid.uuid4()),
            "identity": {"apiKey": "local", "sourceIp": "127.0.0.1"},
        },
        "body": base64.b64encode(body).decode() if isinstance(body, bytes) else body,
        "isBase64Encoded": is_binary,
    }
