"""altcraft_import_trigger: profiles imported, then a trigger campaign started, through POST
/api/v1.1/campaigns/triggers/import_and_start(_batch), from all three doors."""

from typing import Any

from courier.destinations.altcraft.triggers import ALTCRAFT_IMPORT_TRIGGER
from courier.doors import handle
from courier.doors.entry import check_at_cold_start

check_at_cold_start(ALTCRAFT_IMPORT_TRIGGER)  # in Lambda: stops here, naming it, when a required setting is missing


def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return handle(event, context, ALTCRAFT_IMPORT_TRIGGER)
