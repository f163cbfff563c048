"""appmetrica_revenue: purchases to POST /logs/v1/import/revenue.csv, from all three doors."""

from typing import Any

from courier.destinations.appmetrica.revenue import APPMETRICA_REVENUE
from courier.doors import handle


def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return handle(event, context, APPMETRICA_REVENUE)
