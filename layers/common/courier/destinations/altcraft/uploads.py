"""The Altcraft upload methods beside import, update and import + trigger: profiles added without matching, a
profile enrolled in a scenario, a profile deleted, a subscription set, a goal registered. Each is one endpoint."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from courier.destinations.altcraft import unbatched
from courier.destinations.altcraft.batch import SINGLE
from courier.destinations.altcraft.fields import (
    ADD_RULES,
    DELETE_RULES,
    GOAL_RULES,
    SUBSCRIPTION_RULES,
    WORKFLOW_RULES,
)
from courier.destinations.altcraft.methods import (
    ADD,
    GOAL_REGISTER,
    PROFILE_DELETE,
    SUBSCRIPTION_SET,
    WORKFLOW_START,
    Method,
)
from courier.destinations.altcraft.profiles import altcraft_destination
from courier.model import Destination, Preparer
from courier.settings import Settings


def _alone(body: dict[str, Any]) -> str:
    return SINGLE


def unbatched_destination(
    method: Method,
    name: str,
    route: str,
    make_preparer: Callable[[Settings, float], Preparer],
    rules: tuple[str, ...],
    summary: str,
) -> Destination:
    """An endpoint whose method has no batch form: every record is one request, checked as the method's body."""
    return altcraft_destination(
        method, name, route, rules, summary, make_preparer=make_preparer, batch_key=_alone, field_prefixes=()
    )


ALTCRAFT_PROFILE_ADD = altcraft_destination(
    ADD,
    "altcraft_profile_add",
    "/altcraft/profiles/add",
    ADD_RULES,
    "New profiles added to Altcraft without looking for existing ones (a fast first load): "
    "POST /api/v1.1/profiles/add and add_batch",
)
ALTCRAFT_WORKFLOW_START = altcraft_destination(
    WORKFLOW_START,
    "altcraft_workflow_start",
    "/altcraft/workflows/import_and_start",
    WORKFLOW_RULES,
    "Profiles imported into Altcraft and enrolled in an automation scenario (onboarding, win-back): "
    "POST /api/v1.1/workflows/import_and_start and import_and_start_batch",
)
ALTCRAFT_PROFILE_DELETE = unbatched_destination(
    PROFILE_DELETE,
    "altcraft_profile_delete",
    "/altcraft/profiles/delete",
    unbatched.make_delete_preparer,
    DELETE_RULES,
    "Altcraft profiles deleted on request (an account closed, the right to be forgotten): "
    "POST /api/v1.1/profiles/delete, one profile a request",
)
ALTCRAFT_SUBSCRIPTION_SET = unbatched_destination(
    SUBSCRIPTION_SET,
    "altcraft_subscription_set",
    "/altcraft/subscriptions/set",
    unbatched.make_subscription_preparer,
    SUBSCRIPTION_RULES,
    "Opt-ins and opt-outs per channel set on known Altcraft profiles: POST /api/v1.1/subscriptions/set",
)
ALTCRAFT_GOAL_REGISTER = unbatched_destination(
    GOAL_REGISTER,
    "altcraft_goal_register",
    "/altcraft/goals/register",
    unbatched.make_goal_preparer,
    GOAL_RULES,
    "Conversions and other goals (with their values) registered for Altcraft profiles: POST /api/v1.1/goals/register",
)
