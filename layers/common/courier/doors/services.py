"""What a function talks to, built once per container and swappable in tests."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from courier.delivery.ledger import DynamoLedger, Ledger, NoLedger
from courier.destinations import Destination, Sender
from courier.settings import Settings, get_settings

SAFETY_SECONDS = 10.0  # stop sending this long before Lambda's timeout, to write the report and answer


@dataclass
class Services:
    settings: Settings
    s3: Any
    sqs: Any
    sender: Sender
    dynamodb: Any = None

    def ledger(self, context: Any) -> Ledger:
        """The record of work already done, for this invocation (exactly-once needs IDEMPOTENCY_TABLE)."""
        table = self.settings.idempotency_table
        if not table:
            return NoLedger()
        if self.dynamodb is None:
            import boto3

            self.dynamodb = boto3.client("dynamodb")
        return DynamoLedger(table, self.dynamodb, context)


_services: dict[str, Services] = {}


def services_for(destination: Destination) -> Services:
    services = _services.get(destination.name)
    if services is None:
        import boto3  # the runtime's; AWS_ENDPOINT_URL points it at the sandbox when set

        settings = get_settings()
        services = Services(settings, boto3.client("s3"), boto3.client("sqs"), destination.make_sender(settings))
        _services[destination.name] = services
    return services


def use_services(destination: Destination, services: Services) -> None:
    """Injects clients (tests, the sandbox, the command line)."""
    _services[destination.name] = services


def reset_services() -> None:
    _services.clear()
    get_settings.cache_clear()


def deadline_of(context: Any) -> float:
    """Epoch seconds by which sending must stop, from the Lambda context's remaining time."""
    remaining = context.get_remaining_time_in_millis() / 1000 if context is not None else 900.0
    return time.time() + remaining - min(SAFETY_SECONDS, remaining / 4)
