"""altcraft_profile_import: profiles upserted through POST /api/v1.1/profiles/import(_batch), from all three doors."""

from typing import Any

from courier.destinations.altcraft.profiles import ALTCRAFT_PROFILE_IMPORT
from courier.doors import handle
from courier.doors.entry import check_at_cold_start

check_at_cold_start(ALTCRAFT_PROFILE_IMPORT)  # in Lambda: stops here, naming it, when a required setting is missing


def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return handle(event, context, ALTCRAFT_PROFILE_IMPORT)
