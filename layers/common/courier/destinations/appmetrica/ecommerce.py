"""POST /logs/v1/import/ecommerce.csv: e-commerce events, one flat row each (docs/contracts/appmetrica.md#ecommerce)."""

from __future__ import annotations

from courier.destinations.appmetrica import fields as f
from courier.destinations.appmetrica.csv_endpoint import csv_endpoint
from courier.model import Field

# Upper case, exactly as listed (inference: whether lower case is taken is not documented, so it is refused; the
# Logs API export's names, such as add_cart_item, are refused too).
ECOM_EVENT_TYPES = (
    "SHOW_SCREEN",
    "SHOW_PRODUCT_CARD",
    "SHOW_PRODUCT_DETAILS",
    "ADD_TO_CART",
    "REMOVE_FROM_CART",
    "BEGIN_CHECKOUT",
    "PURCHASE",
)
PRICES = ("cart_item_price", "actual_price", "original_price")  # each falls back to the next when left out
CURRENCY_KIND = "currency code (ISO 4217, AppMetrica's list)"
# inference: the documentation types every *_value as int, but its samples are decimals (0.5, 0.7, 1.05): decimals
# are accepted, in decimal(10,8) as prices are on the revenue pages, and not negative
AMOUNT_KIND = "decimal(10,8), not negative"
# inference: typed array, with scalars in the samples and [a,b] shown for product_promo_codes only: both are taken
LIST_KIND = "one value, or several as [a,b] or a JSON array"


def _price(price: str, what: str, fallback: str, required: bool = False) -> tuple[tuple[Field, f.Conversion], ...]:
    """A price's four fields: its currency and value, and the same in the app's internal currencies."""
    then = f" (left out: {fallback}'s)" if fallback else ""
    return (
        (Field(f"{price}_currency", CURRENCY_KIND, f"the currency of {what}{then}", required=required), f.currency),
        (Field(f"{price}_value", AMOUNT_KIND, f"{what}{then}", required=required), f.decimal()),
        (
            Field(
                f"{price}_internal_currency",
                LIST_KIND + " of names",
                f"the in-app currencies of {what}, any names{then}",
            ),
            f.array_of(f.item),
        ),
        (
            Field(
                f"{price}_internal_value",
                LIST_KIND + " of decimals",
                f"{what} in those in-app currencies, the i-th value in the i-th currency{then}",
            ),
            f.array_of(f.decimal()),
        ),
    )


def _paths(prefix: str, what: str) -> tuple[tuple[Field, f.Conversion], ...]:
    return tuple((Field(f"{prefix}_{level}", "text", f"level {level} of the {what}"), f.text) for level in range(1, 11))


def paired_internal_prices(out: dict[str, str]) -> list[str]:
    """A price's in-app currencies and values go together, the i-th value in the i-th currency (inference: the
    pairing the Logs API export shows, [{"wood": 25.01}, {"iron": 10}]): when both are given, as many of each."""
    broken = []
    for price in PRICES:
        currencies, values = out.get(f"{price}_internal_currency"), out.get(f"{price}_internal_value")
        if currencies is not None and values is not None:
            counts = f.array_length(currencies), f.array_length(values)
            if counts[0] != counts[1]:
                broken.append(
                    f"{price}_internal_value: has {counts[1]} values for {counts[0]} currencies in "
                    f"{price}_internal_currency; give one value per currency"
                )
    return broken


ECOMMERCE_ROW = f.RowFormat(
    (
        (
            Field("ecom_event_type", "one of: " + ", ".join(ECOM_EVENT_TYPES), "the e-commerce event", required=True),
            f.one_of(*ECOM_EVENT_TYPES, hint="upper case, the upload's names"),
        ),
        # Required for every event type, as the documentation says, SHOW_SCREEN included
        (Field("order_id", "text", "the order's id", required=True), f.text),
        (Field("product_name", "text", "the product's name", required=True), f.text),
        # inference: a whole number of 0 or more (typed int; 0 fits the event types with no cart)
        (
            Field("cart_item_quantity", "whole number", "how many of the product are in the cart", required=True),
            f.whole_number,
        ),
        *_price("cart_item_price", "the final price in the cart, all discounts applied", "actual_price"),
        *_price("actual_price", "the product's current price, discounts included", "original_price"),
        (Field("payload", "JSON object, at most 30 KB", "more about the event, as key-value pairs"), f.payload),
        *_paths("product_category_path", "product's category"),
        *_price("original_price", "the product's price before any discount", "", required=True),
        (Field("product_payload", "JSON object, at most 30 KB", "more about the product"), f.payload),
        (Field("product_promo_codes", LIST_KIND, "the promo codes applied"), f.array_of(f.item)),
        (Field("product_sku", "text", "the product's id"), f.text),
        *_paths("screen_category_path", "screen's category"),
        (Field("screen_name", "text", "the page or screen viewed"), f.text),
        (Field("screen_payload", "JSON object, at most 30 KB", "more about the screen"), f.payload),
    ),
    check=paired_internal_prices,
)


APPMETRICA_ECOMMERCE = csv_endpoint(
    "appmetrica_ecommerce",
    "/logs/v1/import/ecommerce.csv",
    ECOMMERCE_ROW,
    "E-commerce events (screens, products, carts, orders), to the AppMetrica Post API's ecommerce.csv",
    (
        "every ecom_event_type needs order_id, product_name, cart_item_quantity, original_price_currency and "
        "original_price_value (the documentation names no other set per type)",
        "a price left out falls back: cart_item_price_* to actual_price_* to original_price_*, in-app currencies "
        "apart (AppMetrica fills them)",
        "when a price gives both *_internal_currency and *_internal_value, they have as many values: the i-th value "
        "is in the i-th currency",
        "several values: [a,b] without quotes, or a JSON array; a value holds no comma, bracket or quote",
        "an order (BEGIN_CHECKOUT, PURCHASE) is one row per cart item, with the same order_id and event_timestamp",
        "amounts: at most 10 digits before the decimal point and 8 after, never rounded",
    ),
)
