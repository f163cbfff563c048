"""AppMetrica revenue records (POST /logs/v1/import/revenue.csv): the field rules, one behaviour per test."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from courier.destinations.appmetrica import fields as f
from courier.destinations.appmetrica.events import APPMETRICA_EVENTS
from courier.destinations.appmetrica.revenue import APPMETRICA_REVENUE, REVENUE_EVENT_TYPES
from tests.appmetrica_fields import HOUR_AGO, NOW, FieldRules, cases

SECRET = "4111111111111111"  # stands for personal data: no reason may repeat it

REVENUE = FieldRules(
    APPMETRICA_REVENUE,
    {
        "application_id": "1111",
        "profile_id": "user-1",
        "revenue_event_type": "one_time_purchase",
        "event_timestamp": str(HOUR_AGO),
        "price": "9.99",
        "currency": "USD",
        "product_id": "sku-1",
    },
)
purchase = REVENUE.record
preparer = REVENUE.preparer
prepared = REVENUE.prepared
refused = REVENUE.refused


def test_a_csv_row_is_forwarded_unchanged_in_its_order() -> None:
    # Given a CSV row of text cells, every revenue field set
    record = purchase(quantity="2", transaction_id="t-1", order_id="0042", payload='{"store": "web"}')
    # When it is prepared
    fields = prepared(record)
    # Then it is sent as written, in the row's order
    assert fields == record
    assert list(fields) == list(record)


def test_json_values_become_the_csv_text() -> None:
    # Given a JSON record with numbers and a payload object
    record = purchase(price=0.0001, quantity=3, order_id=8101, payload={"store": "web", "n": 1}, mcc=250)
    # When it is prepared
    fields = prepared(record)
    # Then every value is text: decimals in plain notation, the payload compact JSON
    assert (fields["price"], fields["quantity"], fields["order_id"]) == ("0.0001", "3", "8101")
    assert fields["payload"] == '{"store":"web","n":1}'
    assert fields["mcc"] == "250"


@pytest.mark.parametrize("event_type", REVENUE_EVENT_TYPES)
def test_each_documented_revenue_event_type_is_accepted(event_type: str) -> None:
    # Given a purchase of each of the 12 documented types
    fields = prepared(purchase(revenue_event_type=event_type))
    # Then it is sent as it is
    assert fields["revenue_event_type"] == event_type


@pytest.mark.parametrize(
    "bad", ["trial_subscription_started", "subscription_cancelled", "unknown", "PROMO_STARTED", "purchase", 1]
)
def test_other_revenue_event_types_are_refused_export_names_too(bad: Any) -> None:
    # Given a type the upload does not list (the Logs API export's names among them)
    errors = refused(purchase(revenue_event_type=bad))
    # Then the reason lists the upload's names
    assert errors == [
        "revenue_event_type: must be one of: " + ", ".join(REVENUE_EVENT_TYPES) + " "
        "(the upload's names, not the Logs API export's)"
    ]


SENT = [
    # a price, as text or a JSON number: a decimal(10,8), negative for a refund, sent in plain decimal notation
    *cases(
        "price",
        [
            ("0.0001", "0.0001"),
            ("-4.99", "-4.99"),  # a refund
            ("9999999999.99999999", "9999999999.99999999"),  # decimal(10,8) at its widest
            ("12.50", "12.50"),  # text in the form: as written
            (0.1, "0.1"),
            (1e-05, "0.00001"),
            (12, "12"),
            (-3, "-3"),
            (" 2.5 ", "2.5"),
            ("1e-4", "0.0001"),
            ("+3", "3"),
            (".5", "0.5"),
            ("2.500000000", "2.5"),  # nine digits after the point, but the zeros carry nothing
            ("0", "0"),
        ],
    ),
    # a listed currency in any case (the documentation's samples send usd): as written, without surrounding spaces
    *cases("currency", [("usd", "usd"), ("USD", "USD"), ("Rub", "Rub"), (" eur ", "eur")]),
    # a quantity: a whole number of one or more
    *cases("quantity", [("1", "1"), (2, "2"), ("10", "10"), (3.0, "3")]),
]


@pytest.mark.parametrize(("name", "given", "sent"), SENT)
def test_price_currency_and_quantity_are_sent_in_their_plain_form(name: str, given: Any, sent: str) -> None:
    # Given a price, a currency or a quantity the endpoint takes, as text or a JSON number
    fields = prepared(purchase(**{name: given}))
    # Then it is sent as written, or in plain decimal notation
    assert fields[name] == sent


NOT_A_CURRENCY = "currency: must be a three-letter currency code from AppMetrica's list, such as USD or RUB"
REFUSED = [
    # a price that is not a decimal(10,8): the reason says which part is wrong, and it is never rounded
    *cases(
        "price",
        [
            ("12345678901.5", "price: has more than 10 digits before the decimal point (decimal(10,8))"),
            (1e10, "price: has more than 10 digits before the decimal point (decimal(10,8))"),
            ("0.123456789", "price: has more than 8 digits after the decimal point (decimal(10,8))"),
            ("1e-9", "price: has more than 8 digits after the decimal point (decimal(10,8))"),
            ("1,5", "price: must be a decimal number such as 12.5"),
            ("nan", "price: must be a decimal number such as 12.5"),
            ("Infinity", "price: must be a decimal number such as 12.5"),
            ("1_000", "price: must be a decimal number such as 12.5"),
            ("٣", "price: must be a decimal number such as 12.5"),
            (float("inf"), "price: must be a finite decimal number"),
            (True, "price: must be a decimal number such as 12.5, not a boolean"),
            ({"amount": 1}, "price: must be a decimal number such as 12.5, not dict"),
        ],
    ),
    # a currency AppMetrica lists as unsupported, or one it does not list
    *cases(
        "currency",
        [
            ("MRU", "currency: is a currency AppMetrica does not support (see its list of currencies)"),
            ("ves", "currency: is a currency AppMetrica does not support (see its list of currencies)"),
            ("XYZ", NOT_A_CURRENCY),
            ("US", NOT_A_CURRENCY),
            ("$", NOT_A_CURRENCY),
            (840, "currency: must be a currency code such as USD"),
        ],
    ),
    # a quantity below one, or not a whole number
    *cases(
        "quantity",
        [
            ("0", "quantity: must be at least 1"),
            (-1, "quantity: must be at least 1"),
            ("1.5", "quantity: must be a whole number"),
            ("two", "quantity: must be a whole number"),
        ],
    ),
]


@pytest.mark.parametrize(("name", "bad", "reason"), REFUSED)
def test_price_currency_and_quantity_outside_their_rules_are_refused(name: str, bad: Any, reason: str) -> None:
    # Given a price, a currency or a quantity the endpoint does not take
    errors = refused(purchase(**{name: bad}))
    # Then it is refused with the reason
    assert errors == [reason]


def test_every_listed_currency_is_accepted() -> None:
    # Given each of the 168 codes of AppMetrica's list
    prepare = preparer()
    results = {code: prepare(purchase(currency=code))[1] for code in sorted(f.CURRENCIES)}
    # Then none is refused
    assert len(results) == 168
    assert {code: errors for code, errors in results.items() if errors} == {}


def test_required_fields_are_named_when_missing_or_empty() -> None:
    # Given a record with only the ids, its revenue fields missing or empty
    record = {"application_id": "1111", "profile_id": "u", "price": "", "currency": ""}
    # When it is prepared
    errors = refused(record)
    # Then each required field is named, event_timestamp last
    assert errors == [
        "revenue_event_type: is required",
        "price: is required",
        "currency: is required",
        "product_id: is required",
        "event_timestamp: is required",
    ]


def test_transaction_and_order_ids_are_opaque_text() -> None:
    # Given ids that are not numbers, and one with leading zeros (the sample's transaction_id is transact1)
    fields = prepared(purchase(transaction_id="transact1", order_id="000812"))
    # Then they are sent as written
    assert (fields["transaction_id"], fields["order_id"]) == ("transact1", "000812")


def test_product_id_longer_than_the_text_limit_is_refused() -> None:
    assert refused(purchase(product_id="x" * 10_001)) == ["product_id: is longer than 10000 characters"]


@pytest.mark.parametrize(
    ("bad", "reason"),
    [
        ("[1, 2]", "payload: must be a JSON object"),
        ("{not json", "payload: is not valid JSON"),
        (["a"], "payload: must be a JSON object"),
        ('{"k": "' + "x" * 30_000 + '"}', "payload: is larger than 30 KB; AppMetrica would truncate it"),
        ({"k": "я" * 15_000}, "payload: is larger than 30 KB; AppMetrica would truncate it"),  # 30,010 bytes
    ],
)
def test_payload_is_a_json_object_of_at_most_30_kb(bad: Any, reason: str) -> None:
    # Given a payload that is not a JSON object, or that AppMetrica would truncate
    errors = refused(purchase(payload=bad))
    # Then it is refused rather than cut
    assert errors == [reason]


def test_a_payload_of_exactly_30_kb_is_sent() -> None:
    text = '{"k":"' + "x" * (30_000 - 8) + '"}'
    assert len(text.encode()) == 30_000
    assert prepared(purchase(payload=text))["payload"] == text


def test_the_shared_rules_are_the_events_rules() -> None:
    # Given the rules every Post API row shares, broken one at a time
    # Then the revenue endpoint answers exactly as the events endpoint does
    assert refused(purchase(appmetrica_device_id="123")) == [f.BOTH_IDS]
    assert refused({**purchase(), "profile_id": ""}) == [f.NO_ID]
    assert refused(REVENUE.without("application_id")) == [
        "application_id: is required (or set APPMETRICA_APPLICATION_ID)"
    ]
    old = refused(purchase(event_timestamp=int(NOW) - 15 * 24 * 3600))
    assert len(old) == 1
    assert old[0].startswith("event_timestamp: is older than the Post API's 14-day window")
    assert refused(purchase(event_timestamp=HOUR_AGO * 1000)) == [
        "event_timestamp: looks like milliseconds; the Post API takes Unix seconds (divide by 1000)"
    ]
    assert refused(purchase(session_type="fg")) == ["session_type: must be one of: foreground, background"]
    assert refused(purchase(mnc="O2")) == ["mnc: must be a whole number"]
    fields = prepared(purchase(event_timestamp="2026-11-22T10:30:00Z"))
    assert fields["event_timestamp"] == str(int(datetime(2026, 11, 22, 10, 30, tzinfo=UTC).timestamp()))


def test_a_device_id_alone_identifies_the_user() -> None:
    record = {**purchase(), "profile_id": "", "appmetrica_device_id": "1757762239877245682"}
    fields = prepared(record)
    assert "profile_id" not in fields
    assert fields["appmetrica_device_id"] == "1757762239877245682"


def test_application_id_defaults_from_configuration_and_comes_first() -> None:
    fields = prepared(REVENUE.without("application_id"), "4242")
    assert next(iter(fields.items())) == ("application_id", "4242")


def test_the_documented_account_id_and_other_unknown_fields_are_not_sent() -> None:
    # Given the sample's undocumented account_id column and another stray field
    fields = prepared(purchase(account_id="1234567890123456789", colour="blue"))
    # Then neither is a field of the endpoint, and neither is sent
    assert "account_id" not in fields
    assert "colour" not in fields
    assert not APPMETRICA_REVENUE.knows("account_id")


def test_no_reason_repeats_the_value() -> None:
    # Given a value standing for personal data in every field that can refuse it
    record = purchase(
        application_id=SECRET + "x",
        revenue_event_type=SECRET,
        price=SECRET + ".1234567891",
        currency=SECRET,
        quantity=SECRET + "x",
        payload=SECRET,
        appmetrica_device_id=SECRET * 2,
        event_timestamp=SECRET,
        mcc=SECRET + "x",
        session_type=SECRET,
    )
    # When it is prepared
    errors = refused(record)
    # Then every field is named, and no reason quotes the value
    assert len(errors) == 10
    assert not [error for error in errors if SECRET in error]


def test_the_declaration_lists_every_field_once() -> None:
    # Given the endpoint's declaration
    # Then each field is declared once, the declaration is what the endpoint takes, and the shared fields are the
    # events endpoint's
    REVENUE.check_declaration(
        30,  # the request format's 31 parameters but post_api_key
        {"application_id", "event_timestamp", "revenue_event_type", "price", "currency", "product_id"},
        "appmetrica_revenue",
        "/appmetrica/revenue",
    )
    shared = set(APPMETRICA_EVENTS.declared) - {
        field for field in APPMETRICA_EVENTS.declared if field.name.startswith("event_")
    }
    assert shared <= set(APPMETRICA_REVENUE.declared)
