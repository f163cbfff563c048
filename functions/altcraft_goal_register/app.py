"""altcraft_goal_register: goals registered, one a request, through POST /api/v1.1/goals/register, from all
three doors."""

from typing import Any

from courier.destinations.altcraft.uploads import ALTCRAFT_GOAL_REGISTER
from courier.doors import handle
from courier.doors.entry import check_at_cold_start

check_at_cold_start(ALTCRAFT_GOAL_REGISTER)  # in Lambda: stops here, naming it, when a required setting is missing


def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return handle(event, context, ALTCRAFT_GOAL_REGISTER)
