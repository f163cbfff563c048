"""appmetrica_ecommerce: e-commerce events to POST /logs/v1/import/ecommerce.csv, from all three doors."""

from typing import Any

from courier.destinations.appmetrica.ecommerce import APPMETRICA_ECOMMERCE
from courier.doors import handle
from courier.doors.entry import check_at_cold_start

check_at_cold_start(APPMETRICA_ECOMMERCE)  # in Lambda: stops here, naming it, when a required setting is missing


def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return handle(event, context, APPMETRICA_ECOMMERCE)
