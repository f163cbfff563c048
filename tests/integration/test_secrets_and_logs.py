"""The Post API key from Secrets Manager (moto), and never in a log line, report or rejected file."""

from __future__ import annotations

import json
from collections.abc import Iterator

import boto3
import pytest

from courier.settings import MissingSecretError, Settings, appmetrica_post_api_key, forget_secrets
from functions.appmetrica_events.app import lambda_handler
from sandbox.appmetrica_emulator import AppMetricaEmulator
from sandbox.lambda_runtime import drain
from tests.conftest import APPLICATION_ID, POST_API_KEY, Aws
from tests.log_capture import everything_at_debug
from tests.support import recent


@pytest.fixture(autouse=True)
def _fresh_parameter_cache() -> Iterator[None]:
    forget_secrets()
    yield
    forget_secrets()


def test_a_plain_key_is_read_from_the_secret(aws: Aws) -> None:
    boto3.client("secretsmanager").create_secret(Name="courier/key", SecretString="from-the-secret")
    assert appmetrica_post_api_key(Settings(APPMETRICA_POST_API_KEY_SECRET="courier/key"), "1111") == "from-the-secret"


def test_a_json_map_gives_each_application_its_key(aws: Aws) -> None:
    boto3.client("secretsmanager").create_secret(Name="courier/keys", SecretString='{"1111": "k1", "2222": "k2"}')
    settings = Settings(APPMETRICA_POST_API_KEY_SECRET="courier/keys")
    assert appmetrica_post_api_key(settings, "2222") == "k2"
    with pytest.raises(MissingSecretError, match="no key for application 3333"):
        appmetrica_post_api_key(settings, "3333")


def test_an_ssm_secure_string_works_too(aws: Aws) -> None:
    boto3.client("ssm").put_parameter(Name="/courier/key", Value="from-ssm", Type="SecureString")
    assert appmetrica_post_api_key(Settings(APPMETRICA_POST_API_KEY_SECRET="ssm:/courier/key"), "1111") == "from-ssm"


def test_no_key_anywhere_is_a_clear_error() -> None:
    with pytest.raises(MissingSecretError, match="set APPMETRICA_POST_API_KEY or APPMETRICA_POST_API_KEY_SECRET"):
        appmetrica_post_api_key(Settings(), "1111")


def test_the_function_delivers_with_the_key_from_secrets_manager(
    aws: Aws, appmetrica: AppMetricaEmulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given the key only in Secrets Manager, as in AWS
    boto3.client("secretsmanager").create_secret(Name="courier/appmetrica/post-api-key", SecretString=POST_API_KEY)
    monkeypatch.delenv("APPMETRICA_POST_API_KEY")
    monkeypatch.setenv("APPMETRICA_POST_API_KEY_SECRET", "courier/appmetrica/post-api-key")
    # When a record comes through the queue
    record = {"profile_id": "u", "event_name": "open", "event_timestamp": recent()}
    aws.sqs.send_message(QueueUrl=aws.queue_url("appmetrica_events"), MessageBody=json.dumps(record))
    drain(aws.sqs, aws.queue_url("appmetrica_events"), lambda_handler)
    # Then it is delivered
    assert [row["profile_id"] for row in appmetrica.events(APPLICATION_ID)] == ["u"]


def test_the_key_never_reaches_logs_reports_or_rejected_files(aws: Aws, appmetrica: AppMetricaEmulator) -> None:
    # Given failures of every kind: a refused batch that echoes the request, an outage, a bad row
    appmetrica.fail_next(400, body=f"bad request /logs/v1/import/events.csv?post_api_key={POST_API_KEY}")
    appmetrica.fail_next(503, times=6, body=f"down for post_api_key={POST_API_KEY}")
    body = f"profile_id,event_name,event_timestamp\nu1,open,{recent()}\nu2,open,never\n"
    aws.s3.put_object(Bucket=aws.stack.bucket, Key="appmetrica_events/a.csv", Body=body.encode())
    aws.s3.put_object(Bucket=aws.stack.bucket, Key="appmetrica_events/b.csv", Body=body.encode())
    # When the function runs, every logger at DEBUG (Lambda's ApplicationLogLevel=DEBUG, POWERTOOLS_LOG_LEVEL=DEBUG)
    with everything_at_debug() as logs:
        drain(aws.sqs, aws.queue_url("appmetrica_events"), lambda_handler, max_rounds=3)
    # Then the key appears in no log line (Powertools' own output included) and no object the function wrote
    written = "".join(aws.object_text(key) for key in aws.keys("reports/") + aws.keys("rejected/"))
    assert "destination: AppMetrica answered 400" in written
    assert POST_API_KEY not in written
    logged = logs.text()
    assert "file processed" in logs.printed.getvalue()  # what Powertools printed was read, not an empty capture
    assert "AppMetrica answered 503" in logged
    assert POST_API_KEY not in logged
    assert "post_api_key=" not in logged.replace("post_api_key=***", "")
