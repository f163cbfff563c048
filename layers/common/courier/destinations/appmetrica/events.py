"""POST /logs/v1/import/events.csv: the fields of the seed, their rules, and the destination declaration."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from courier.destinations.appmetrica import fields as f
from courier.destinations.appmetrica.client import by_application, post_api_sender
from courier.destinations.appmetrica.csv_batch import CsvBatch
from courier.model import Destination, Prepared, Preparer, Record
from courier.settings import Settings

COMMON_FIELDS: dict[str, Callable[[Any], str]] = {
    "application_id": f.application_id,
    "profile_id": f.text,
    "appmetrica_device_id": f.device_id,
    "session_type": f.one_of("foreground", "background"),
    "ios_ifa": f.text,
    "ios_ifv": f.text,
    "google_aid": f.text,
    "windows_aid": f.text,
    "os_name": f.text,
    "os_version": f.text,
    "device_manufacturer": f.text,
    "device_model": f.text,
    "device_type": f.text,
    "device_locale": f.text,
    "app_version_name": f.text,
    "app_package_name": f.text,
    "connection_type": f.text,
    "operator_name": f.text,
    "mcc": f.whole_number,
    "mnc": f.whole_number,
    "device_ipv6": f.text,
}
_ID_FIELDS = frozenset(["profile_id", "appmetrica_device_id"])
EVENT_FIELDS = frozenset([*COMMON_FIELDS, "event_name", "event_timestamp", "event_json"])


def make_event_preparer(settings: Settings, now: float) -> Preparer:
    conversions = {
        **COMMON_FIELDS,
        "event_name": f.text,
        "event_json": f.json_object,
        "event_timestamp": f.event_timestamp(now),
    }
    default_application_id = settings.appmetrica_application_id

    def prepare(record: Record) -> Prepared:
        out, errors, failed = f.convert_fields(record, conversions, f.defaults(record, default_application_id))
        f.require_application_id(out, failed, errors)
        has_profile, has_device = "profile_id" in out, "appmetrica_device_id" in out
        if has_profile and has_device:
            errors.append("profile_id: send exactly one of profile_id and appmetrica_device_id, not both")
        elif not (has_profile or has_device or failed & _ID_FIELDS):
            errors.append("profile_id: one of profile_id and appmetrica_device_id is required")
        for required in ("event_name", "event_timestamp"):
            if required not in out and required not in failed:
                errors.append(f"{required}: is required")
        return (None, errors) if errors else (out, errors)

    return prepare


APPMETRICA_EVENTS = Destination(
    name="appmetrica_events",
    route="/appmetrica/events",
    fields=EVENT_FIELDS,
    make_preparer=make_event_preparer,
    batch_key=by_application,
    new_batch=CsvBatch,
    make_sender=post_api_sender("/logs/v1/import/events.csv"),
)
