"""Fixtures: fake AWS credentials, moto with the stack the template declares, and the AppMetrica emulator."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, TypeVar

import boto3
import botocore.client
import botocore.exceptions
import botocore.session
import pytest
from moto import mock_aws

from courier.doors.services import reset_services
from sandbox.altcraft_emulator import AltcraftEmulator
from sandbox.appmetrica_emulator import AppMetricaEmulator
from sandbox.http_emulator import HttpEmulator
from sandbox.stack import Stack, create_stack
from tests.iam import Denial, Roles, function_on_stack, load_roles, permissions

EmulatorT = TypeVar("EmulatorT", bound=HttpEmulator)
POST_API_KEY = "test-post-api-key-0123456789ABCDEFGHIJKLMN"
APPLICATION_ID = "1111"
ALTCRAFT_TOKEN = "test-altcraft-token-abcdef0123456789"
ALTCRAFT_DB = 1


@pytest.fixture(autouse=True, scope="session")
def roles() -> Iterator[Roles]:
    """Every AWS call a function makes, anywhere in the suite, is checked against its role in template.yaml."""
    loaded = load_roles()
    create_client, make_api_call = botocore.session.Session.create_client, botocore.client.BaseClient._make_api_call

    def tagged_client(self: Any, *args: Any, **kwargs: Any) -> Any:
        client = create_client(self, *args, **kwargs)
        client.courier_function = function_on_stack()
        return client

    def checked_call(self: Any, operation: str, params: dict[str, Any]) -> Any:
        function = getattr(self, "courier_function", None)
        if function is not None:
            for action, resource in permissions(self.meta.service_model.service_name, operation, params):
                if not loaded.allows(function, action, resource):
                    loaded.denials.append(Denial(function, action, resource))
                    error = {"Error": {"Code": "AccessDenied", "Message": f"the role does not allow {action}"}}
                    raise botocore.exceptions.ClientError(error, operation)
        return make_api_call(self, operation, params)

    botocore.session.Session.create_client = tagged_client
    botocore.client.BaseClient._make_api_call = checked_call
    yield loaded
    botocore.session.Session.create_client = create_client
    botocore.client.BaseClient._make_api_call = make_api_call


@pytest.fixture(autouse=True)
def _only_what_the_role_allows(roles: Roles, request: pytest.FixtureRequest) -> Iterator[None]:
    """A test fails when a function made a call its role does not allow (unless the test is about exactly that)."""
    roles.denials.clear()
    yield
    if not request.node.get_closest_marker("denied_by_role"):
        assert not roles.denials, "calls the function's role does not allow: " + "; ".join(map(str, roles.denials))


@pytest.fixture(autouse=True)
def _isolated_env(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    for name in ("AWS_ENDPOINT_URL", "AWS_PROFILE", "APPMETRICA_POST_API_KEY_SECRET", "ALTCRAFT_API_TOKEN_SECRET"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("POWERTOOLS_TRACE_DISABLED", "1")
    monkeypatch.setenv("POWERTOOLS_METRICS_NAMESPACE", "CourierTest")
    monkeypatch.setenv("COURIER_RETRY_BASE_SECONDS", "0.01")
    reset_services()
    yield
    reset_services()


@pytest.fixture(scope="session")
def _emulators() -> Iterator[tuple[AppMetricaEmulator, AltcraftEmulator]]:
    appmetrica = AppMetricaEmulator(keys={POST_API_KEY: {APPLICATION_ID, "2222"}}).start()
    altcraft = AltcraftEmulator(tokens={ALTCRAFT_TOKEN: {ALTCRAFT_DB, 2}}).start()
    yield appmetrica, altcraft
    appmetrica.stop()
    altcraft.stop()


def _pointed_at(emulator: EmulatorT, monkeypatch: pytest.MonkeyPatch, env: dict[str, str]) -> EmulatorT:
    """The emulator emptied for a test, and the functions' settings pointed at it."""
    emulator.reset()
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return emulator


@pytest.fixture
def appmetrica(
    _emulators: tuple[AppMetricaEmulator, AltcraftEmulator], monkeypatch: pytest.MonkeyPatch
) -> AppMetricaEmulator:
    """The AppMetrica emulator over real HTTP on 127.0.0.1."""
    emulator = _emulators[0]
    env = {
        "APPMETRICA_API_URL": emulator.url,
        "APPMETRICA_POST_API_KEY": POST_API_KEY,
        "APPMETRICA_APPLICATION_ID": APPLICATION_ID,
    }
    return _pointed_at(emulator, monkeypatch, env)


@pytest.fixture
def altcraft(
    _emulators: tuple[AppMetricaEmulator, AltcraftEmulator], monkeypatch: pytest.MonkeyPatch
) -> AltcraftEmulator:
    """The Altcraft emulator over real HTTP on 127.0.0.1."""
    emulator = _emulators[1]
    env = {"ALTCRAFT_API_URL": emulator.url, "ALTCRAFT_API_TOKEN": ALTCRAFT_TOKEN, "ALTCRAFT_DB_ID": str(ALTCRAFT_DB)}
    return _pointed_at(emulator, monkeypatch, env)


@dataclass
class Aws:
    s3: Any
    sqs: Any
    stack: Stack
    monkeypatch: pytest.MonkeyPatch

    def serve(self, function: str) -> None:
        """Configures the process as the given function's Lambda (its own queue for the HTTPS door)."""
        self.monkeypatch.setenv("INGEST_QUEUE_URL", self.queue_url(function))
        reset_services()

    def queue_url(self, function: str) -> str:
        return self.stack.functions[function].queue_url

    def dlq_url(self, function: str) -> str:
        return self.stack.functions[function].dlq_url

    def object_text(self, key: str) -> str:
        body: bytes = self.s3.get_object(Bucket=self.stack.bucket, Key=key)["Body"].read()
        return body.decode("utf-8")

    def keys(self, prefix: str) -> list[str]:
        listing = self.s3.list_objects_v2(Bucket=self.stack.bucket, Prefix=prefix)
        return [item["Key"] for item in listing.get("Contents", [])]


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[Aws]:
    """moto with the bucket, queues, dead-letter queues, notifications and ledger table that template.yaml declares."""
    with mock_aws():
        s3, sqs = boto3.client("s3"), boto3.client("sqs")
        stack = create_stack(s3, sqs, dynamodb=boto3.client("dynamodb"))
        monkeypatch.setenv("DATA_BUCKET", stack.bucket)
        monkeypatch.setenv("IDEMPOTENCY_TABLE", stack.table)
        aws = Aws(s3, sqs, stack, monkeypatch)
        aws.serve("appmetrica_events")
        yield aws
