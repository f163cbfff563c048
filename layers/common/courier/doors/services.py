"""What a function talks to, built once per container and swappable in tests."""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from courier.delivery.driver import Budget
from courier.delivery.ledger import DynamoLedger, Ledger, MemoryLedger
from courier.model import Destination, Sender
from courier.settings import Settings, forget_secrets, get_settings

if TYPE_CHECKING:
    from courier.mappings.store import MappingStore

SAFETY_SECONDS = 10.0  # stop sending this long before Lambda's timeout, to write the report and answer
LOCAL_SECONDS = 900.0  # the time a call without a Lambda context has (the command line)


@dataclass
class Services:
    settings: Settings
    s3: Any
    sqs: Any
    sender: Sender
    dynamodb: Any = None
    mapping_stores: dict[str, MappingStore] = field(default_factory=dict)

    def ledger(self, budget: Budget | None = None) -> Ledger:
        """What was sent: the table when IDEMPOTENCY_TABLE is set (exactly once across invocations), else an
        in-memory ledger for this invocation only. Its retries stop in time for the invocation to answer."""
        table = self.settings.idempotency_table
        if not table:
            return MemoryLedger()
        if self.dynamodb is None:
            # one attempt a call: the ledger retries on its own, never past its give-up time (botocore's back-off
            # would wait up to a second more inside one call, past it, and Lambda kills the process)
            self.dynamodb = aws_client("dynamodb", retries=0, validate=False)
        return DynamoLedger(table, self.dynamodb, give_up_at=budget.ledger_end() if budget else math.inf)

    def mappings(self, destination: Destination) -> MappingStore:
        """The function's mappings in the data bucket, kept for the container's life."""
        store = self.mapping_stores.get(destination.name)
        if store is None:
            from courier.mappings.store import MappingStore  # YAML and JMESPath load only where a mapping is named

            store = MappingStore(self.s3, self.settings.data_bucket, destination)
            self.mapping_stores[destination.name] = store
        return store


_services: dict[str, Services] = {}


def services_for(destination: Destination) -> Services:
    services = _services.get(destination.name)
    if services is None:
        settings = get_settings()
        _warn_if_unsigned(settings)
        services = Services(settings, aws_client("s3"), aws_client("sqs"), destination.make_sender(settings))
        _services[destination.name] = services
    return services


def _warn_if_unsigned(settings: Settings) -> None:
    """At a container's start: a stack whose webhooks are not signed says so."""
    from courier.doors.signatures import SIGNING_OFF, scheme_of
    from courier.observability import logger

    if scheme_of(settings) is None:
        logger.warning(SIGNING_OFF, extra={"webhook_signing": settings.webhook_signing or "unset"})


def aws_client(service: str, retries: int = 3, validate: bool = True) -> Any:
    """A client whose every wait is short: a stalled read fails in seconds and is retried (files resume where they
    stopped) instead of holding the invocation past its time with botocore's 60-second default. `validate=False`
    skips botocore's check of the parameters against the API model, for calls whose parameters Courier builds itself
    (measured at about 10 ms for 100 ledger items)."""
    import boto3  # the runtime's; AWS_ENDPOINT_URL points it at the sandbox when set
    from botocore.config import Config

    retrying: Any = {"mode": "standard", "max_attempts": retries}  # botocore's max_attempts: retries after the first
    config = Config(connect_timeout=3, read_timeout=5, retries=retrying, parameter_validation=validate)
    return boto3.client(service, config=config)


def use_services(destination: Destination, services: Services) -> None:
    """Injects clients (tests, the sandbox, the command line)."""
    _services[destination.name] = services


def reset_services() -> None:
    """Forgets what a container holds: its clients, settings and secrets."""
    _services.clear()
    get_settings.cache_clear()
    forget_secrets()


def budget_of(context: Any, at_most: float | None = None) -> Budget:
    """The invocation's time, from the Lambda context: sending stops a safety margin before the platform's end
    (and `at_most` seconds from now, when given)."""
    remaining = context.get_remaining_time_in_millis() / 1000 if context is not None else LOCAL_SECONDS
    now = time.time()
    deadline = now + remaining - min(SAFETY_SECONDS, remaining / 4)
    if at_most is not None:
        deadline = min(deadline, now + at_most)
    return Budget(deadline=deadline, hard_end=now + remaining)
