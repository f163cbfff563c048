"""altcraft_profile_delete: profiles deleted, one a request, through POST /api/v1.1/profiles/delete, from all
three doors."""

from typing import Any

from courier.destinations.altcraft.uploads import ALTCRAFT_PROFILE_DELETE
from courier.doors import handle
from courier.doors.entry import check_at_cold_start

check_at_cold_start(ALTCRAFT_PROFILE_DELETE)  # in Lambda: stops here, naming it, when a required setting is missing


def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return handle(event, context, ALTCRAFT_PROFILE_DELETE)
