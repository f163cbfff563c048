"""POST /logs/v1/import/adrevenue.csv: revenue from ad impressions (docs/contracts/appmetrica.md#ad-revenue)."""

from __future__ import annotations

from courier.destinations.appmetrica import fields as f
from courier.destinations.appmetrica.csv_endpoint import csv_endpoint
from courier.model import Field

AD_TYPES = ("native", "banner", "rewarded", "interstitial", "mrec", "other")

AD_REVENUE_ROW = f.RowFormat(
    (
        (
            # inference: not negative (the documentation says nothing of the sign; revenue per impression)
            Field("revenue", "decimal(10,8), not negative", "the revenue of one ad impression", required=True),
            f.decimal(),
        ),
        (
            Field("currency", "currency code (ISO 4217, AppMetrica's list)", "the revenue's currency", required=True),
            f.currency,
        ),
        (Field("ad_type", "one of: " + ", ".join(AD_TYPES), "the kind of ad", required=True), f.one_of(*AD_TYPES)),
        (Field("ad_network", "text", "the advertising network's name"), f.text),
        # inference: typed int, but the sample `0987654321` has a leading zero: kept as text, as written
        (Field("ad_unit_id", "text", "the unit's id at the advertising network"), f.text),
        (Field("ad_unit_name", "text", "the unit's name at the advertising network"), f.text),
        # inference: typed int: kept as text, as written (leading zeros too)
        (Field("ad_placement_id", "text", "the placement's id at the advertising network"), f.text),
        (Field("ad_placement_name", "text", "the placement's name at the advertising network"), f.text),
        # inference: the documentation lists examples only ("For example, publisher_defined, estimated"): any text
        (Field("precision", "text", "how exact the revenue is, such as publisher_defined or estimated"), f.text),
        (Field("payload", "JSON object, at most 30 KB", "more about the impression, as key-value pairs"), f.payload),
    )
)


APPMETRICA_AD_REVENUE = csv_endpoint(
    "appmetrica_ad_revenue",
    "/logs/v1/import/adrevenue.csv",
    AD_REVENUE_ROW,
    "Revenue from ad impressions, to the AppMetrica Post API's adrevenue.csv",
    (
        "revenue: at most 10 digits before the decimal point and 8 after, never rounded",
        "currency in any case (usd or USD), from AppMetrica's list; the codes it lists as unsupported are refused",
    ),
)
