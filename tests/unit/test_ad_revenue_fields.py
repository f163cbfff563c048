"""AppMetrica ad revenue records (POST /logs/v1/import/adrevenue.csv): the field rules, one behaviour per test."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from courier.destinations.appmetrica import fields as f
from courier.destinations.appmetrica.ad_revenue import AD_TYPES, APPMETRICA_AD_REVENUE
from courier.model import Preparer
from courier.settings import Settings

NOW = datetime(2026, 11, 22, 12, 0, tzinfo=UTC).timestamp()
HOUR_AGO = int(NOW) - 3600
SECRET = "user@example.com"  # stands for personal data: no reason may repeat it


def preparer(default_application_id: str = "") -> Preparer:
    return APPMETRICA_AD_REVENUE.make_preparer(Settings(APPMETRICA_APPLICATION_ID=default_application_id), NOW)


def impression(**fields: Any) -> dict[str, Any]:
    return {
        "application_id": "1234567890",
        "profile_id": "user-1",
        "event_timestamp": str(HOUR_AGO),
        "revenue": "0.0001",
        "currency": "usd",
        "ad_type": "banner",
        **fields,
    }


def refused(record: dict[str, Any]) -> list[str]:
    fields, errors = preparer()(record)
    assert fields is None
    return errors


def test_a_csv_row_with_every_ad_field_is_forwarded_unchanged() -> None:
    # Given a CSV row with the network, unit and placement fields and a payload
    record = impression(
        ad_network="some_network_name",
        ad_unit_id="0987654321",
        ad_unit_name="some_unit_name",
        ad_placement_id="12345000",
        ad_placement_name="some_placement_name",
        precision="estimated",
        payload='{"key":"value_1"}',
    )
    # When it is prepared
    fields, errors = preparer()(record)
    # Then it is sent as written (the unit id keeps its leading zero), in the row's order
    assert errors == []
    assert fields == record
    assert list(fields) == list(record)


def test_json_values_become_the_csv_text() -> None:
    # Given a JSON record with a numeric revenue, numeric ids and a payload object
    record = impression(revenue=1.5e-3, ad_unit_id=42, ad_placement_id=12345000, payload={"key": "value_1"})
    # When it is prepared
    fields, errors = preparer()(record)
    # Then each is text: the revenue in plain notation, the payload compact JSON
    assert errors == []
    assert fields is not None
    assert (fields["revenue"], fields["ad_unit_id"], fields["ad_placement_id"]) == ("0.0015", "42", "12345000")
    assert fields["payload"] == '{"key":"value_1"}'


@pytest.mark.parametrize("ad_type", AD_TYPES)
def test_each_documented_ad_type_is_accepted(ad_type: str) -> None:
    fields, errors = preparer()(impression(ad_type=ad_type))
    assert errors == []
    assert fields is not None
    assert fields["ad_type"] == ad_type


@pytest.mark.parametrize("bad", ["video", "Banner", "BANNER", "", "app_open"])
def test_other_ad_types_are_refused(bad: str) -> None:
    # Given an ad type outside the six documented ones (or an empty one, which counts as absent)
    errors = refused(impression(ad_type=bad))
    # Then the reason lists the six, or says the field is required
    expected = "ad_type: is required" if bad == "" else "ad_type: must be one of: " + ", ".join(AD_TYPES)
    assert errors == [expected]


@pytest.mark.parametrize(
    ("given", "sent"), [("0.0001", "0.0001"), ("12.5", "12.5"), (3, "3"), (0.25, "0.25"), ("1E-8", "0.00000001")]
)
def test_revenue_is_a_decimal_10_8(given: Any, sent: str) -> None:
    fields, errors = preparer()(impression(revenue=given))
    assert errors == []
    assert fields is not None
    assert fields["revenue"] == sent


@pytest.mark.parametrize(
    ("bad", "reason"),
    [
        ("-0.5", "revenue: must not be negative"),
        (-1, "revenue: must not be negative"),
        ("12345678901", "revenue: has more than 10 digits before the decimal point (decimal(10,8))"),
        ("0.000000001", "revenue: has more than 8 digits after the decimal point (decimal(10,8))"),
        ("free", "revenue: must be a decimal number such as 12.5"),
    ],
)
def test_revenue_negative_or_outside_decimal_10_8_is_refused(bad: Any, reason: str) -> None:
    assert refused(impression(revenue=bad)) == [reason]


@pytest.mark.parametrize(
    ("bad", "reason"),
    [
        ("SSP", "currency: is a currency AppMetrica does not support (see its list of currencies)"),
        ("dollars", "currency: must be a three-letter currency code from AppMetrica's list, such as USD or RUB"),
    ],
)
def test_currency_must_be_a_listed_code(bad: str, reason: str) -> None:
    assert refused(impression(currency=bad)) == [reason]


def test_required_fields_are_named_when_missing() -> None:
    # Given a record with only the ids and the time
    record = {"application_id": "1", "profile_id": "u", "event_timestamp": str(HOUR_AGO)}
    # When it is prepared
    errors = refused(record)
    # Then revenue, currency and ad_type are named
    assert errors == ["revenue: is required", "currency: is required", "ad_type: is required"]


@pytest.mark.parametrize("precision", ["publisher_defined", "estimated", "precise", "undisclosed"])
def test_precision_is_an_open_set(precision: str) -> None:
    # Given a precision the documentation gives as an example, or another one
    fields, errors = preparer()(impression(precision=precision))
    # Then it is sent as written
    assert errors == []
    assert fields is not None
    assert fields["precision"] == precision


@pytest.mark.parametrize("name", ["ad_network", "ad_unit_id", "ad_unit_name", "ad_placement_id", "ad_placement_name"])
def test_network_unit_and_placement_fields_are_text(name: str) -> None:
    # Given text, and then a value that is not text
    fields, errors = preparer()(impression(**{name: "00 x/y"}))
    # Then text is sent as written, an object is refused
    assert errors == []
    assert fields is not None
    assert fields[name] == "00 x/y"
    assert refused(impression(**{name: {"id": 1}})) == [f"{name}: must be text, not dict"]


def test_payload_must_be_a_json_object() -> None:
    assert refused(impression(payload='"text"')) == ["payload: must be a JSON object"]


def test_the_documented_sample_with_both_ids_is_refused() -> None:
    # Given the documentation's record, which sends profile_id and appmetrica_device_id
    errors = refused(impression(appmetrica_device_id="1757762239877245682"))
    # Then the one-id rule refuses it, as for every Post API row
    assert errors == [f.BOTH_IDS]


def test_the_shared_rules_apply() -> None:
    assert refused({**impression(), "profile_id": ""}) == [f.NO_ID]
    too_old = refused(impression(event_timestamp=int(NOW) - 15 * 24 * 3600))
    assert len(too_old) == 1
    assert too_old[0].startswith("event_timestamp: is older than the Post API's 14-day window")
    assert refused(impression(event_timestamp=int(NOW) + 3 * 24 * 3600)) == [
        "event_timestamp: is in the future (latest accepted now: 2026-11-23T12:00:00Z)"
    ]
    assert refused(impression(appmetrica_device_id=str(2**64), profile_id="")) == [
        "appmetrica_device_id: must be an unsigned 64-bit number"
    ]
    fields, errors = preparer("77")({k: v for k, v in impression().items() if k != "application_id"})
    assert errors == []
    assert fields is not None
    assert next(iter(fields.items())) == ("application_id", "77")


def test_no_reason_repeats_the_value() -> None:
    # Given a value standing for personal data in every field that can refuse it
    record = impression(
        revenue=SECRET,
        currency=SECRET,
        ad_type=SECRET,
        payload=SECRET,
        profile_id={"email": SECRET},
        event_timestamp=SECRET,
        mcc=SECRET,
    )
    # When it is prepared
    errors = refused(record)
    # Then every field is named, and no reason quotes the value
    assert len(errors) == 7
    assert not [error for error in errors if SECRET in error]


def test_the_declaration_lists_every_field_once() -> None:
    names = [field.name for field in APPMETRICA_AD_REVENUE.declared]
    assert len(names) == len(set(names)) == 32  # the request format's 33 parameters but post_api_key
    assert set(names) == APPMETRICA_AD_REVENUE.fields
    required = {field.name for field in APPMETRICA_AD_REVENUE.declared if field.required}
    assert required == {"application_id", "event_timestamp", "revenue", "currency", "ad_type"}
    assert all(field.description and field.kind for field in APPMETRICA_AD_REVENUE.declared)
    assert APPMETRICA_AD_REVENUE.rules[: len(f.RULES)] == f.RULES
    assert (APPMETRICA_AD_REVENUE.name, APPMETRICA_AD_REVENUE.route) == (
        "appmetrica_ad_revenue",
        "/appmetrica/ad_revenue",
    )
    assert APPMETRICA_AD_REVENUE.summary
