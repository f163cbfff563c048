"""appmetrica_ad_revenue: ad revenue to POST /logs/v1/import/adrevenue.csv, from all three doors."""

from typing import Any

from courier.destinations.appmetrica.ad_revenue import APPMETRICA_AD_REVENUE
from courier.doors import handle
from courier.doors.entry import check_at_cold_start

check_at_cold_start(APPMETRICA_AD_REVENUE)  # in Lambda: stops here, naming it, when a required setting is missing


def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return handle(event, context, APPMETRICA_AD_REVENUE)
