"""Configuration: environment variables read once into a pydantic model; secrets through Powertools Parameters."""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from functools import cache
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError


class Settings(BaseModel):
    """Every variable the functions read; docs/reference/configuration.md is generated from these declarations."""

    model_config = ConfigDict(populate_by_name=True, frozen=True, extra="ignore")

    appmetrica_api_url: str = Field(
        "https://api.appmetrica.yandex.com", alias="APPMETRICA_API_URL", description="the Post API's base URL"
    )
    appmetrica_post_api_key: str = Field(
        "", alias="APPMETRICA_POST_API_KEY", repr=False, description="the Post API key, for local runs only"
    )
    appmetrica_post_api_key_secret: str = Field(
        "",
        alias="APPMETRICA_POST_API_KEY_SECRET",
        description=(
            'in AWS: the Secrets Manager secret holding the key, or a JSON map {"<application_id>": "<key>"} '
            "(prefix ssm: for an SSM SecureString parameter)"
        ),
    )
    appmetrica_application_id: str = Field(
        "", alias="APPMETRICA_APPLICATION_ID", description="the application id for records without one"
    )
    appmetrica_telegram_strip_at: bool = Field(
        False,
        alias="APPMETRICA_TELEGRAM_STRIP_AT",
        description="true: a leading @ is dropped from Telegram logins before hashing",
    )
    appmetrica_telegram_sdk_names: bool = Field(
        False,
        alias="APPMETRICA_TELEGRAM_SDK_NAMES",
        description=(
            "true: up to ten Telegram logins as appmetrica_1pd_telegram_sha256_0…9, as the SDKs write them; "
            "false: one login as the Post API page's appmetrica_1pd_telegram_sha256"
        ),
    )
    appmetrica_max_rps: float = Field(
        30.0,
        alias="APPMETRICA_MAX_RPS",
        gt=0,
        description="Post API requests per second per function instance (the API allows about 30 per IP)",
    )
    appmetrica_at_least_once: bool = Field(
        False,
        alias="APPMETRICA_AT_LEAST_ONCE",
        description=(
            "true: a Post API request that may have arrived (a lost answer, 500/502/504) is sent again instead of"
            " its rows going to rejected/ as possibly delivered; rows may then arrive twice"
        ),
    )
    altcraft_api_url: str = Field(
        "https://ru.altkraft.com", alias="ALTCRAFT_API_URL", description="the Altcraft installation's base URL"
    )
    altcraft_api_token: str = Field(
        "",
        alias="ALTCRAFT_API_TOKEN",
        repr=False,
        description="the API token, for local runs only (sent as the documented token body field)",
    )
    altcraft_api_token_secret: str = Field(
        "",
        alias="ALTCRAFT_API_TOKEN_SECRET",
        description="in AWS: the Secrets Manager secret holding the token (prefix ssm: for SSM)",
    )
    altcraft_db_id: str = Field("", alias="ALTCRAFT_DB_ID", description="the database id for records without db_id")
    altcraft_matching: str = Field(
        "email", alias="ALTCRAFT_MATCHING", description="the matching mode for records without matching"
    )
    altcraft_batch_size: int = Field(
        1000, alias="ALTCRAFT_BATCH_SIZE", gt=0, le=10_000, description="profiles per _batch request (1–10,000)"
    )
    altcraft_max_rps: float = Field(
        10.0,
        alias="ALTCRAFT_MAX_RPS",
        gt=0,
        description="Altcraft requests per second per function instance (Altcraft documents no limit)",
    )
    webhook_signing_secret: str = Field(
        "", alias="WEBHOOK_SIGNING_SECRET", repr=False, description="the webhook signing secret, for local runs only"
    )
    webhook_signing_secret_secret: str = Field(
        "",
        alias="WEBHOOK_SIGNING_SECRET_SECRET",
        description=(
            "in AWS: the secret holding the webhook signing secret (the stack's generated one unless "
            "WebhookSigningSecretName is set)"
        ),
    )
    # how webhook calls are signed (doors/signatures.py): courier, hmac (a provider's scheme, below) or off;
    # '' (local runs): courier when a signing secret is set, else off. The template sets it (default courier).
    webhook_signing: Literal["", "courier", "hmac", "off"] = Field(
        "",
        alias="WEBHOOK_SIGNING",
        description=(
            "how HTTPS calls are signed: courier, hmac (a provider's scheme) or off; unset: courier when a "
            "signing secret is set, else off"
        ),
    )
    webhook_signature_header: str = Field(
        "", alias="WEBHOOK_SIGNATURE_HEADER", description="hmac: the header holding the signature"
    )
    webhook_signature_prefix: str = Field(
        "",
        alias="WEBHOOK_SIGNATURE_PREFIX",
        description="hmac: what precedes the signature in its header (e.g. sha256=)",
    )
    webhook_signature_encoding: Literal["hex", "base64"] = Field(
        "hex", alias="WEBHOOK_SIGNATURE_ENCODING", description="hmac: hex or base64"
    )
    webhook_signed_content: Literal["body", "timestamp.body"] = Field(
        "body", alias="WEBHOOK_SIGNED_CONTENT", description="hmac: what is signed: body, or timestamp.body"
    )
    webhook_timestamp_header: str = Field(
        "",
        alias="WEBHOOK_TIMESTAMP_HEADER",
        description="hmac with timestamp.body: the header holding the timestamp (Unix seconds)",
    )
    webhook_timestamp_prefix: str = Field(
        "",
        alias="WEBHOOK_TIMESTAMP_PREFIX",
        description="hmac with timestamp.body: what precedes the timestamp in its header",
    )
    ingest_queue_url: str = Field(
        "", alias="INGEST_QUEUE_URL", description="the function's own queue, where the HTTPS door puts records"
    )
    data_bucket: str = Field(
        "", alias="DATA_BUCKET", description="where reports/ and rejected/ are written, and mappings/ read"
    )
    idempotency_table: str = Field(
        "",
        alias="IDEMPOTENCY_TABLE",
        description=(
            "the DynamoDB ledger of what was sent; without it, a retried file or message is sent again from its start"
        ),
    )
    http_read_timeout_seconds: float = Field(
        120.0,
        alias="COURIER_HTTP_READ_TIMEOUT_SECONDS",
        gt=0,
        description="how long to wait for a destination's answer (never past the invocation's time)",
    )
    retry_base_seconds: float = Field(
        0.5,
        alias="COURIER_RETRY_BASE_SECONDS",
        ge=0,
        description=(
            "the first back-off step for 420/429/5xx/network errors (exponential, full jitter, Retry-After honoured)"
        ),
    )
    max_body_bytes: int = Field(
        6 * 1024 * 1024, alias="COURIER_MAX_BODY_BYTES", gt=0, description="the HTTPS door's largest body"
    )
    max_records_per_request: int = Field(
        10_000, alias="COURIER_MAX_RECORDS_PER_REQUEST", gt=0, description="the HTTPS door's most records a call"
    )


@cache
def get_settings() -> Settings:
    return Settings.model_validate(dict(os.environ))


# What the stack itself gives every function (no parameter sets them): without them nothing is safe to deliver.
STACK_VARIABLES = {
    "DATA_BUCKET": "the stack's DataBucket",
    "IDEMPOTENCY_TABLE": "the stack's IdempotencyTable",
    "INGEST_QUEUE_URL": "the function's own queue",
}


class ConfigurationError(RuntimeError):
    """A function started without a setting it needs, or with one it cannot read; one line naming the variable and
    what sets it, never a value."""


def check_environment(
    required: Mapping[str, str], environ: Mapping[str, str], sources: Mapping[str, str] | None = None
) -> Settings:
    """The settings, when every `required` variable (→ what sets it) is given and every given one is valid; an
    invalid one is named with what sets it (`sources`, beside `required`)."""
    missing = [f"{name} is not set ({source})" for name, source in required.items() if not environ.get(name)]
    if missing:
        raise ConfigurationError("; ".join(missing))
    try:
        return Settings.model_validate(dict(environ))
    except ValidationError as error:
        sources = {**(sources or {}), **required}
        problems = []
        for problem in error.errors(include_input=False, include_url=False):
            variable = str(problem["loc"][0]) if problem["loc"] else "?"
            where = f" ({sources[variable]})" if variable in sources else ""
            problems.append(f"{variable} is not valid: {problem['msg']}{where}")
        raise ConfigurationError("; ".join(problems)) from None


class MissingSecretError(RuntimeError):
    """A key or token is configured nowhere; the message names the variable, never a value."""


def _read_secret(name: str) -> str:
    from aws_lambda_powertools.utilities import parameters  # imported only where a secret is used

    if name.startswith("ssm:"):
        return str(parameters.get_parameter(name[4:], decrypt=True, max_age=300))
    return str(parameters.get_secret(name, max_age=300))


def forget_secrets() -> None:
    """Forgets the secrets read and the clients Powertools read them with, as a new container would (a sandbox that
    starts again, or a test, may name another endpoint: a kept client would still call the old one)."""
    from aws_lambda_powertools.utilities.parameters.constants import DEFAULT_PROVIDERS

    DEFAULT_PROVIDERS.clear()


def _secret(plain: str, secret_name: str, variable: str) -> str:
    """A local value, else the named secret's; the error names the variables, never a value."""
    value = plain or (_read_secret(secret_name) if secret_name else "")
    if not value:
        raise MissingSecretError(f"set {variable} or {variable}_SECRET")
    return value


def appmetrica_post_api_key(settings: Settings, application_id: str) -> str:
    """The Post API key for an application: a plain key, or a JSON map {application_id: key} in the secret."""
    raw = _secret(settings.appmetrica_post_api_key, settings.appmetrica_post_api_key_secret, "APPMETRICA_POST_API_KEY")
    if raw.lstrip().startswith("{"):
        keys = json.loads(raw)
        if application_id not in keys:
            raise MissingSecretError(f"the Post API key map has no key for application {application_id}")
        return str(keys[application_id])
    return raw


def altcraft_api_token(settings: Settings) -> str:
    return _secret(settings.altcraft_api_token, settings.altcraft_api_token_secret, "ALTCRAFT_API_TOKEN")


def webhook_signing_secret(settings: Settings) -> str:
    """'' when webhook signing is off (neither variable set)."""
    if not (settings.webhook_signing_secret or settings.webhook_signing_secret_secret):
        return ""
    return _secret(settings.webhook_signing_secret, settings.webhook_signing_secret_secret, "WEBHOOK_SIGNING_SECRET")
