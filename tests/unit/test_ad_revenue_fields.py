"""AppMetrica ad revenue records (POST /logs/v1/import/adrevenue.csv): the field rules, one behaviour per test."""

from __future__ import annotations

from typing import Any

import pytest

from courier.destinations.appmetrica import fields as f
from courier.destinations.appmetrica.ad_revenue import AD_TYPES, APPMETRICA_AD_REVENUE
from tests.appmetrica_fields import HOUR_AGO, NOW, FieldRules, cases

SECRET = "user@example.com"  # stands for personal data: no reason may repeat it

AD_REVENUE = FieldRules(
    APPMETRICA_AD_REVENUE,
    {
        "application_id": "1234567890",
        "profile_id": "user-1",
        "event_timestamp": str(HOUR_AGO),
        "revenue": "0.0001",
        "currency": "usd",
        "ad_type": "banner",
    },
)
impression = AD_REVENUE.record
prepared = AD_REVENUE.prepared
refused = AD_REVENUE.refused


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
    fields = prepared(record)
    # Then it is sent as written (the unit id keeps its leading zero), in the row's order
    assert fields == record
    assert list(fields) == list(record)


def test_json_values_become_the_csv_text() -> None:
    # Given a JSON record with a numeric revenue, numeric ids and a payload object
    record = impression(revenue=1.5e-3, ad_unit_id=42, ad_placement_id=12345000, payload={"key": "value_1"})
    # When it is prepared
    fields = prepared(record)
    # Then each is text: the revenue in plain notation, the payload compact JSON
    assert (fields["revenue"], fields["ad_unit_id"], fields["ad_placement_id"]) == ("0.0015", "42", "12345000")
    assert fields["payload"] == '{"key":"value_1"}'


SENT = [
    # each of the six documented ad types
    *cases("ad_type", [(ad_type, ad_type) for ad_type in AD_TYPES]),
    # a revenue, as text or a JSON number: a decimal(10,8), in plain decimal notation
    *cases("revenue", [("0.0001", "0.0001"), ("12.5", "12.5"), (3, "3"), (0.25, "0.25"), ("1E-8", "0.00000001")]),
    # a precision the documentation gives as an example, or another one: an open set
    *cases("precision", [(p, p) for p in ["publisher_defined", "estimated", "precise", "undisclosed"]]),
]


@pytest.mark.parametrize(("name", "given", "sent"), SENT)
def test_ad_type_revenue_and_precision_are_sent_as_written_or_in_plain_notation(
    name: str, given: Any, sent: str
) -> None:
    # Given an ad type, a revenue or a precision the endpoint takes
    fields = prepared(impression(**{name: given}))
    # Then it is sent as written, a revenue in plain decimal notation
    assert fields[name] == sent


ONE_OF_THE_SIX = "ad_type: must be one of: " + ", ".join(AD_TYPES)
REFUSED = [
    # an ad type outside the six documented ones (or an empty one, which counts as absent): the reason lists the
    # six, or says the field is required
    *cases(
        "ad_type",
        [
            ("video", ONE_OF_THE_SIX),
            ("Banner", ONE_OF_THE_SIX),
            ("BANNER", ONE_OF_THE_SIX),
            ("", "ad_type: is required"),
            ("app_open", ONE_OF_THE_SIX),
        ],
    ),
    # a revenue that is negative or not a decimal(10,8)
    *cases(
        "revenue",
        [
            ("-0.5", "revenue: must not be negative"),
            (-1, "revenue: must not be negative"),
            ("12345678901", "revenue: has more than 10 digits before the decimal point (decimal(10,8))"),
            ("0.000000001", "revenue: has more than 8 digits after the decimal point (decimal(10,8))"),
            ("free", "revenue: must be a decimal number such as 12.5"),
        ],
    ),
    # a currency that is not a listed code
    *cases(
        "currency",
        [
            ("SSP", "currency: is a currency AppMetrica does not support (see its list of currencies)"),
            ("dollars", "currency: must be a three-letter currency code from AppMetrica's list, such as USD or RUB"),
        ],
    ),
]


@pytest.mark.parametrize(("name", "bad", "reason"), REFUSED)
def test_ad_type_revenue_and_currency_outside_their_rules_are_refused(name: str, bad: Any, reason: str) -> None:
    # Given an ad type, a revenue or a currency the endpoint does not take
    errors = refused(impression(**{name: bad}))
    # Then it is refused with the reason
    assert errors == [reason]


def test_required_fields_are_named_when_missing() -> None:
    # Given a record with only the ids and the time
    record = {"application_id": "1", "profile_id": "u", "event_timestamp": str(HOUR_AGO)}
    # When it is prepared
    errors = refused(record)
    # Then revenue, currency and ad_type are named
    assert errors == ["revenue: is required", "currency: is required", "ad_type: is required"]


@pytest.mark.parametrize("name", ["ad_network", "ad_unit_id", "ad_unit_name", "ad_placement_id", "ad_placement_name"])
def test_network_unit_and_placement_fields_are_text(name: str) -> None:
    # Given text, and then a value that is not text
    fields = prepared(impression(**{name: "00 x/y"}))
    # Then text is sent as written, an object is refused
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
    fields = prepared(AD_REVENUE.without("application_id"), "77")
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
    AD_REVENUE.check_declaration(
        32,  # the request format's 33 parameters but post_api_key
        {"application_id", "event_timestamp", "revenue", "currency", "ad_type"},
        "appmetrica_ad_revenue",
        "/appmetrica/ad_revenue",
    )
