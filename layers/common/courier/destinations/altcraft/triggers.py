"""Altcraft "import + trigger campaign launch": a profile imported (upsert), then a trigger campaign started for it
(docs/contracts/altcraft.md#trigger-launch).

Where `trigger_id` comes from: each record's own field, required. One function then serves every trigger campaign
(a new campaign needs no deployment), a CSV can carry a trigger_id column, and records for different campaigns never
share a request (trigger_id is batch-level). No stack-wide default: it would need a setting of its own, and one
trigger per function is what a per-record field already allows without one."""

from __future__ import annotations

from courier.destinations.altcraft.fields import IMPORT_TRIGGER_RULES
from courier.destinations.altcraft.methods import IMPORT_AND_START
from courier.destinations.altcraft.profiles import altcraft_destination

ALTCRAFT_IMPORT_TRIGGER = altcraft_destination(
    IMPORT_AND_START,
    "altcraft_import_trigger",
    "/altcraft/import_trigger",
    IMPORT_TRIGGER_RULES,
    "Profiles imported (upsert) into Altcraft, then a trigger campaign started for each: "
    "POST /api/v1.1/campaigns/triggers/import_and_start and import_and_start_batch",
)
