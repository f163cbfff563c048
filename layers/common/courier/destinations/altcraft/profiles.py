"""Altcraft profile import (upsert) and profile update (existing profiles only): the two profile endpoints."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from courier.destinations.altcraft.batch import batch_keyer, new_batch
from courier.destinations.altcraft.client import altcraft_sender
from courier.destinations.altcraft.fields import IMPORT_RULES, UPDATE_RULES, declared
from courier.destinations.altcraft.methods import IMPORT, UPDATE, Method
from courier.destinations.altcraft.records import make_altcraft_preparer, record_fields
from courier.destinations.apis import ALTCRAFT
from courier.model import Destination, Preparer
from courier.settings import Settings


def altcraft_destination(
    method: Method,
    name: str,
    route: str,
    rules: tuple[str, ...],
    summary: str,
    *,
    make_preparer: Callable[[Settings, float], Preparer] | None = None,
    batch_key: Callable[[dict[str, Any]], str] | None = None,
    field_prefixes: tuple[str, ...] = ("",),  # a flat record (a CSV row) makes every column a profile field
) -> Destination:
    """An Altcraft endpoint: by default the method's own record preparer and batch key; a method with no batch form
    (uploads.unbatched_destination) gives its own, and no field prefixes."""
    return Destination(
        name=name,
        route=route,
        fields=record_fields(method),
        make_preparer=make_preparer or make_altcraft_preparer(method),
        batch_key=batch_key or batch_keyer(method),
        new_batch=new_batch(method),
        make_sender=altcraft_sender(method),
        field_prefixes=field_prefixes,
        result_id="profile_id",
        declared=declared(method),
        rules=rules,
        summary=summary,
        api=ALTCRAFT,
    )


ALTCRAFT_PROFILE_IMPORT = altcraft_destination(
    IMPORT,
    "altcraft_profile_import",
    "/altcraft/profiles/import",
    IMPORT_RULES,
    "Profiles created or updated (upsert) in Altcraft: POST /api/v1.1/profiles/import and import_batch",
)
ALTCRAFT_PROFILE_UPDATE = altcraft_destination(
    UPDATE,
    "altcraft_profile_update",
    "/altcraft/profiles/update",
    UPDATE_RULES,
    "Existing Altcraft profiles updated, with update functions: POST /api/v1.1/profiles/update and update_batch",
)
