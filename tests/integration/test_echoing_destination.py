"""A destination that echoes the whole request back in its error answers (request line with the Post API key,
headers, body with the Altcraft token and the records' personal data), with every logger at DEBUG: no log line,
ledger item, HTTP answer or report holds the key, the token or a raw phone, e-mail or Telegram login of the input,
and the rejected files hold neither the key nor the token (their error column no personal data either)."""

from __future__ import annotations

import csv
import io
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import boto3
import pytest

from functions.altcraft_profile_import.app import lambda_handler as import_handler
from functions.appmetrica_profiles.app import lambda_handler as profiles_handler
from sandbox.lambda_runtime import LambdaContext, api_gateway_event, drain
from tests.conftest import ALTCRAFT_DB, ALTCRAFT_TOKEN, POST_API_KEY, Aws
from tests.log_capture import AllLogs, everything_at_debug

# The input's personal data, raw, as it must never come back out (dotted phones, a Cyrillic domain, a login)
PHONE, DOTTED, EMAIL, CYRILLIC, LOGIN = (
    "+79160123456",
    "+7.916.555.44.33",
    "ivan.petrov@ya.ru",
    "мария@почта.рф",
    "@Durov",
)
RAW = (PHONE, "79160123456", "916.555.44.33", "9165554433", EMAIL, "ivan.petrov", CYRILLIC, "мария", LOGIN, "Durov")


class Echo:
    """Answers every POST with the next scripted status (then `then`), its body the request as it came: the request
    line, the headers and the body; as Altcraft's JSON (`error_text`) when `as_altcraft`."""

    def __init__(self, as_altcraft: bool) -> None:
        self.script: list[int] = []
        self.then = 400
        self.requests = 0
        echo = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("content-length") or 0))
                with lock:
                    echo.requests += 1
                    status = echo.script.pop(0) if echo.script else echo.then
                said = f"refused: {self.command} {self.path}\n{self.headers}\n{body.decode('utf-8', 'replace')}"
                if as_altcraft:
                    answer = json.dumps({"error": status, "error_text": said}, ensure_ascii=False).encode()
                else:
                    answer = said.encode()
                self.send_response(status)
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

            def log_message(self, *args: Any) -> None:
                pass

        lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()


@pytest.fixture
def logs() -> Iterator[AllLogs]:
    with everything_at_debug() as captured:
        yield captured


def _everything_but_rejected(aws: Aws, logs: AllLogs, answers: list[dict[str, Any]]) -> str:
    table = boto3.client("dynamodb").scan(TableName=aws.stack.table)["Items"]
    reports = [aws.object_text(key) for key in aws.keys("reports/")]
    ledger = json.dumps(table, ensure_ascii=False, default=lambda value: value.decode("utf-8", "replace"))
    return "\n".join([logs.text(), ledger, *reports, *(a["body"] for a in answers)])


def _parts(secret: str) -> list[str]:
    """The secret and every 12 characters of it: no part of it may survive (a scrubber that masked digit runs
    first left most of a token with digits in it)."""
    return [secret, *(secret[i : i + 12] for i in range(len(secret) - 11))]


def _check(aws: Aws, logs: AllLogs, answers: list[dict[str, Any]], secret: str, refused: str) -> None:
    said = _everything_but_rejected(aws, logs, answers)
    # What was scanned holds what it should: the logs at DEBUG, the ledger's outcomes, the answers' reasons
    assert '"message": "messages processed"' in said or '"message":"messages processed"' in said
    assert refused in said
    assert "retry_reason" in logs.printed.getvalue()  # Powertools' own lines were captured
    for value in (*_parts(secret), *RAW):
        assert value not in said, value
    assert "post_api_key=" not in said.replace("post_api_key=***", "")
    rejected = [aws.object_text(key) for key in aws.keys("rejected/")]
    assert rejected, "the echoing destination refused rows: rejected/ has them"
    errors = [row[-1] for text in rejected for row in list(csv.reader(io.StringIO(text)))[1:]]
    assert any("the destination said: refused: POST" in error for error in errors)  # its text, scrubbed, is there
    for value in (*_parts(secret), *RAW):
        assert value not in "\n".join(errors), value
    for part in _parts(secret):
        assert part not in "\n".join(rejected), part


def test_an_echoing_post_api_leaks_nothing_at_debug(aws: Aws, monkeypatch: pytest.MonkeyPatch, logs: AllLogs) -> None:
    # Given AppMetrica echoing every request: first down (503, six times), then refusing (400)
    echo = Echo(as_altcraft=False)
    echo.script = [503] * 6
    monkeypatch.setenv("APPMETRICA_API_URL", echo.url)
    monkeypatch.setenv("APPMETRICA_POST_API_KEY", POST_API_KEY)
    monkeypatch.setenv("APPMETRICA_APPLICATION_ID", "1111")
    monkeypatch.setenv("COURIER_RETRY_BASE_SECONDS", "0")
    aws.serve("appmetrica_profiles")
    note = f"пишите на {CYRILLIC} или {DOTTED}, telegram {LOGIN}, {EMAIL}"
    records = [
        {"profile_id": f"crm-{n}", "phone": PHONE, "email": EMAIL, "telegram": LOGIN, "attributes.note": note}
        for n in range(2)
    ]
    try:
        # When records come through the queue (the outage), ?mode=sync (the refusal) and a file
        queue = aws.queue_url("appmetrica_profiles")
        aws.sqs.send_message(QueueUrl=queue, MessageBody=json.dumps(records))
        drain(aws.sqs, queue, profiles_handler, max_rounds=1)
        event = api_gateway_event("/appmetrica/profiles", json.dumps(records), query={"mode": "sync"})
        answer = profiles_handler(event, LambdaContext())
        columns = list(records[0])
        body = io.StringIO()
        writer = csv.DictWriter(body, columns)
        writer.writeheader()
        writer.writerows(records)
        aws.s3.put_object(Bucket=aws.stack.bucket, Key="appmetrica_profiles/p.csv", Body=body.getvalue().encode())
        drain(aws.sqs, queue, profiles_handler, max_rounds=3)
    finally:
        echo.stop()
    # Then the destination was asked, and answered with everything it was sent
    assert echo.requests > 6
    assert answer["statusCode"] == 400
    assert json.loads(answer["body"])["rejected"][0]["errors"] == ["destination: AppMetrica answered 400"]
    assert "AppMetrica answered 503" in logs.text()  # the outage's reason: the status, in Courier's words
    _check(aws, logs, [answer], POST_API_KEY, "AppMetrica answered 400")


def test_an_echoing_altcraft_leaks_nothing_at_debug(aws: Aws, monkeypatch: pytest.MonkeyPatch, logs: AllLogs) -> None:
    # Given Altcraft echoing every request in its error_text: first down (503, six times), then refusing (400)
    echo = Echo(as_altcraft=True)
    echo.script = [503] * 6
    monkeypatch.setenv("ALTCRAFT_API_URL", echo.url)
    monkeypatch.setenv("ALTCRAFT_API_TOKEN", ALTCRAFT_TOKEN)
    monkeypatch.setenv("ALTCRAFT_DB_ID", str(ALTCRAFT_DB))
    monkeypatch.setenv("COURIER_RETRY_BASE_SECONDS", "0")
    aws.serve("altcraft_profile_import")
    note = f"пишите на {CYRILLIC} или {DOTTED}"
    records = [
        {
            "email": f"{n}{EMAIL}",
            "data": {"email": f"{n}{EMAIL}", "phones": [PHONE], "telegram": LOGIN, "note": note},
        }
        for n in range(2)
    ]
    try:
        queue = aws.queue_url("altcraft_profile_import")
        aws.sqs.send_message(QueueUrl=queue, MessageBody=json.dumps(records))
        drain(aws.sqs, queue, import_handler, max_rounds=1)
        event = api_gateway_event("/altcraft/profiles/import", json.dumps(records), query={"mode": "sync"})
        answer = import_handler(event, LambdaContext())
        drain(aws.sqs, queue, import_handler, max_rounds=3)
    finally:
        echo.stop()
    assert echo.requests > 6
    assert answer["statusCode"] == 400
    assert json.loads(answer["body"])["rejected"][0]["errors"] == ["destination: Altcraft error 400"]
    assert "Altcraft error 503" in logs.text()
    _check(aws, logs, [answer], ALTCRAFT_TOKEN, "Altcraft error 400")
