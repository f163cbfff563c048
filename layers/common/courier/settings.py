"""Configuration: environment variables read once into a pydantic model; secrets through Powertools Parameters."""

from __future__ import annotations

import json
import os
from functools import cache
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class Settings(BaseModel):
    """Every variable of the contract (architecture §A5); README's configuration table mirrors it."""

    model_config = ConfigDict(populate_by_name=True, frozen=True, extra="ignore")

    appmetrica_api_url: str = Field("https://api.appmetrica.yandex.com", alias="APPMETRICA_API_URL")
    appmetrica_post_api_key: str = Field("", alias="APPMETRICA_POST_API_KEY", repr=False)
    appmetrica_post_api_key_secret: str = Field("", alias="APPMETRICA_POST_API_KEY_SECRET")
    appmetrica_application_id: str = Field("", alias="APPMETRICA_APPLICATION_ID")
    appmetrica_telegram_strip_at: bool = Field(False, alias="APPMETRICA_TELEGRAM_STRIP_AT")
    # true: Telegram logins go as appmetrica_1pd_telegram_sha256_0…9 (up to ten, as both SDKs write them) instead of
    # the Post API page's single appmetrica_1pd_telegram_sha256 (one login, the default)
    appmetrica_telegram_sdk_names: bool = Field(False, alias="APPMETRICA_TELEGRAM_SDK_NAMES")
    appmetrica_max_rps: float = Field(30.0, alias="APPMETRICA_MAX_RPS", gt=0)
    # true: a Post API request that may have arrived (a lost answer, 500/502/504) is sent again — at least once,
    # possibly twice — instead of its rows going to rejected/ (at most once, the default)
    appmetrica_at_least_once: bool = Field(False, alias="APPMETRICA_AT_LEAST_ONCE")
    altcraft_api_url: str = Field("https://ru.altkraft.com", alias="ALTCRAFT_API_URL")
    altcraft_api_token: str = Field("", alias="ALTCRAFT_API_TOKEN", repr=False)
    altcraft_api_token_secret: str = Field("", alias="ALTCRAFT_API_TOKEN_SECRET")
    altcraft_db_id: str = Field("", alias="ALTCRAFT_DB_ID")
    altcraft_matching: str = Field("email", alias="ALTCRAFT_MATCHING")
    altcraft_batch_size: int = Field(1000, alias="ALTCRAFT_BATCH_SIZE", gt=0, le=10_000)
    altcraft_max_rps: float = Field(10.0, alias="ALTCRAFT_MAX_RPS", gt=0)
    webhook_signing_secret: str = Field("", alias="WEBHOOK_SIGNING_SECRET", repr=False)
    webhook_signing_secret_secret: str = Field("", alias="WEBHOOK_SIGNING_SECRET_SECRET")
    # how webhook calls are signed (doors/signatures.py): courier, hmac (a provider's scheme, below) or off;
    # '' (local runs): courier when a signing secret is set, else off. The template sets it (default courier).
    webhook_signing: Literal["", "courier", "hmac", "off"] = Field("", alias="WEBHOOK_SIGNING")
    webhook_signature_header: str = Field("", alias="WEBHOOK_SIGNATURE_HEADER")
    webhook_signature_prefix: str = Field("", alias="WEBHOOK_SIGNATURE_PREFIX")
    webhook_signature_encoding: Literal["hex", "base64"] = Field("hex", alias="WEBHOOK_SIGNATURE_ENCODING")
    webhook_signed_content: Literal["body", "timestamp.body"] = Field("body", alias="WEBHOOK_SIGNED_CONTENT")
    webhook_timestamp_header: str = Field("", alias="WEBHOOK_TIMESTAMP_HEADER")
    webhook_timestamp_prefix: str = Field("", alias="WEBHOOK_TIMESTAMP_PREFIX")
    ingest_queue_url: str = Field("", alias="INGEST_QUEUE_URL")
    data_bucket: str = Field("", alias="DATA_BUCKET")
    idempotency_table: str = Field("", alias="IDEMPOTENCY_TABLE")
    http_read_timeout_seconds: float = Field(120.0, alias="COURIER_HTTP_READ_TIMEOUT_SECONDS", gt=0)
    retry_base_seconds: float = Field(0.5, alias="COURIER_RETRY_BASE_SECONDS", ge=0)
    max_body_bytes: int = Field(6 * 1024 * 1024, alias="COURIER_MAX_BODY_BYTES", gt=0)
    max_records_per_request: int = Field(10_000, alias="COURIER_MAX_RECORDS_PER_REQUEST", gt=0)


@cache
def get_settings() -> Settings:
    return Settings.model_validate(dict(os.environ))


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
