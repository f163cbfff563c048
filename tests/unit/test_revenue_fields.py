"""AppMetrica revenue records (POST /logs/v1/import/revenue.csv): the field rules, one behaviour per test."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from courier.destinations.appmetrica import fields as f
from courier.destinations.appmetrica.events import APPMETRICA_EVENTS
from courier.destinations.appmetrica.revenue import APPMETRICA_REVENUE, REVENUE_EVENT_TYPES
from courier.model import Preparer
from courier.settings import Settings

NOW = datetime(2026, 11, 22, 12, 0, tzinfo=UTC).timestamp()
HOUR_AGO = int(NOW) - 3600
SECRET = "4111111111111111"  # stands for personal data: no reason may repeat it


def preparer(default_application_id: str = "") -> Preparer:
    return APPMETRICA_REVENUE.make_preparer(Settings(APPMETRICA_APPLICATION_ID=default_application_id), NOW)


def purchase(**fields: Any) -> dict[str, Any]:
    return {
        "application_id": "1111",
        "profile_id": "user-1",
        "revenue_event_type": "one_time_purchase",
        "event_timestamp": str(HOUR_AGO),
        "price": "9.99",
        "currency": "USD",
        "product_id": "sku-1",
        **fields,
    }


def refused(record: dict[str, Any]) -> list[str]:
    fields, errors = preparer()(record)
    assert fields is None
    return errors


def test_a_csv_row_is_forwarded_unchanged_in_its_order() -> None:
    # Given a CSV row of text cells, every revenue field set
    record = purchase(quantity="2", transaction_id="t-1", order_id="0042", payload='{"store": "web"}')
    # When it is prepared
    fields, errors = preparer()(record)
    # Then it is sent as written, in the row's order
    assert errors == []
    assert fields == record
    assert list(fields) == list(record)


def test_json_values_become_the_csv_text() -> None:
    # Given a JSON record with numbers and a payload object
    record = purchase(price=0.0001, quantity=3, order_id=8101, payload={"store": "web", "n": 1}, mcc=250)
    # When it is prepared
    fields, errors = preparer()(record)
    # Then every value is text: decimals in plain notation, the payload compact JSON
    assert errors == []
    assert fields is not None
    assert (fields["price"], fields["quantity"], fields["order_id"]) == ("0.0001", "3", "8101")
    assert fields["payload"] == '{"store":"web","n":1}'
    assert fields["mcc"] == "250"


@pytest.mark.parametrize("event_type", REVENUE_EVENT_TYPES)
def test_each_documented_revenue_event_type_is_accepted(event_type: str) -> None:
    # Given a purchase of each of the 12 documented types
    fields, errors = preparer()(purchase(revenue_event_type=event_type))
    # Then it is sent as it is
    assert errors == []
    assert fields is not None
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


@pytest.mark.parametrize(
    ("given", "sent"),
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
)
def test_price_is_a_decimal_10_8_and_may_be_negative(given: Any, sent: str) -> None:
    # Given a price as text or a JSON number
    fields, errors = preparer()(purchase(price=given))
    # Then it is sent in plain decimal notation
    assert errors == []
    assert fields is not None
    assert fields["price"] == sent


@pytest.mark.parametrize(
    ("bad", "reason"),
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
)
def test_price_outside_decimal_10_8_is_refused_never_rounded(bad: Any, reason: str) -> None:
    # Given a price that is not a decimal(10,8)
    errors = refused(purchase(price=bad))
    # Then the reason says which part is wrong
    assert errors == [reason]


@pytest.mark.parametrize(("given", "sent"), [("usd", "usd"), ("USD", "USD"), ("Rub", "Rub"), (" eur ", "eur")])
def test_currency_is_matched_in_any_case_and_sent_as_written(given: str, sent: str) -> None:
    # Given a listed currency in any case (the documentation's samples send usd)
    fields, errors = preparer()(purchase(currency=given))
    # Then it is accepted and sent as written, without surrounding spaces
    assert errors == []
    assert fields is not None
    assert fields["currency"] == sent


def test_every_listed_currency_is_accepted() -> None:
    # Given each of the 168 codes of AppMetrica's list
    prepare = preparer()
    results = {code: prepare(purchase(currency=code))[1] for code in sorted(f.CURRENCIES)}
    # Then none is refused
    assert len(results) == 168
    assert {code: errors for code, errors in results.items() if errors} == {}


@pytest.mark.parametrize(
    ("bad", "reason"),
    [
        ("MRU", "currency: is a currency AppMetrica does not support (see its list of currencies)"),
        ("ves", "currency: is a currency AppMetrica does not support (see its list of currencies)"),
        ("XYZ", "currency: must be a three-letter currency code from AppMetrica's list, such as USD or RUB"),
        ("US", "currency: must be a three-letter currency code from AppMetrica's list, such as USD or RUB"),
        ("$", "currency: must be a three-letter currency code from AppMetrica's list, such as USD or RUB"),
        (840, "currency: must be a currency code such as USD"),
    ],
)
def test_currencies_outside_the_list_are_refused(bad: Any, reason: str) -> None:
    # Given a currency AppMetrica lists as unsupported, or one it does not list
    errors = refused(purchase(currency=bad))
    # Then it is refused with the reason
    assert errors == [reason]


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


@pytest.mark.parametrize(("given", "sent"), [("1", "1"), (2, "2"), ("10", "10"), (3.0, "3")])
def test_quantity_is_a_whole_number_of_one_or_more(given: Any, sent: str) -> None:
    fields, errors = preparer()(purchase(quantity=given))
    assert errors == []
    assert fields is not None
    assert fields["quantity"] == sent


@pytest.mark.parametrize(
    ("bad", "reason"),
    [
        ("0", "quantity: must be at least 1"),
        (-1, "quantity: must be at least 1"),
        ("1.5", "quantity: must be a whole number"),
        ("two", "quantity: must be a whole number"),
    ],
)
def test_quantity_below_one_or_not_whole_is_refused(bad: Any, reason: str) -> None:
    assert refused(purchase(quantity=bad)) == [reason]


def test_transaction_and_order_ids_are_opaque_text() -> None:
    # Given ids that are not numbers, and one with leading zeros (the sample's transaction_id is transact1)
    fields, errors = preparer()(purchase(transaction_id="transact1", order_id="000812"))
    # Then they are sent as written
    assert errors == []
    assert fields is not None
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
    fields, errors = preparer()(purchase(payload=text))
    assert errors == []
    assert fields is not None
    assert fields["payload"] == text


def test_the_shared_rules_are_the_events_rules() -> None:
    # Given the rules every Post API row shares, broken one at a time
    prepare = preparer()
    # Then the revenue endpoint answers exactly as the events endpoint does
    assert refused(purchase(appmetrica_device_id="123")) == [f.BOTH_IDS]
    assert refused({**purchase(), "profile_id": ""}) == [f.NO_ID]
    assert refused({k: v for k, v in purchase().items() if k != "application_id"}) == [
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
    fields, errors = prepare(purchase(event_timestamp="2026-11-22T10:30:00Z"))
    assert errors == []
    assert fields is not None
    assert fields["event_timestamp"] == str(int(datetime(2026, 11, 22, 10, 30, tzinfo=UTC).timestamp()))


def test_a_device_id_alone_identifies_the_user() -> None:
    record = {**purchase(), "profile_id": "", "appmetrica_device_id": "1757762239877245682"}
    fields, errors = preparer()(record)
    assert errors == []
    assert fields is not None
    assert "profile_id" not in fields
    assert fields["appmetrica_device_id"] == "1757762239877245682"


def test_application_id_defaults_from_configuration_and_comes_first() -> None:
    record = {k: v for k, v in purchase().items() if k != "application_id"}
    fields, errors = preparer("4242")(record)
    assert errors == []
    assert fields is not None
    assert next(iter(fields.items())) == ("application_id", "4242")


def test_the_documented_account_id_and_other_unknown_fields_are_not_sent() -> None:
    # Given the sample's undocumented account_id column and another stray field
    fields, errors = preparer()(purchase(account_id="1234567890123456789", colour="blue"))
    # Then neither is a field of the endpoint, and neither is sent
    assert errors == []
    assert fields is not None
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
    names = [field.name for field in APPMETRICA_REVENUE.declared]
    # Then each field is declared once, the declaration is what the endpoint takes, and the shared fields are the
    # events endpoint's
    assert len(names) == len(set(names)) == 30  # the request format's 31 parameters but post_api_key
    assert set(names) == APPMETRICA_REVENUE.fields
    required = {field.name for field in APPMETRICA_REVENUE.declared if field.required}
    assert required == {"application_id", "event_timestamp", "revenue_event_type", "price", "currency", "product_id"}
    shared = set(APPMETRICA_EVENTS.declared) - {
        field for field in APPMETRICA_EVENTS.declared if field.name.startswith("event_")
    }
    assert shared <= set(APPMETRICA_REVENUE.declared)
    assert all(field.description and field.kind for field in APPMETRICA_REVENUE.declared)
    assert APPMETRICA_REVENUE.rules[: len(f.RULES)] == f.RULES
    assert (APPMETRICA_REVENUE.name, APPMETRICA_REVENUE.route) == ("appmetrica_revenue", "/appmetrica/revenue")
    assert APPMETRICA_REVENUE.summary
