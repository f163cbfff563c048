"""Altcraft profile import (upsert) and profile update (existing profiles only): the two destination endpoints."""

from __future__ import annotations

from courier.destinations.altcraft.batch import AltcraftBatch, batch_key
from courier.destinations.altcraft.client import altcraft_sender
from courier.destinations.altcraft.records import RECORD_FIELDS, make_altcraft_preparer
from courier.model import Destination


def _altcraft(name: str, route: str, update: bool) -> Destination:
    return Destination(
        name=name,
        route=route,
        fields=RECORD_FIELDS,
        make_preparer=make_altcraft_preparer(update),
        batch_key=batch_key,
        new_batch=AltcraftBatch,
        make_sender=altcraft_sender(update),
        field_prefixes=("",),  # a flat record (a CSV row) makes every column a profile field
        result_id="profile_id",
    )


ALTCRAFT_PROFILE_IMPORT = _altcraft("altcraft_profile_import", "/altcraft/profiles/import", update=False)
ALTCRAFT_PROFILE_UPDATE = _altcraft("altcraft_profile_update", "/altcraft/profiles/update", update=True)
