"""POST /logs/v1/import/events.csv: the fields of the seed, their rules, and the destination declaration."""

from __future__ import annotations

from courier.destinations.appmetrica import fields as f
from courier.destinations.appmetrica.csv_endpoint import csv_endpoint
from courier.model import Field, RowPreparer
from courier.settings import Settings

EVENT_ROW = f.RowFormat(
    (
        (Field("event_name", "text", "the event's name, as the app's reports show it", required=True), f.text),
        (Field("event_json", "JSON object", "the event's attributes (compact JSON text in the CSV)"), f.json_object),
    )
)


def make_event_preparer(settings: Settings, now: float) -> RowPreparer:
    return EVENT_ROW.preparer(settings, now)


APPMETRICA_EVENTS = csv_endpoint(
    "appmetrica_events",
    "/logs/v1/import/events.csv",
    EVENT_ROW,
    "Custom events of known users or devices, to the AppMetrica Post API's events.csv",
)
