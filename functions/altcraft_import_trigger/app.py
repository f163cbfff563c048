"""altcraft_import_trigger: profiles imported, then a trigger campaign started, through POST
/api/v1.1/campaigns/triggers/import_and_start(_batch), from all three doors."""

from typing import Any

from courier.destinations.altcraft.triggers import ALTCRAFT_IMPORT_TRIGGER
from courier.doors import handle


def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return handle(event, context, ALTCRAFT_IMPORT_TRIGGER)
