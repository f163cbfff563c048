"""appmetrica_profiles: profile attributes (first-party data hashed) to POST /logs/v1/import/profiles.csv."""

from typing import Any

from courier.destinations.appmetrica.profiles import APPMETRICA_PROFILES
from courier.doors import handle
from courier.doors.entry import check_at_cold_start

check_at_cold_start(APPMETRICA_PROFILES)  # in Lambda: stops here, naming it, when a required setting is missing


def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return handle(event, context, APPMETRICA_PROFILES)
