"""appmetrica_ecommerce: e-commerce events to POST /logs/v1/import/ecommerce.csv, from all three doors."""

from typing import Any

from courier.destinations.appmetrica.ecommerce import APPMETRICA_ECOMMERCE
from courier.doors import handle


def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return handle(event, context, APPMETRICA_ECOMMERCE)
