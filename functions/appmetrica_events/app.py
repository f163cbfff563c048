"""appmetrica_events: events to POST /logs/v1/import/events.csv, from all three doors."""

from typing import Any

from courier.destinations.appmetrica.events import APPMETRICA_EVENTS
from courier.doors import handle


def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return handle(event, context, APPMETRICA_EVENTS)
