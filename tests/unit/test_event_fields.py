"""AppMetrica event records: the field rules of the Post API, one behaviour per test."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, cast

import pytest

from courier.destinations.appmetrica.events import make_event_preparer
from courier.model import Preparer
from courier.settings import Settings

NOW = datetime(2026, 11, 22, 12, 0, tzinfo=UTC).timestamp()
HOUR_AGO = int(NOW) - 3600


def preparer(default_application_id: str = "") -> Preparer:
    settings = Settings(APPMETRICA_APPLICATION_ID=default_application_id)
    return cast(Preparer, make_event_preparer(settings, NOW))  # a dict record gives a dict


def event(**fields: Any) -> dict[str, Any]:
    return {
        "application_id": "1111",
        "profile_id": "user-1",
        "event_name": "purchase",
        "event_timestamp": HOUR_AGO,
        **fields,
    }


def test_valid_json_event_becomes_csv_text_fields() -> None:
    # Given a JSON event with numbers and an event_json object
    record = event(event_json={"sku": "A-1", "qty": 2, "city": "Москва"}, mcc=250, session_type="foreground")
    # When it is prepared
    fields, errors = preparer()(record)
    # Then every field is text, the object is compact JSON, and the input order is kept
    assert errors == []
    assert fields == {
        "application_id": "1111",
        "profile_id": "user-1",
        "event_name": "purchase",
        "event_timestamp": str(HOUR_AGO),
        "event_json": '{"sku":"A-1","qty":2,"city":"Москва"}',
        "mcc": "250",
        "session_type": "foreground",
    }


def test_csv_text_is_forwarded_unchanged() -> None:
    record = {
        "application_id": "1111",
        "appmetrica_device_id": "18446744073709551615",
        "event_name": "open",
        "event_timestamp": str(HOUR_AGO),
        "event_json": '{"a": [1, 2]}',
    }
    fields, errors = preparer()(record)
    assert errors == []
    assert fields == record


@pytest.mark.parametrize(
    ("iso", "expected"),
    [
        ("2026-11-22T10:30:00Z", datetime(2026, 11, 22, 10, 30, tzinfo=UTC)),
        ("2026-11-22T13:30:00+03:00", datetime(2026, 11, 22, 10, 30, tzinfo=UTC)),
        ("2026-11-22T10:30:00", datetime(2026, 11, 22, 10, 30, tzinfo=UTC)),  # no offset: UTC
        ("2026-11-22 10:30:00.750Z", datetime(2026, 11, 22, 10, 30, tzinfo=UTC)),
    ],
)
def test_iso_times_become_unix_seconds(iso: str, expected: datetime) -> None:
    fields, errors = preparer()(event(event_timestamp=iso))
    assert errors == []
    assert fields is not None
    assert fields["event_timestamp"] == str(int(expected.timestamp()))


def test_milliseconds_are_refused_with_a_clear_reason() -> None:
    fields, errors = preparer()(event(event_timestamp=HOUR_AGO * 1000))
    assert fields is None
    assert errors == ["event_timestamp: looks like milliseconds; the Post API takes Unix seconds (divide by 1000)"]


def test_events_older_than_14_days_are_refused_not_sent_to_be_dropped() -> None:
    fields, errors = preparer()(event(event_timestamp=int(NOW) - 15 * 24 * 3600))
    assert fields is None
    assert len(errors) == 1
    assert errors[0].startswith("event_timestamp: is older than the Post API's 14-day window")
    assert "2026-11-08T12:00:00Z" in errors[0]


def test_an_event_just_inside_the_window_is_accepted() -> None:
    fields, errors = preparer()(event(event_timestamp=int(NOW) - 14 * 24 * 3600 + 60))
    assert errors == []
    assert fields is not None


def test_events_far_in_the_future_are_refused() -> None:
    _, errors = preparer()(event(event_timestamp=int(NOW) + 3 * 24 * 3600))
    assert errors == ["event_timestamp: is in the future (latest accepted now: 2026-11-23T12:00:00Z)"]


@pytest.mark.parametrize("bad", ["yesterday", "2026-13-01T00:00:00Z", True, 1.5, -5])
def test_unreadable_timestamps_are_refused(bad: Any) -> None:
    fields, errors = preparer()(event(event_timestamp=bad))
    assert fields is None
    assert len(errors) == 1
    assert errors[0].startswith("event_timestamp: ")


def test_exactly_one_identifier_is_required() -> None:
    _, both = preparer()(event(appmetrica_device_id="123"))
    _, neither = preparer()({"application_id": "1111", "event_name": "x", "event_timestamp": HOUR_AGO})
    assert both == ["profile_id: send exactly one of profile_id and appmetrica_device_id, not both"]
    assert neither == ["profile_id: one of profile_id and appmetrica_device_id is required"]


def test_an_empty_csv_cell_counts_as_absent() -> None:
    # Given a CSV row where the device id column exists but is empty
    fields, errors = preparer()({**event(), "appmetrica_device_id": "", "event_json": ""})
    # Then the row is valid and the empty cells are not sent
    assert errors == []
    assert fields is not None
    assert "appmetrica_device_id" not in fields
    assert "event_json" not in fields


def test_required_fields_are_named_when_missing_or_empty() -> None:
    _, errors = preparer()({"application_id": "1111", "profile_id": "u", "event_name": ""})
    assert errors == ["event_name: is required", "event_timestamp: is required"]


def test_application_id_defaults_from_configuration_and_comes_first() -> None:
    fields, errors = preparer("4242")({"profile_id": "u", "event_name": "x", "event_timestamp": HOUR_AGO})
    assert errors == []
    assert fields is not None
    assert next(iter(fields)) == "application_id"
    assert fields["application_id"] == "4242"


def test_application_id_is_required_without_a_default() -> None:
    _, errors = preparer()({"profile_id": "u", "event_name": "x", "event_timestamp": HOUR_AGO})
    assert errors == ["application_id: is required (or set APPMETRICA_APPLICATION_ID)"]


@pytest.mark.parametrize(
    ("field", "value", "reason"),
    [
        ("session_type", "Foreground", "session_type: must be one of: foreground, background"),
        ("event_json", "[1, 2]", "event_json: must be a JSON object"),
        ("event_json", "{not json", "event_json: is not valid JSON"),
        ("mcc", "25O", "mcc: must be a whole number"),
        ("mcc", "9" * 4000, "mcc: has more than 20 digits, more than any field holds"),
        ("mcc", 9 * 10**3999, "mcc: must be at most 65535"),
        ("mnc", 65536, "mnc: must be at most 65535"),
        (
            "application_id",
            2**32,
            "application_id: must be a positive number (the id from the app's settings in AppMetrica)",
        ),
        ("appmetrica_device_id", str(2**64), "appmetrica_device_id: must be an unsigned 64-bit number"),
        (
            "application_id",
            "0",
            "application_id: must be a positive number (the id from the app's settings in AppMetrica)",
        ),
        ("profile_id", {"nested": 1}, "profile_id: must be text, not dict"),
    ],
)
def test_field_rules_refuse_bad_values(field: str, value: Any, reason: str) -> None:
    fields, errors = preparer()(event(**{field: value}))
    assert fields is None
    assert errors == [reason]


def test_numbers_at_the_top_of_their_fields_pass() -> None:
    # Given the largest values the Logs API's columns hold (UInt16 mcc and mnc, UInt32 application id)
    fields, errors = preparer()(event(mcc="65535", mnc=0, application_id=2**32 - 1))
    assert errors == []
    assert fields is not None
    assert (fields["mcc"], fields["mnc"], fields["application_id"]) == ("65535", "0", str(2**32 - 1))


def test_unknown_fields_are_not_sent() -> None:
    fields, errors = preparer()(event(favourite_colour="blue"))
    assert errors == []
    assert fields is not None
    assert "favourite_colour" not in fields
