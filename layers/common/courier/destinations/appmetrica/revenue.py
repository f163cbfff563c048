"""POST /logs/v1/import/revenue.csv: in-app purchases and subscription events (docs/contracts/appmetrica.md#revenue)."""

from __future__ import annotations

from courier.destinations.appmetrica import fields as f
from courier.destinations.appmetrica.csv_endpoint import csv_endpoint
from courier.model import Field

# The upload's names (docs/contracts/appmetrica.md#revenue). The Logs API export names the same things otherwise
# (trial_subscription_started, subscription_cancelled, …): those are refused, never sent.
REVENUE_EVENT_TYPES = (
    "one_time_purchase",
    "trial_started",
    "intro_started",
    "promo_started",
    "subscription_converted",
    "subscription_started",
    "subscription_renewed",
    "cancellation",
    "uncancellation",
    "expired",
    "billing_issues",
    "refund",
)

REVENUE_ROW = f.RowFormat(
    (
        (
            Field(
                "revenue_event_type",
                "one of: " + ", ".join(REVENUE_EVENT_TYPES),
                "what happened: a one-time purchase, or a step of a subscription",
                required=True,
            ),
            f.one_of(*REVENUE_EVENT_TYPES, hint="the upload's names, not the Logs API export's"),
        ),
        (
            # inference: a negative price is accepted (the Logs API export says revenue "can be negative, e.g. for
            # refunds"; the upload's page says nothing of the sign)
            Field(
                "price", "decimal(10,8), may be negative", "the revenue amount; negative for a refund", required=True
            ),
            f.decimal(negative=True),
        ),
        (
            # inference: required, as the request format writes it (the parameter table does not star it)
            Field("currency", "currency code (ISO 4217, AppMetrica's list)", "the purchase's currency", required=True),
            f.currency,
        ),
        # inference: required, as the request format writes it (the parameter table does not star it)
        (Field("product_id", "text", "the item's id", required=True), f.text),
        (
            # inference: at least 1 (the documented default is 1; zero items is not a purchase)
            Field("quantity", "whole number, 1 or more", "how many items were bought (AppMetrica's default: 1)"),
            f.at_least_one,
        ),
        # inference: typed int in the documentation, but its sample is `transact1`: any text is accepted
        (Field("transaction_id", "text", "the transaction's unique id"), f.text),
        # inference: typed int here, text on the e-commerce page: any text is accepted, leading zeros kept
        (Field("order_id", "text", "the order's id"), f.text),
        (Field("payload", "JSON object, at most 30 KB", "more about the purchase, as key-value pairs"), f.payload),
    )
)


APPMETRICA_REVENUE = csv_endpoint(
    "appmetrica_revenue",
    "/logs/v1/import/revenue.csv",
    REVENUE_ROW,
    "In-app purchases and subscription events, to the AppMetrica Post API's revenue.csv",
    (
        "price: at most 10 digits before the decimal point and 8 after, never rounded",
        "currency in any case (usd or USD), from AppMetrica's list; BOV, MRU, VES and the others it lists as "
        "unsupported are refused",
    ),
)
