"""The sandbox: moto in server mode, the two destination emulators, and a runner that wires them as template.yaml
wires AWS — queues polled into each function's lambda_handler, REST routes served on a local port.

The runner adds no behaviour of its own: it does what Lambda's SQS event source mapping and API Gateway do (and
API Gateway's API-key check); everything Courier does happens in the functions."""

from __future__ import annotations

import importlib
import json
import logging
import os
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, redirect_stdout
from dataclasses import dataclass, field
from functools import partial
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any, Self, TextIO, cast
from urllib.parse import parse_qsl, urlsplit

import requests

from courier.doors.services import Services, reset_services, use_services
from courier.model import Destination
from courier.observability import logger
from courier.settings import Settings
from infra.template import FunctionWiring
from sandbox.altcraft_emulator import AltcraftEmulator
from sandbox.appmetrica_emulator import AppMetricaEmulator
from sandbox.lambda_runtime import LambdaContext, PollResult, api_gateway_event, poll_once
from sandbox.stack import create_stack

API_KEY = "sandbox-api-key"  # what API Gateway's usage plan would hand out
POST_API_KEY = "sandbox-post-api-key"
ALTCRAFT_TOKEN = "sandbox-altcraft-token"  # noqa: S105  (the emulator's)
APPLICATION_ID = "1111"
ALTCRAFT_DB = 1
# A profile the sandbox starts with, so that subscriptions/set (which takes a profile id) can be tried: the id of the
# subscription status page's example (docs/contracts/altcraft.md#subscription-set)
BUCKET = "courier-sandbox-data"
KEY_SECRET, TOKEN_SECRET = "courier/appmetrica/post-api-key", "courier/altcraft/api-token"  # the template's defaults
SECRETS = {KEY_SECRET: POST_API_KEY, TOKEN_SECRET: ALTCRAFT_TOKEN}
Handler = Callable[[dict[str, Any], Any], Any]


QUICK_WINDOW = 0.2  # the batching window of the demo and `courier send`: a few messages need not wait 5 s
# An idle poller waits this long in ReceiveMessage (moto wakes it when a message arrives), not in a loop of calls:
# thirteen pollers calling every 0.2 s took a core of a slow machine.
LONG_POLL_SECONDS = 1


@dataclass
class Ports:
    """0 picks a free port (tests); `make sandbox` uses fixed ones a person can type."""

    aws: int = 0
    api: int = 0
    appmetrica: int = 0
    altcraft: int = 0


@dataclass
class Function:
    name: str
    wiring: FunctionWiring
    destination: Destination
    handler: Handler
    invocations: int = 0


@dataclass
class Sandbox:
    ports: Ports = field(default_factory=Ports)
    retry_after: int | None = None  # None: a failed message comes back when the function's back-off says
    batching_window: float | None = None  # None: the template's (QueueBatchingWindowSeconds), as Lambda waits
    log: Callable[[str], None] = lambda line: None
    functions: dict[str, Function] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self._lock = threading.Lock()  # one invocation at a time: the functions share Powertools' state
        self._stopping = threading.Event()
        self._saved_env: dict[str, str | None] = {}
        self._busy: set[str] = set()  # the functions being invoked (or whose batch is being deleted or backed off) now

    # --- life cycle ---------------------------------------------------------------------------------------------
    def start(self) -> Self:
        from moto.server import ThreadedMotoServer

        logging.getLogger("werkzeug").setLevel(logging.ERROR)  # moto's server would log every AWS call
        self.aws_url = f"http://127.0.0.1:{self.ports.aws or _free_port()}"
        self._moto = ThreadedMotoServer(ip_address="127.0.0.1", port=int(self.aws_url.rsplit(":", 1)[1]), verbose=False)
        self._moto.start()
        # moto keeps its state in the process, not in the server: a sandbox started after another (the command line,
        # the demo, the tests) starts from nothing, as a new stack would
        requests.post(f"{self.aws_url}/moto-api/reset", timeout=10).raise_for_status()
        self._set_env(
            {
                "AWS_ENDPOINT_URL": self.aws_url,
                "AWS_ACCESS_KEY_ID": "sandbox",
                "AWS_SECRET_ACCESS_KEY": "sandbox",
                "AWS_DEFAULT_REGION": "us-east-1",
            }
        )
        self.appmetrica = AppMetricaEmulator(keys={POST_API_KEY: {APPLICATION_ID}}, port=self.ports.appmetrica).start()
        self.altcraft = AltcraftEmulator(tokens={ALTCRAFT_TOKEN: {ALTCRAFT_DB}}, port=self.ports.altcraft).start()
        import boto3

        self.s3, self.sqs = boto3.client("s3"), boto3.client("sqs")
        secrets = boto3.client("secretsmanager")
        for name, value in SECRETS.items():
            secrets.create_secret(Name=name, SecretString=value)
        stack = create_stack(self.s3, self.sqs, BUCKET, dynamodb=boto3.client("dynamodb"))
        self.bucket, self.table = stack.bucket, stack.table
        for name, wiring in stack.functions.items():
            module = importlib.import_module(f"functions.{name}.app")
            destination = next(value for value in vars(module).values() if isinstance(value, Destination))
            self.functions[name] = Function(name, wiring, destination, module.lambda_handler)
        self.configure_functions()
        self.routes = {route: function for function in self.functions.values() for route in function.wiring.routes}
        self._api = ThreadingHTTPServer(("127.0.0.1", self.ports.api), _api_handler(self))
        self.api_url = f"http://127.0.0.1:{self._api.server_address[1]}"
        self._threads = [
            threading.Thread(target=self._api.serve_forever, daemon=True),
            *(threading.Thread(target=self._poll_forever, args=(f,), daemon=True) for f in self.functions.values()),
        ]
        for thread in self._threads:
            thread.start()
        return self

    def configure_functions(self) -> None:
        """Gives each function its clients and settings, as its own Lambda environment would."""
        reset_services()
        for function in self.functions.values():
            settings = self._settings(function.wiring)
            sender = function.destination.make_sender(settings)
            use_services(function.destination, Services(settings, self.s3, self.sqs, sender))

    @property
    def environment(self) -> dict[str, str]:
        return {
            "AWS_ENDPOINT_URL": self.aws_url,
            "AWS_ACCESS_KEY_ID": "sandbox",
            "AWS_SECRET_ACCESS_KEY": "sandbox",
            "AWS_DEFAULT_REGION": "us-east-1",
        }

    def stop(self) -> None:
        self._stopping.set()
        self._api.shutdown()
        self._api.server_close()
        for thread in self._threads:
            thread.join(timeout=10)
        self.appmetrica.stop()
        self.altcraft.stop()
        self._moto.stop()
        reset_services()
        for name, value in self._saved_env.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None, tb: TracebackType | None) -> None:
        self.stop()

    def _set_env(self, values: dict[str, str]) -> None:
        for name, value in values.items():
            self._saved_env.setdefault(name, os.environ.get(name))
            os.environ[name] = value

    def environment_of(self, function: Function) -> dict[str, str]:
        """The variables a function's own process needs to run against the sandbox: AWS's endpoint and keys, and
        its settings as the template's environment would give them (a function run from `sam build`'s output)."""
        settings = self._settings(function.wiring).model_dump(mode="json", by_alias=True, exclude_defaults=True)
        text = {name: str(value).lower() if isinstance(value, bool) else str(value) for name, value in settings.items()}
        return {**self.environment, **text}

    def _settings(self, wiring: FunctionWiring) -> Settings:
        """What the template's Parameters and environment give the function in AWS, pointed at the sandbox."""
        return Settings(
            DATA_BUCKET=self.bucket,
            IDEMPOTENCY_TABLE=self.table,
            INGEST_QUEUE_URL=wiring.queue_url,
            APPMETRICA_API_URL=self.appmetrica.url,
            APPMETRICA_POST_API_KEY_SECRET=KEY_SECRET,
            APPMETRICA_APPLICATION_ID=APPLICATION_ID,
            ALTCRAFT_API_URL=self.altcraft.url,
            ALTCRAFT_API_TOKEN_SECRET=TOKEN_SECRET,
            ALTCRAFT_DB_ID=str(ALTCRAFT_DB),
            # as a stack deployed with WebhookSigning=off: the routes want the API key only, so that curl and the
            # demo need no signature (tests/integration/test_webhook_signatures.py checks signing through the door)
            WEBHOOK_SIGNING="off",
        )

    # --- Lambda's part: invoke, one at a time --------------------------------------------------------------------
    def invoke(self, function: Function, event: dict[str, Any]) -> Any:
        with self._lock:
            function.invocations += 1
            return function.handler(event, LambdaContext(function_name=function.name))

    def _invoke_polled(self, function: Function, event: dict[str, Any], context: Any) -> Any:
        self._busy.add(function.name)  # from the invocation on, not while the poller waits for a message
        return self.invoke(function, event)

    def _poll_forever(self, function: Function) -> None:
        """One function's event source mapping: its batch size and batching window, as the template sets them."""
        wiring = function.wiring
        while not self._stopping.is_set():
            try:
                result = poll_once(
                    self.sqs,
                    wiring.queue_url,
                    partial(self._invoke_polled, function),
                    retry_after=self.retry_after,
                    batch_size=wiring.batch_size,
                    window=wiring.batching_window if self.batching_window is None else self.batching_window,
                    wait=LONG_POLL_SECONDS,
                )
            except Exception as error:
                self.log(f"{function.name}: polling failed ({type(error).__name__}); trying again")
                result = PollResult(0, [])
                self._stopping.wait(0.2)
            finally:
                self._busy.discard(function.name)
            if result.received:
                raised = f", the invocation raised {result.error}" if result.error else ""
                back = f", {len(result.failed)} failed (back in {self.retry_after} s){raised}"
                failed = back if result.failed else ""
                self.log(f"{function.name} ← SQS: {result.received} message(s){failed}")

    def settle(self, timeout: float = 300.0) -> bool:
        """Waits until every queue is empty (nothing visible or in flight) and the runner is idle."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not self._busy and all(self._queue_empty(f.wiring.queue_url) for f in self.functions.values()):
                time.sleep(0.3)  # one more poll round, for a message sent while we looked
                if not self._busy and all(self._queue_empty(f.wiring.queue_url) for f in self.functions.values()):
                    return True
            time.sleep(0.1)
        return False

    def _queue_empty(self, queue_url: str) -> bool:
        names = ["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"]
        attributes = self.sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=names)["Attributes"]
        return all(attributes[name] == "0" for name in names)


@contextmanager
def functions_output(handle: TextIO) -> Iterator[None]:
    """What the functions print (metrics) and log goes to `handle`, as Lambda sends a function's output to its log
    group. Redirecting stdout alone misses the log: the Logger's handler took sys.stdout when it was first imported."""
    handler = cast(logging.StreamHandler[TextIO], logger.registered_handler)
    previous = handler.setStream(handle)
    try:
        with redirect_stdout(handle):
            yield
    finally:
        if previous is not None:
            handler.setStream(previous)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _api_handler(sandbox: Sandbox) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        """API Gateway's part: the API key, then the route's function with a REST proxy event."""

        protocol_version = "HTTP/1.1"
        wbufsize = 1 << 16

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
            return

        def _reply(self, status: int, headers: dict[str, str], body: bytes) -> None:
            self.send_response(status)
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_POST(self) -> None:
            parts = urlsplit(self.path)
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            function = sandbox.routes.get(parts.path)
            json_type = {"Content-Type": "application/json"}
            if function is None:
                self._reply(403, json_type, b'{"message":"Missing Authentication Token"}')
                return
            if self.headers.get("x-api-key") != API_KEY:
                self._reply(403, json_type, b'{"message":"Forbidden"}')
                return
            try:
                text: str | bytes = body.decode("utf-8")
            except UnicodeDecodeError:
                text = body
            event = api_gateway_event(
                parts.path,
                text,
                content_type=self.headers.get("Content-Type", ""),
                query=dict(parse_qsl(parts.query)) or None,
                headers=dict(self.headers.items()),
            )
            response = sandbox.invoke(function, event)
            sandbox.log(f"{function.name} ← HTTPS POST {parts.path}: {response['statusCode']}")
            headers = {k: str(v) for k, v in (response.get("headers") or {}).items()}
            answer = response.get("body") or ""
            self._reply(response["statusCode"], headers, answer.encode() if isinstance(answer, str) else answer)

        def do_GET(self) -> None:
            self._reply(403, {"Content-Type": "application/json"}, json.dumps({"message": "POST only"}).encode())

    return Handler
