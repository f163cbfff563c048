"""altcraft_workflow_start: profiles imported and enrolled in an automation scenario, through POST
/api/v1.1/workflows/import_and_start(_batch), from all three doors."""

from typing import Any

from courier.destinations.altcraft.uploads import ALTCRAFT_WORKFLOW_START
from courier.doors import handle
from courier.doors.entry import check_at_cold_start

check_at_cold_start(ALTCRAFT_WORKFLOW_START)  # in Lambda: stops here, naming it, when a required setting is missing


def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return handle(event, context, ALTCRAFT_WORKFLOW_START)
