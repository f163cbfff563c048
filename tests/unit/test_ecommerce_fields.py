"""AppMetrica e-commerce records (POST /logs/v1/import/ecommerce.csv): the field rules, one behaviour per test."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from courier.destinations.appmetrica import fields as f
from courier.destinations.appmetrica.ecommerce import APPMETRICA_ECOMMERCE, ECOM_EVENT_TYPES, PRICES
from courier.model import Preparer
from courier.settings import Settings

NOW = datetime(2026, 11, 22, 12, 0, tzinfo=UTC).timestamp()
HOUR_AGO = int(NOW) - 3600
SECRET = "+7 999 123-45-67"  # stands for personal data: no reason may repeat it
TYPES_REASON = "ecom_event_type: must be one of: " + ", ".join(ECOM_EVENT_TYPES) + " (upper case, the upload's names)"


def preparer(default_application_id: str = "") -> Preparer:
    return APPMETRICA_ECOMMERCE.make_preparer(Settings(APPMETRICA_APPLICATION_ID=default_application_id), NOW)


def cart_event(**fields: Any) -> dict[str, Any]:
    return {
        "application_id": "1234567890",
        "profile_id": "user-1",
        "event_timestamp": str(HOUR_AGO),
        "ecom_event_type": "ADD_TO_CART",
        "order_id": "a1b2c3d4",
        "product_name": "some_product",
        "cart_item_quantity": "1",
        "original_price_currency": "usd",
        "original_price_value": "1.05",
        **fields,
    }


def refused(record: dict[str, Any]) -> list[str]:
    fields, errors = preparer()(record)
    assert fields is None
    return errors


def test_the_least_row_is_forwarded_unchanged() -> None:
    # Given a CSV row with the documented required fields only
    record = cart_event()
    # When it is prepared
    fields, errors = preparer()(record)
    # Then it is sent as written (the prices left out fall back at AppMetrica)
    assert errors == []
    assert fields == record


@pytest.mark.parametrize("event_type", ECOM_EVENT_TYPES)
def test_each_documented_event_type_is_accepted_with_the_same_required_fields(event_type: str) -> None:
    # Given each of the seven types, with the fields the documentation requires of all of them
    fields, errors = preparer()(cart_event(ecom_event_type=event_type))
    # Then it is sent
    assert errors == []
    assert fields is not None
    assert fields["ecom_event_type"] == event_type


@pytest.mark.parametrize("bad", ["add_to_cart", "add_cart_item", "remove_cart_item", "show_screen", "REFUND"])
def test_lower_case_and_export_names_are_refused(bad: str) -> None:
    # Given a type in lower case, or the Logs API export's name for it
    errors = refused(cart_event(ecom_event_type=bad))
    # Then the reason lists the upload's upper-case names
    assert errors == [TYPES_REASON]


@pytest.mark.parametrize("event_type", ["SHOW_SCREEN", "PURCHASE"])
def test_every_type_needs_order_product_quantity_and_original_price(event_type: str) -> None:
    # Given a row of any type with only the ids, the time and the type
    record = {
        "application_id": "1",
        "profile_id": "u",
        "event_timestamp": str(HOUR_AGO),
        "ecom_event_type": event_type,
        "screen_name": "catalogue",
    }
    # When it is prepared
    errors = refused(record)
    # Then the documentation's always-required fields are named (it gives no per-type set)
    assert errors == [
        "order_id: is required",
        "product_name: is required",
        "cart_item_quantity: is required",
        "original_price_currency: is required",
        "original_price_value: is required",
    ]


def test_ecom_event_type_is_required() -> None:
    record = {k: v for k, v in cart_event().items() if k != "ecom_event_type"}
    assert refused(record) == ["ecom_event_type: is required"]


@pytest.mark.parametrize(("given", "sent"), [("0", "0"), ("3", "3"), (2, "2")])
def test_cart_item_quantity_is_a_whole_number(given: Any, sent: str) -> None:
    fields, errors = preparer()(cart_event(cart_item_quantity=given))
    assert errors == []
    assert fields is not None
    assert fields["cart_item_quantity"] == sent


@pytest.mark.parametrize(
    ("bad", "reason"),
    [("1.5", "cart_item_quantity: must be a whole number"), (-1, "cart_item_quantity: must not be negative")],
)
def test_cart_item_quantity_not_whole_or_negative_is_refused(bad: Any, reason: str) -> None:
    assert refused(cart_event(cart_item_quantity=bad)) == [reason]


@pytest.mark.parametrize("price", PRICES)
def test_each_price_takes_a_listed_currency_and_a_decimal(price: str) -> None:
    # Given a price's currency and value (the documentation types values as int, its samples are decimals)
    fields, errors = preparer()(cart_event(**{f"{price}_currency": "EUR", f"{price}_value": 0.7}))
    # Then they are sent, the value in plain notation
    assert errors == []
    assert fields is not None
    assert (fields[f"{price}_currency"], fields[f"{price}_value"]) == ("EUR", "0.7")


@pytest.mark.parametrize("price", PRICES)
def test_each_price_refuses_an_unlisted_currency_and_a_negative_value(price: str) -> None:
    errors = refused(cart_event(**{f"{price}_currency": "XBT", f"{price}_value": "-1"}))
    assert errors == [
        f"{price}_currency: must be a three-letter currency code from AppMetrica's list, such as USD or RUB",
        f"{price}_value: must not be negative",
    ]


@pytest.mark.parametrize(
    ("given", "sent"),
    [
        ("1.43", "1.43"),  # one value, as the samples give it
        ("[1.43,2]", "[1.43,2]"),  # several, in the documented array form
        ("[1.43, 2.50]", "[1.43,2.50]"),
        ([25.01, 10], "[25.01,10]"),  # a JSON array
        (3, "3"),
    ],
)
def test_internal_values_are_one_decimal_or_an_array(given: Any, sent: str) -> None:
    fields, errors = preparer()(cart_event(original_price_internal_value=given))
    assert errors == []
    assert fields is not None
    assert fields["original_price_internal_value"] == sent


@pytest.mark.parametrize(
    ("bad", "reason"),
    [
        ("1,5", "must be a decimal number such as 12.5"),
        ("[1,x]", "a value in the list must be a decimal number such as 12.5"),
        ("[1,-2]", "a value in the list must not be negative"),
        ("[]", "a value in the list must be a decimal number such as 12.5"),
        ([], "must have 1 to 100 values"),
        (list(range(101)), "must have 1 to 100 values"),
    ],
)
def test_bad_internal_values_are_refused(bad: Any, reason: str) -> None:
    assert refused(cart_event(actual_price_internal_value=bad)) == [f"actual_price_internal_value: {reason}"]


@pytest.mark.parametrize(
    ("given", "sent"),
    [
        ("some_currency", "some_currency"),  # any name: in-app currencies are not ISO codes
        ("[wood,iron]", "[wood,iron]"),
        (["wood", "iron"], "[wood,iron]"),
        (" gems ", "gems"),
    ],
)
def test_internal_currencies_are_names_or_an_array_of_names(given: Any, sent: str) -> None:
    fields, errors = preparer()(cart_event(cart_item_price_internal_currency=given))
    assert errors == []
    assert fields is not None
    assert fields["cart_item_price_internal_currency"] == sent


@pytest.mark.parametrize(
    ("bad", "reason"),
    [
        ("wood,iron", "must not contain commas, brackets or quotes (write several values as [a,b])"),
        ('["wood"]', "a value in the list must not contain commas, brackets or quotes (write several values as [a,b])"),
        ("[wood,]", "a value in the list must not be empty"),
        ([{"wood": 1}], "a value in the list must be text, not dict"),
    ],
)
def test_bad_internal_currencies_are_refused(bad: Any, reason: str) -> None:
    assert refused(cart_event(cart_item_price_internal_currency=bad)) == [
        f"cart_item_price_internal_currency: {reason}"
    ]


@pytest.mark.parametrize("price", PRICES)
def test_internal_currencies_and_values_pair_up_item_by_item(price: str) -> None:
    # Given a price with two in-app currencies and two values, and then with one value too few
    paired = {f"{price}_internal_currency": "[wood,iron]", f"{price}_internal_value": "[25.01,10]"}
    unpaired = {f"{price}_internal_currency": "[wood,iron]", f"{price}_internal_value": "25.01"}
    # When each is prepared
    fields, errors = preparer()(cart_event(**paired))
    # Then the pair is sent, the mismatch refused with the counts
    assert errors == []
    assert fields is not None
    assert refused(cart_event(**unpaired)) == [
        f"{price}_internal_value: has 1 values for 2 currencies in {price}_internal_currency; give one value per "
        "currency"
    ]


def test_an_internal_value_alone_falls_back_to_the_next_prices_currency() -> None:
    # Given the cart price's in-app value without its currency (AppMetrica takes the actual price's)
    fields, errors = preparer()(cart_event(cart_item_price_internal_value="[1,2,3]"))
    # Then nothing is paired here, and the row is sent
    assert errors == []
    assert fields is not None


def test_field_errors_come_before_the_pairing_rule() -> None:
    # Given a bad value in one field and unpaired in-app prices
    record = cart_event(product_name={"n": 1}, actual_price_internal_currency="[a,b]", actual_price_internal_value="1")
    # Then the field's reason is given; the pairing is checked once every field is valid
    assert refused(record) == ["product_name: must be text, not dict"]


@pytest.mark.parametrize(
    ("given", "sent"),
    [
        ("[promo_code_1,promo_code_2]", "[promo_code_1,promo_code_2]"),
        (["SPRING", "VIP"], "[SPRING,VIP]"),
        ("SPRING", "SPRING"),
    ],
)
def test_promo_codes_are_one_code_or_an_array(given: Any, sent: str) -> None:
    fields, errors = preparer()(cart_event(product_promo_codes=given))
    assert errors == []
    assert fields is not None
    assert fields["product_promo_codes"] == sent


@pytest.mark.parametrize("name", ["payload", "product_payload", "screen_payload"])
def test_the_three_payloads_are_json_objects_of_at_most_30_kb(name: str) -> None:
    # Given a payload as an object, then as an array, then too large
    fields, errors = preparer()(cart_event(**{name: {"key": "value_1"}}))
    # Then the object is compact JSON, the others are refused
    assert errors == []
    assert fields is not None
    assert fields[name] == '{"key":"value_1"}'
    assert refused(cart_event(**{name: "[1]"})) == [f"{name}: must be a JSON object"]
    assert refused(cart_event(**{name: {"k": "x" * 30_000}})) == [
        f"{name}: is larger than 30 KB; AppMetrica would truncate it"
    ]


def test_ten_levels_of_product_and_screen_categories_and_no_eleventh() -> None:
    # Given all ten levels of both category paths, and an eleventh
    paths = {
        f"{kind}_category_path_{level}": f"{kind}-{level}" for kind in ("product", "screen") for level in range(1, 11)
    }
    fields, errors = preparer()(cart_event(**paths, product_category_path_11="too deep"))
    # Then the ten levels are sent, the eleventh is not a field
    assert errors == []
    assert fields is not None
    assert {name: fields[name] for name in paths} == paths
    assert "product_category_path_11" not in fields
    assert not APPMETRICA_ECOMMERCE.knows("product_category_path_11")


def test_product_and_screen_text_fields() -> None:
    fields, errors = preparer()(cart_event(product_sku="012345abc", screen_name="some_screen"))
    assert errors == []
    assert fields is not None
    assert (fields["product_sku"], fields["screen_name"]) == ("012345abc", "some_screen")


def test_the_shared_rules_apply() -> None:
    assert refused(cart_event(appmetrica_device_id="1757762239877245682")) == [f.BOTH_IDS]
    assert refused({**cart_event(), "profile_id": ""}) == [f.NO_ID]
    assert refused(cart_event(event_timestamp=HOUR_AGO * 1000)) == [
        "event_timestamp: looks like milliseconds; the Post API takes Unix seconds (divide by 1000)"
    ]
    assert refused({k: v for k, v in cart_event().items() if k != "application_id"}) == [
        "application_id: is required (or set APPMETRICA_APPLICATION_ID)"
    ]
    assert refused(cart_event(connection_type=["wifi"])) == ["connection_type: must be text, not list"]


def test_no_reason_repeats_the_value() -> None:
    # Given a value standing for personal data in every kind of field that can refuse it
    record = cart_event(
        ecom_event_type=SECRET,
        cart_item_quantity=SECRET,
        original_price_currency=SECRET,
        original_price_value=SECRET,
        actual_price_internal_value=f"[{SECRET}]",
        product_promo_codes=f"{SECRET},{SECRET}",
        screen_payload=SECRET,
        event_timestamp=SECRET,
    )
    # When it is prepared
    errors = refused(record)
    # Then every field is named, and no reason quotes the value
    assert len(errors) == 8
    assert not [error for error in errors if SECRET in error or SECRET.split()[1] in error]


def test_the_declaration_lists_every_field_once() -> None:
    names = [field.name for field in APPMETRICA_ECOMMERCE.declared]
    assert len(names) == len(set(names)) == 64  # the request format's 65 parameters but post_api_key
    assert set(names) == APPMETRICA_ECOMMERCE.fields
    required = {field.name for field in APPMETRICA_ECOMMERCE.declared if field.required}
    assert required == {
        "application_id",
        "event_timestamp",
        "ecom_event_type",
        "order_id",
        "product_name",
        "cart_item_quantity",
        "original_price_currency",
        "original_price_value",
    }
    assert all(field.description and field.kind for field in APPMETRICA_ECOMMERCE.declared)
    assert APPMETRICA_ECOMMERCE.rules[: len(f.RULES)] == f.RULES
    assert (APPMETRICA_ECOMMERCE.name, APPMETRICA_ECOMMERCE.route) == ("appmetrica_ecommerce", "/appmetrica/ecommerce")
    assert APPMETRICA_ECOMMERCE.summary
