"""altcraft_profile_import: profiles upserted through POST /api/v1.1/profiles/import(_batch), from all three doors."""

from typing import Any

from courier.destinations.altcraft.profiles import ALTCRAFT_PROFILE_IMPORT
from courier.doors import handle


def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return handle(event, context, ALTCRAFT_PROFILE_IMPORT)
