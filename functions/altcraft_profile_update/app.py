"""altcraft_profile_update: existing profiles updated through POST /api/v1.1/profiles/update(_batch)."""

from typing import Any

from courier.destinations.altcraft.profiles import ALTCRAFT_PROFILE_UPDATE
from courier.doors import handle


def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return handle(event, context, ALTCRAFT_PROFILE_UPDATE)
