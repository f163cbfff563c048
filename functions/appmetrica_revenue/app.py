"""appmetrica_revenue: purchases to POST /logs/v1/import/revenue.csv, from all three doors."""

from typing import Any

from courier.destinations.appmetrica.revenue import APPMETRICA_REVENUE
from courier.doors import handle
from courier.doors.entry import check_at_cold_start

check_at_cold_start(APPMETRICA_REVENUE)  # in Lambda: stops here, naming it, when a required setting is missing


def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return handle(event, context, APPMETRICA_REVENUE)
