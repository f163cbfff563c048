"""AppMetrica e-commerce records (POST /logs/v1/import/ecommerce.csv): the field rules, one behaviour per test."""

from __future__ import annotations

from typing import Any

import pytest

from courier.destinations.appmetrica import fields as f
from courier.destinations.appmetrica.ecommerce import APPMETRICA_ECOMMERCE, ECOM_EVENT_TYPES, PRICES
from tests.appmetrica_fields import HOUR_AGO, FieldRules, cases

SECRET = "+7 999 123-45-67"  # stands for personal data: no reason may repeat it
TYPES_REASON = "ecom_event_type: must be one of: " + ", ".join(ECOM_EVENT_TYPES) + " (upper case, the upload's names)"

ECOMMERCE = FieldRules(
    APPMETRICA_ECOMMERCE,
    {
        "application_id": "1234567890",
        "profile_id": "user-1",
        "event_timestamp": str(HOUR_AGO),
        "ecom_event_type": "ADD_TO_CART",
        "order_id": "a1b2c3d4",
        "product_name": "some_product",
        "cart_item_quantity": "1",
        "original_price_currency": "usd",
        "original_price_value": "1.05",
    },
)
cart_event = ECOMMERCE.record
prepared = ECOMMERCE.prepared
refused = ECOMMERCE.refused


def test_the_least_row_is_forwarded_unchanged() -> None:
    # Given a CSV row with the documented required fields only
    record = cart_event()
    # When it is prepared
    fields = prepared(record)
    # Then it is sent as written (the prices left out fall back at AppMetrica)
    assert fields == record


@pytest.mark.parametrize("event_type", ECOM_EVENT_TYPES)
def test_each_documented_event_type_is_accepted_with_the_same_required_fields(event_type: str) -> None:
    # Given each of the seven types, with the fields the documentation requires of all of them
    fields = prepared(cart_event(ecom_event_type=event_type))
    # Then it is sent
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
    assert refused(ECOMMERCE.without("ecom_event_type")) == ["ecom_event_type: is required"]


@pytest.mark.parametrize("price", PRICES)
def test_each_price_takes_a_listed_currency_and_a_decimal(price: str) -> None:
    # Given a price's currency and value (the documentation types values as int, its samples are decimals)
    fields = prepared(cart_event(**{f"{price}_currency": "EUR", f"{price}_value": 0.7}))
    # Then they are sent, the value in plain notation
    assert (fields[f"{price}_currency"], fields[f"{price}_value"]) == ("EUR", "0.7")


@pytest.mark.parametrize("price", PRICES)
def test_each_price_refuses_an_unlisted_currency_and_a_negative_value(price: str) -> None:
    errors = refused(cart_event(**{f"{price}_currency": "XBT", f"{price}_value": "-1"}))
    assert errors == [
        f"{price}_currency: must be a three-letter currency code from AppMetrica's list, such as USD or RUB",
        f"{price}_value: must not be negative",
    ]


SENT = [
    # a cart item quantity: a whole number
    *cases("cart_item_quantity", [("0", "0"), ("3", "3"), (2, "2")]),
    # an in-app price value: one decimal, or an array of them
    *cases(
        "original_price_internal_value",
        [
            ("1.43", "1.43"),  # one value, as the samples give it
            ("[1.43,2]", "[1.43,2]"),  # several, in the documented array form
            ("[1.43, 2.50]", "[1.43,2.50]"),
            ([25.01, 10], "[25.01,10]"),  # a JSON array
            (3, "3"),
        ],
    ),
    # in-app currencies: names, or an array of names
    *cases(
        "cart_item_price_internal_currency",
        [
            ("some_currency", "some_currency"),  # any name: in-app currencies are not ISO codes
            ("[wood,iron]", "[wood,iron]"),
            (["wood", "iron"], "[wood,iron]"),
            (" gems ", "gems"),
        ],
    ),
    # promo codes: one code, or an array of them
    *cases(
        "product_promo_codes",
        [
            ("[promo_code_1,promo_code_2]", "[promo_code_1,promo_code_2]"),
            (["SPRING", "VIP"], "[SPRING,VIP]"),
            ("SPRING", "SPRING"),
        ],
    ),
]


@pytest.mark.parametrize(("name", "given", "sent"), SENT)
def test_quantities_and_one_value_or_an_array_are_sent_as_text(name: str, given: Any, sent: str) -> None:
    # Given a quantity, or one value or an array of them for a field that takes either
    fields = prepared(cart_event(**{name: given}))
    # Then it is sent as text, an array in the [a,b] form
    assert fields[name] == sent


NO_SEPARATORS = "must not contain commas, brackets or quotes (write several values as [a,b])"
REFUSED = [
    # a cart item quantity that is not whole, or negative
    *cases(
        "cart_item_quantity",
        [("1.5", "cart_item_quantity: must be a whole number"), (-1, "cart_item_quantity: must not be negative")],
    ),
    # in-app price values that are not decimals, negative, or too few or too many
    *cases(
        "actual_price_internal_value",
        [
            (bad, f"actual_price_internal_value: {reason}")
            for bad, reason in [
                ("1,5", "must be a decimal number such as 12.5"),
                ("[1,x]", "a value in the list must be a decimal number such as 12.5"),
                ("[1,-2]", "a value in the list must not be negative"),
                ("[]", "a value in the list must be a decimal number such as 12.5"),
                ([], "must have 1 to 100 values"),
                (list(range(101)), "must have 1 to 100 values"),
            ]
        ],
    ),
    # in-app currencies with separators in a name, or an empty or non-text name in the list
    *cases(
        "cart_item_price_internal_currency",
        [
            (bad, f"cart_item_price_internal_currency: {reason}")
            for bad, reason in [
                ("wood,iron", NO_SEPARATORS),
                ('["wood"]', f"a value in the list {NO_SEPARATORS}"),
                ("[wood,]", "a value in the list must not be empty"),
                ([{"wood": 1}], "a value in the list must be text, not dict"),
            ]
        ],
    ),
]


@pytest.mark.parametrize(("name", "bad", "reason"), REFUSED)
def test_bad_quantities_and_in_app_values_and_currencies_are_refused(name: str, bad: Any, reason: str) -> None:
    # Given a quantity, in-app values or in-app currencies the endpoint does not take
    errors = refused(cart_event(**{name: bad}))
    # Then it is refused with the reason
    assert errors == [reason]


@pytest.mark.parametrize("price", PRICES)
def test_internal_currencies_and_values_pair_up_item_by_item(price: str) -> None:
    # Given a price with two in-app currencies and two values, and then with one value too few
    paired = {f"{price}_internal_currency": "[wood,iron]", f"{price}_internal_value": "[25.01,10]"}
    unpaired = {f"{price}_internal_currency": "[wood,iron]", f"{price}_internal_value": "25.01"}
    # When each is prepared
    # Then the pair is sent (prepared checks it has no reason), the mismatch refused with the counts
    prepared(cart_event(**paired))
    assert refused(cart_event(**unpaired)) == [
        f"{price}_internal_value: has 1 values for 2 currencies in {price}_internal_currency; give one value per "
        "currency"
    ]


def test_an_internal_value_alone_falls_back_to_the_next_prices_currency() -> None:
    # Given the cart price's in-app value without its currency (AppMetrica takes the actual price's)
    # When it is prepared
    # Then nothing is paired here, and the row is sent (prepared checks it has no reason)
    prepared(cart_event(cart_item_price_internal_value="[1,2,3]"))


def test_field_errors_come_before_the_pairing_rule() -> None:
    # Given a bad value in one field and unpaired in-app prices
    record = cart_event(product_name={"n": 1}, actual_price_internal_currency="[a,b]", actual_price_internal_value="1")
    # Then the field's reason is given; the pairing is checked once every field is valid
    assert refused(record) == ["product_name: must be text, not dict"]


@pytest.mark.parametrize("name", ["payload", "product_payload", "screen_payload"])
def test_the_three_payloads_are_json_objects_of_at_most_30_kb(name: str) -> None:
    # Given a payload as an object, then as an array, then too large
    fields = prepared(cart_event(**{name: {"key": "value_1"}}))
    # Then the object is compact JSON, the others are refused
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
    fields = prepared(cart_event(**paths, product_category_path_11="too deep"))
    # Then the ten levels are sent, the eleventh is not a field
    assert {name: fields[name] for name in paths} == paths
    assert "product_category_path_11" not in fields
    assert not APPMETRICA_ECOMMERCE.knows("product_category_path_11")


def test_product_and_screen_text_fields() -> None:
    fields = prepared(cart_event(product_sku="012345abc", screen_name="some_screen"))
    assert (fields["product_sku"], fields["screen_name"]) == ("012345abc", "some_screen")


def test_the_shared_rules_apply() -> None:
    assert refused(cart_event(appmetrica_device_id="1757762239877245682")) == [f.BOTH_IDS]
    assert refused({**cart_event(), "profile_id": ""}) == [f.NO_ID]
    assert refused(cart_event(event_timestamp=HOUR_AGO * 1000)) == [
        "event_timestamp: looks like milliseconds; the Post API takes Unix seconds (divide by 1000)"
    ]
    assert refused(ECOMMERCE.without("application_id")) == [
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
    ECOMMERCE.check_declaration(
        64,  # the request format's 65 parameters but post_api_key
        {
            "application_id",
            "event_timestamp",
            "ecom_event_type",
            "order_id",
            "product_name",
            "cart_item_quantity",
            "original_price_currency",
            "original_price_value",
        },
        "appmetrica_ecommerce",
        "/appmetrica/ecommerce",
    )
