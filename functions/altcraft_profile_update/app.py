"""altcraft_profile_update: existing profiles updated through POST /api/v1.1/profiles/update(_batch)."""

from typing import Any

from courier.destinations.altcraft.profiles import ALTCRAFT_PROFILE_UPDATE
from courier.doors import handle
from courier.doors.entry import check_at_cold_start

check_at_cold_start(ALTCRAFT_PROFILE_UPDATE)  # in Lambda: stops here, naming it, when a required setting is missing


def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return handle(event, context, ALTCRAFT_PROFILE_UPDATE)
