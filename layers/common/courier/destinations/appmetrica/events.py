"""POST /logs/v1/import/events.csv: the fields of the seed, their rules, and the destination declaration."""

from __future__ import annotations

from courier.destinations.appmetrica import fields as f
from courier.destinations.appmetrica.client import by_application, post_api_sender
from courier.destinations.appmetrica.csv_batch import CsvBatch
from courier.model import Destination, Field, Preparer
from courier.settings import Settings

EVENT_ROW = f.RowFormat(
    (
        (Field("event_name", "text", "the event's name, as the app's reports show it", required=True), f.text),
        (Field("event_json", "JSON object", "the event's attributes (compact JSON text in the CSV)"), f.json_object),
    )
)
EVENT_FIELDS = EVENT_ROW.names


def make_event_preparer(settings: Settings, now: float) -> Preparer:
    return EVENT_ROW.preparer(settings, now)


APPMETRICA_EVENTS = Destination(
    name="appmetrica_events",
    route="/appmetrica/events",
    fields=EVENT_FIELDS,
    make_preparer=make_event_preparer,
    batch_key=by_application,
    new_batch=CsvBatch,
    make_sender=post_api_sender("/logs/v1/import/events.csv"),
    declared=EVENT_ROW.declared,
    rules=f.RULES,
    summary="Custom events of known users or devices, to the AppMetrica Post API's events.csv",
)
