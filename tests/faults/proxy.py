"""A fault-injecting HTTP proxy in front of moto, on 127.0.0.1: the functions' AWS_ENDPOINT_URL points here.

It passes everything through unchanged, except what a rule says:

- `S3ReadFault`: a GetObject of a given key is cut after some body bytes — the connection reset, or stalled (nothing
  more comes for a while, then the connection closes): a transient read timeout or reset, `times` times.
- `DynamoWriteFaults`: DynamoDB writes (PutItem, UpdateItem, DeleteItem, TransactWriteItems) answered with a 500
  InternalServerError or a 400 ThrottlingException a share of the time (seeded random). A 500 may come *after* the
  write was applied (as DynamoDB's can), a throttle never does.

It also counts the GetObject body bytes served per key, so a test can tell whether a file was read more than once.
"""

from __future__ import annotations

import http.client
import json
import random
import threading
from collections import Counter
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import unquote, urlsplit

from tests.faults.sockets import LocalServer, request_body, reset

HOP_BY_HOP = frozenset(
    {"connection", "keep-alive", "proxy-connection", "transfer-encoding", "te", "trailer", "upgrade", "expect"}
)
DYNAMO_WRITES = frozenset({"PutItem", "UpdateItem", "DeleteItem", "TransactWriteItems"})
BLOCK = 64 * 1024
S3_SUBRESOURCES = frozenset({"acl", "tagging", "uploadId", "attributes", "retention", "legal-hold", "torrent"})


@dataclass
class S3ReadFault:
    key: str  # the object key (without the bucket)
    after_bytes: int  # body bytes that get through before the fault
    mode: str = "reset"  # "reset" or "stall"
    stall_seconds: float = 0.0  # "stall": how long nothing comes before the connection is closed
    times: int = 1
    fired: int = 0


@dataclass
class DynamoWriteFaults:
    rate: float = 0.5  # the share of writes that fail
    applied_share: float = 0.5  # of the 500s, the share answered after moto applied the write
    seed: int = 0
    operations: frozenset[str] = DYNAMO_WRITES
    random: random.Random = field(init=False)

    def __post_init__(self) -> None:
        self.random = random.Random(self.seed)


class FaultProxy(LocalServer):
    def __init__(self, upstream_host: str, upstream_port: int) -> None:
        self.upstream = (upstream_host, upstream_port)
        self.lock = threading.Lock()
        self.s3_faults: list[S3ReadFault] = []
        self.dynamo: DynamoWriteFaults | None = None
        self.s3_bytes: Counter[str] = Counter()  # GetObject body bytes served, by key
        self.s3_gets: Counter[str] = Counter()
        self.dynamo_calls: Counter[str] = Counter()
        self.injected: list[str] = []  # what fired, in order, for the failure messages
        super().__init__(_handler_for(self), "fault-proxy")

    def _s3_fault(self, key: str) -> S3ReadFault | None:
        with self.lock:
            for fault in self.s3_faults:
                if fault.key == key and fault.fired < fault.times:
                    fault.fired += 1
                    return fault
        return None

    def _dynamo_fault(self, operation: str) -> tuple[int, str, bool] | None:
        """(status, error type, applied first) for a write that fails, or None."""
        with self.lock:
            self.dynamo_calls[operation] += 1
            faults = self.dynamo
            if faults is None or operation not in faults.operations or faults.random.random() >= faults.rate:
                return None
            if faults.random.random() < 0.5:
                return 400, "ThrottlingException", False
            return 500, "InternalServerError", faults.random.random() < faults.applied_share


def _handler_for(proxy: FaultProxy) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        _upstream: http.client.HTTPConnection | None = None

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
            return

        def do_GET(self) -> None:
            self._proxy()

        def do_HEAD(self) -> None:
            self._proxy()

        def do_PUT(self) -> None:
            self._proxy()

        def do_POST(self) -> None:
            self._proxy()

        def do_DELETE(self) -> None:
            self._proxy()

        def _body(self) -> bytes:
            return request_body(self)

        def _connection(self) -> http.client.HTTPConnection:
            if self._upstream is None:
                self._upstream = http.client.HTTPConnection(*proxy.upstream, timeout=300)
            return self._upstream

        def _drop_upstream(self) -> None:
            if self._upstream is not None:
                self._upstream.close()
                self._upstream = None

        def _forward(self, body: bytes) -> http.client.HTTPResponse:
            headers = {k: v for k, v in self.headers.items() if k.lower() not in HOP_BY_HOP}
            headers["Content-Length"] = str(len(body))
            for attempt in range(2):  # a kept-alive upstream connection may have been closed by moto meanwhile
                connection = self._connection()
                try:
                    connection.request(self.command, self.path, body=body, headers=headers)
                    return connection.getresponse()
                except (http.client.HTTPException, ConnectionError):
                    self._drop_upstream()
                    if attempt:
                        raise
            raise AssertionError("unreachable")

        def _proxy(self) -> None:
            body = self._body()
            target = self.headers.get("X-Amz-Target", "")
            if target.startswith("DynamoDB_20120810."):
                failure = proxy._dynamo_fault(target.split(".", 1)[1])
                if failure is not None:
                    status, kind, applied = failure
                    if applied:
                        self._forward(body).read()
                    with proxy.lock:
                        proxy.injected.append(
                            f"dynamodb {target.split('.', 1)[1]}: {status} {kind}"
                            + (" (after applying it)" if applied else "")
                        )
                    payload = json.dumps({"__type": f"com.amazonaws.dynamodb.v20120810#{kind}", "message": "injected"})
                    data = payload.encode()
                    self.send_response(status)
                    self.send_header("Content-Type", "application/x-amz-json-1.0")
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                    return
            response = self._forward(body)
            parts = urlsplit(self.path)
            segments = parts.path.lstrip("/").split("/", 1)
            subresource = {name.split("=", 1)[0] for name in parts.query.split("&") if name} & S3_SUBRESOURCES
            is_get_object = self.command == "GET" and not target and len(segments) == 2 and bool(segments[1])
            is_get_object = is_get_object and not subresource
            key = unquote(segments[1]) if is_get_object else ""
            fault = proxy._s3_fault(key) if is_get_object and response.status in (200, 206) else None
            headers = [(k, v) for k, v in response.getheaders() if k.lower() not in HOP_BY_HOP]
            length = response.getheader("Content-Length")
            if length is None and self.command != "HEAD":
                data = response.read()
                headers.append(("Content-Length", str(len(data))))
                chunks: Any = [data]
            else:
                chunks = iter(lambda: response.read(BLOCK), b"")
            self.send_response_only(response.status, response.reason)
            for name, value in headers:
                self.send_header(name, value)
            self.end_headers()
            if self.command == "HEAD":
                self.wfile.flush()
                return
            if is_get_object:
                with proxy.lock:
                    proxy.s3_gets[key] += 1
            try:
                self._body_out(chunks, fault, key)
            except OSError:  # the client went away mid-body
                self._drop_upstream()
                self.close_connection = True

        def _body_out(self, chunks: Any, fault: S3ReadFault | None, key: str) -> None:
            sent = 0
            for chunk in chunks:
                if fault is not None and sent + len(chunk) >= fault.after_bytes:
                    chunk = chunk[: max(fault.after_bytes - sent, 0)]
                self.wfile.write(chunk)
                sent += len(chunk)
                if key:
                    with proxy.lock:
                        proxy.s3_bytes[key] += len(chunk)
                if fault is not None and sent >= fault.after_bytes:
                    self.wfile.flush()
                    with proxy.lock:
                        proxy.injected.append(f"s3 GetObject {key}: {fault.mode} after {sent} bytes")
                    self._drop_upstream()
                    if fault.mode == "stall":
                        proxy._stopping.wait(fault.stall_seconds)
                    self.close_connection = True
                    reset(self.connection)
                    return
            self.wfile.flush()

    return Handler
