"""The emulators' routes for revenue, ad revenue, e-commerce (AppMetrica) and import_and_start(_batch) (Altcraft),
checked against the documentation's own samples and golden cases (docs/contracts/index.md#golden-cases) and
against each rule of the emulator checklist (docs/contracts/appmetrica.md#emulator, docs/contracts/altcraft.md#emulator)
they enforce. Everything goes over HTTP to 127.0.0.1.
The cases come from tests/golden_cases.py, copied from the spec: the client's tests take the same ones, so both sides
are checked against the spec's text, not against each other."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qsl, quote, urlencode, urlsplit

import pytest
import requests

from sandbox.altcraft_emulator import AltcraftEmulator
from sandbox.appmetrica_emulator import AppMetricaEmulator
from tests.golden_cases import (
    AC_IAS_CUSTOM,
    AC_IAS_FULL,
    AC_IAS_MIN,
    AC_IASB,
    AC_IASB_KEYS,
    ALTCRAFT_TOKEN,
    AM_ADR_CSV_CLIENT,
    AM_ADR_CSV_DOC,
    AM_ADR_Q_CLIENT,
    AM_ADR_Q_DOC,
    AM_ECO_CSV_CLIENT,
    AM_ECO_CSV_DOC,
    AM_ECO_CSV_FIX,
    AM_ECO_Q_CLIENT,
    AM_ECO_Q_DOC,
    AM_REV_CSV_CLIENT,
    AM_REV_CSV_DOC,
    AM_REV_Q_CLIENT,
    AM_REV_Q_DOC,
    NOW,
    POST_API_KEY,
    GoldenRequest,
    case_id,
)

OTHER_TOKEN = "another-token-for-database-2"
DEVICE_ID = "1757762239877245682"
HEX24 = "0123456789abcdef"


# --- fixtures and helpers -------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def _servers() -> Iterator[tuple[AppMetricaEmulator, AltcraftEmulator]]:
    post_api = AppMetricaEmulator(keys={POST_API_KEY: {"1111", "1234567890"}, "other-key": {"2222"}}, rate_limit=None)
    altcraft = AltcraftEmulator(tokens={ALTCRAFT_TOKEN: {1}, OTHER_TOKEN: {2}}, triggers={13: 1, 8: 1, 21: 2})
    post_api.start()
    altcraft.start()
    yield post_api, altcraft
    post_api.stop()
    altcraft.stop()


@pytest.fixture
def post_api(_servers: tuple[AppMetricaEmulator, AltcraftEmulator]) -> AppMetricaEmulator:
    """The AppMetrica emulator, emptied, its clock frozen at the golden cases' "now"
    (docs/contracts/index.md#golden-cases)."""
    emulator = _servers[0]
    emulator.reset()
    emulator.clock = lambda: float(NOW)
    return emulator


@pytest.fixture
def altcraft_api(_servers: tuple[AppMetricaEmulator, AltcraftEmulator]) -> Iterator[AltcraftEmulator]:
    emulator = _servers[1]
    emulator.reset()
    emulator.clock = lambda: float(NOW)
    yield emulator
    emulator.keep = True


def post(emulator: AppMetricaEmulator, target: str, body: str = "") -> requests.Response:
    return requests.post(emulator.url + target, data=body.encode(), timeout=10)


def changed(target: str, drop: tuple[str, ...] = (), values: dict[str, str] | None = None, **named: str) -> str:
    """The target with parameters dropped or set (percent-encoded the way the client cases are)."""
    values = {**(values or {}), **named}
    parts = urlsplit(target)
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k not in drop and k not in values]
    return parts.path + "?" + urlencode([*query, *values.items()], quote_via=quote)


def refusal(response: requests.Response) -> str:
    assert response.headers["Content-Type"] == "application/json"
    return str(response.json()["message"])


def trigger(
    emulator: AltcraftEmulator, body: dict[str, Any] | str, path: str = "import_and_start", **headers: str
) -> Any:
    data = body if isinstance(body, str) else json.dumps(body)
    response = requests.post(
        f"{emulator.url}/api/v1.1/campaigns/triggers/{path}",
        data=data.encode(),
        headers={"Content-Type": "application/json", **headers},
        timeout=10,
    )
    payload = response.json()
    if payload["error"] != 0:
        assert response.status_code == payload["error"]  # the HTTP status repeats a refusal's code
    else:
        assert response.status_code == 200
    return payload


def minimal(**changes: Any) -> dict[str, Any]:
    """G-AC-IAS-MIN as a dict, with changes (a None value drops the key)."""
    body = {**json.loads(AC_IAS_MIN.text), **changes}
    return {k: v for k, v in body.items() if v is not None}


def is_profile_id(value: Any) -> bool:
    return isinstance(value, str) and len(value) == 24 and set(value) <= set(HEX24)


# --- AppMetrica: the documented samples and golden cases  ---------------------------------------------------
def test_revenue_csv_doc_sample_is_taken_with_account_id_and_the_blank_line_ignored(
    post_api: AppMetricaEmulator,
) -> None:
    # Given the documented revenue CSV sample as printed (undocumented account_id, a trailing blank line)
    # When it is posted
    response = post(post_api, AM_REV_CSV_DOC.target, AM_REV_CSV_DOC.text)
    # Then it is taken: 200 with an empty body, both rows stored for application 1111
    assert (response.status_code, response.content) == (200, b"")
    rows = post_api.revenue("1111")
    assert [row["product_id"] for row in rows] == ["some_product1", "some_product2"]
    assert [row["revenue_event_type"] for row in rows] == ["promo_started", "expired"]
    assert [row["quantity"] for row in rows] == ["1", "2"]
    # And the unknown column is not stored, the default session_type is filled in
    assert all("account_id" not in row for row in rows)
    assert {row["session_type"] for row in rows} == {"background"}
    assert rows[0]["device_model"] == "iPhone X"
    assert (post_api.requests[-1].rows, post_api.requests[-1].accepted) == (2, 2)


def test_revenue_csv_client_case_is_taken(post_api: AppMetricaEmulator) -> None:
    # Given G-AM-REV-CSV-CLIENT
    # When it is posted
    response = post(post_api, AM_REV_CSV_CLIENT.target, AM_REV_CSV_CLIENT.text)
    # Then two rows are stored, identified by the device id only
    assert response.status_code == 200
    rows = post_api.revenue("1111")
    assert len(rows) == 2
    assert all(row["appmetrica_device_id"] == DEVICE_ID and "profile_id" not in row for row in rows)
    assert rows[1]["transaction_id"] == "transact2"


@pytest.mark.parametrize("case", [AM_REV_Q_DOC, AM_REV_Q_CLIENT], ids=case_id)
def test_revenue_parameter_forms_are_one_row(post_api: AppMetricaEmulator, case: GoldenRequest) -> None:
    # Given the revenue parameter form: as printed (.csv path, empty body, account_id) or as the client sends it
    # When it is posted with an empty body
    response = post(post_api, case.target, case.text)
    # Then the query string is the one record
    assert (response.status_code, response.content) == (200, b"")
    (row,) = post_api.revenue("1111")
    assert row["device_model"] == "iPhoneX"
    assert (row["price"], row["currency"], row["order_id"]) == ("0.0001", "usd", "8101")
    assert "account_id" not in row
    assert "post_api_key" not in row
    assert post_api.requests[-1].rows == 1


@pytest.mark.parametrize("case", [AM_ADR_CSV_DOC, AM_ADR_Q_DOC], ids=case_id)
def test_ad_revenue_doc_samples_send_both_ids_and_are_refused(
    post_api: AppMetricaEmulator, case: GoldenRequest
) -> None:
    # Given a documented ad revenue sample, which carries both profile_id and appmetrica_device_id
    # When it is posted to the strict emulator
    response = post(post_api, case.target, case.text)
    # Then it is refused whole (docs/contracts/appmetrica.md#identity: the server accepts only one of them)
    assert response.status_code == 400
    assert "only one of profile_id and appmetrica_device_id" in refusal(response)
    assert post_api.ad_revenue("1234567890") == []


@pytest.mark.parametrize("case", [AM_ADR_CSV_DOC, AM_ADR_Q_DOC], ids=case_id)
def test_ad_revenue_doc_samples_are_taken_and_flagged_in_doc_compat(
    post_api: AppMetricaEmulator, case: GoldenRequest
) -> None:
    # Given the emulator in doc-compat mode
    post_api.doc_compat = True
    # When a documented ad revenue sample is posted
    response = post(post_api, case.target, case.text)
    # Then it is taken, both ids stored and the row flagged; the CSV-quoted payload of the query form is unquoted
    assert response.status_code == 200
    (row,) = post_api.ad_revenue("1234567890")
    assert (row["profile_id"], row["appmetrica_device_id"]) == ("1234567890abcdef", DEVICE_ID)
    assert row["payload"] == '{"key":"value_1"}'
    assert (row["ad_unit_id"], row["ad_type"], row["precision"]) == ("0987654321", "banner", "estimated")
    assert post_api.state()["flagged"][0]["method"] == "adrevenue"


@pytest.mark.parametrize("case", [AM_ADR_CSV_CLIENT, AM_ADR_Q_CLIENT], ids=case_id)
def test_ad_revenue_client_cases_are_taken(post_api: AppMetricaEmulator, case: GoldenRequest) -> None:
    # Given an ad revenue client case (profile_id only)
    # When it is posted
    response = post(post_api, case.target, case.text)
    # Then the one row is stored with its payload as JSON text and its device fields
    assert (response.status_code, response.content) == (200, b"")
    (row,) = post_api.ad_revenue("1234567890")
    assert row["payload"] == '{"key":"value_1"}'
    assert row["device_ipv6"] == "2a02:6b8::40c:6676:baff:fea6:53d8"
    assert (row["revenue"], row["currency"], row["session_type"]) == ("0.0001", "usd", "foreground")
    assert "appmetrica_device_id" not in row
    assert post_api.state()["flagged"] == []


@pytest.mark.parametrize("doc_compat", [False, True], ids=["strict", "doc-compat"])
def test_ecommerce_csv_doc_sample_as_printed_is_refused_in_both_modes(
    post_api: AppMetricaEmulator, doc_compat: bool
) -> None:
    # Given the documented e-commerce CSV sample: header broken over two lines, a misaligned row
    # (docs/contracts/appmetrica.md#csv-body)
    post_api.doc_compat = doc_compat
    # When it is posted
    response = post(post_api, AM_ECO_CSV_DOC.target, AM_ECO_CSV_DOC.text)
    # Then it is refused, never repaired: line 2 has 53 cells where the 11-name header expects 11
    assert response.status_code == 400
    assert "line 2: 53 cells, the header has 11" in refusal(response)
    assert post_api.ecommerce("1234567890") == []


@pytest.mark.parametrize("case", [AM_ECO_CSV_FIX, AM_ECO_Q_DOC], ids=case_id)
@pytest.mark.parametrize("doc_compat", [False, True], ids=["strict", "doc-compat"])
def test_ecommerce_doc_samples_with_both_ids(
    post_api: AppMetricaEmulator, case: GoldenRequest, doc_compat: bool
) -> None:
    # Given the corrected CSV sample or the printed parameter sample, both carrying both ids
    post_api.doc_compat = doc_compat
    # When it is posted
    response = post(post_api, case.target, case.text)
    # Then strict refuses it (400) and doc-compat takes the one row, CSV quoting in the query undone
    if not doc_compat:
        assert response.status_code == 400
        assert post_api.ecommerce("1234567890") == []
        return
    assert response.status_code == 200
    (row,) = post_api.ecommerce("1234567890")
    assert row["product_promo_codes"] == ["promo_code_1", "promo_code_2"]
    assert row["screen_payload"] == '{"key":"value_1"}'
    assert (row["ios_ifv"], row["google_aid"], row["windows_aid"]) == ("54321edcba", "098765abcde", "567890abcde")


@pytest.mark.parametrize("case", [AM_ECO_CSV_CLIENT, AM_ECO_Q_CLIENT], ids=case_id)
def test_ecommerce_client_cases_are_taken_with_arrays_parsed(post_api: AppMetricaEmulator, case: GoldenRequest) -> None:
    # Given an e-commerce client case
    # When it is posted
    response = post(post_api, case.target, case.text)
    # Then the row is stored as docs/contracts/index.md#golden-cases says: promo codes as a list, internal prices as
    # one-element lists
    assert (response.status_code, response.content) == (200, b"")
    (row,) = post_api.ecommerce("1234567890")
    assert row["ecom_event_type"] == "ADD_TO_CART"
    assert row["product_promo_codes"] == ["promo_code_1", "promo_code_2"]
    assert row["cart_item_price_internal_currency"] == ["some_currency"]
    assert row["cart_item_price_internal_value"] == ["1.43"]
    assert row["original_price_internal_value"] == ["3"]
    assert (row["cart_item_price_currency"], row["cart_item_price_value"]) == ("usd", "0.5")
    assert row["product_sku"] == "012345abc"
    assert row["product_category_path_10"] == "product_path_10"
    assert "appmetrica_device_id" not in row


# --- AppMetrica: refusals per rule (docs/contracts/appmetrica.md#emulator, G-AM-NEG-*)
# -----------------------------------------------------------------
CLIENT_TARGETS = {
    "revenue": AM_REV_Q_CLIENT.target,
    "adrevenue": AM_ADR_Q_CLIENT.target,
    "ecommerce": AM_ECO_Q_CLIENT.target,
}
REQUIRED = [
    *(("revenue", name) for name in ("revenue_event_type", "event_timestamp", "price", "currency", "product_id")),
    *(("adrevenue", name) for name in ("event_timestamp", "revenue", "currency", "ad_type")),
    *(
        ("ecommerce", name)
        for name in (
            *("event_timestamp", "ecom_event_type", "order_id", "product_name", "cart_item_quantity"),
            *("original_price_currency", "original_price_value"),
        )
    ),
]


def stored(emulator: AppMetricaEmulator, method: str) -> list[dict[str, Any]]:
    return {
        "revenue": emulator.revenue("1111"),
        "adrevenue": emulator.ad_revenue("1234567890"),
        "ecommerce": emulator.ecommerce("1234567890"),
    }[method]


@pytest.mark.parametrize("method", list(CLIENT_TARGETS))
@pytest.mark.parametrize("key", [None, "WRONG"], ids=["no-key", "wrong-key"])
def test_a_missing_or_unknown_key_is_403(post_api: AppMetricaEmulator, method: str, key: str | None) -> None:
    # Given a client case without post_api_key, or with a key the emulator does not know (G-AM-NEG-1, -2)
    target = changed(CLIENT_TARGETS[method], drop=("post_api_key",), values={"post_api_key": key} if key else None)
    # When it is posted
    response = post(post_api, target)
    # Then it is 403 and nothing is stored
    assert response.status_code == 403
    assert stored(post_api, method) == []


def test_a_key_that_does_not_own_the_application_is_403(post_api: AppMetricaEmulator) -> None:
    # Given a key registered for application 2222 only
    target = changed(AM_ADR_Q_CLIENT.target, post_api_key="other-key")
    # When it writes to application 1234567890
    response = post(post_api, target)
    # Then it is 403
    assert response.status_code == 403
    assert "does not own application_id" in refusal(response)


@pytest.mark.parametrize(("method", "name"), REQUIRED)
def test_a_missing_required_field_is_400(post_api: AppMetricaEmulator, method: str, name: str) -> None:
    # Given a client case without one required field (G-AM-NEG-3 and the like)
    target = changed(CLIENT_TARGETS[method], drop=(name,))
    # When it is posted
    response = post(post_api, target)
    # Then it is 400 naming the field
    assert response.status_code == 400
    assert f"{name} is required" in refusal(response)
    assert stored(post_api, method) == []


@pytest.mark.parametrize(
    ("method", "name", "value"),
    [
        ("revenue", "revenue_event_type", "subscription_cancelled"),  # the export vocabulary (G-AM-NEG-4)
        ("revenue", "revenue_event_type", "PROMO_STARTED"),
        ("adrevenue", "ad_type", "video"),  # G-AM-NEG-5
        ("ecommerce", "ecom_event_type", "add_cart_item"),  # G-AM-NEG-6
        ("ecommerce", "ecom_event_type", "add_to_cart"),
        ("revenue", "session_type", "Foreground"),
    ],
)
def test_an_unknown_enumeration_value_is_400(post_api: AppMetricaEmulator, method: str, name: str, value: str) -> None:
    # Given a client case with a value outside the documented list
    target = changed(CLIENT_TARGETS[method], values={name: value})
    # When it is posted
    response = post(post_api, target)
    # Then it is 400
    assert response.status_code == 400
    assert name in refusal(response)


@pytest.mark.parametrize(
    ("method", "name", "value"),
    [
        ("revenue", "currency", "MRU"),  # listed as unsupported (G-AM-NEG-11)
        ("revenue", "currency", "XYZ"),
        ("adrevenue", "currency", "US"),
        ("ecommerce", "original_price_currency", "VES"),
        ("ecommerce", "cart_item_price_currency", "rouble"),
    ],
)
def test_a_currency_outside_the_documented_list_is_400(
    post_api: AppMetricaEmulator, method: str, name: str, value: str
) -> None:
    # Given a client case whose currency is not among the 168 listed codes (docs/contracts/appmetrica.md#currencies)
    target = changed(CLIENT_TARGETS[method], values={name: value})
    # When it is posted
    response = post(post_api, target)
    # Then it is 400
    assert response.status_code == 400
    assert f"{value} is not a supported currency" in refusal(response)


@pytest.mark.parametrize("currency", ["USD", "usd", "Eur", "BTC"])
def test_listed_currencies_are_taken_in_any_case(post_api: AppMetricaEmulator, currency: str) -> None:
    # Given a revenue row with a listed currency, upper or lower case (the samples send "usd")
    # When it is posted
    response = post(post_api, changed(AM_REV_Q_CLIENT.target, currency=currency))
    # Then it is taken as sent
    assert response.status_code == 200
    assert post_api.revenue("1111")[0]["currency"] == currency


@pytest.mark.parametrize("method", list(CLIENT_TARGETS))
def test_both_ids_or_neither_is_400(post_api: AppMetricaEmulator, method: str) -> None:
    # Given a client case with both ids, and one with neither (G-AM-NEG-7, -8)
    both = changed(CLIENT_TARGETS[method], profile_id="u1", appmetrica_device_id=DEVICE_ID)
    neither = changed(CLIENT_TARGETS[method], drop=("profile_id", "appmetrica_device_id"))
    # When they are posted
    answers = [post(post_api, both), post(post_api, neither)]
    # Then both are 400
    assert [answer.status_code for answer in answers] == [400, 400]
    assert "only one of" in refusal(answers[0])
    assert "one of profile_id and appmetrica_device_id is required" in refusal(answers[1])


@pytest.mark.parametrize("device_id", ["abc", "18446744073709551616", "-1"])
def test_a_device_id_that_is_not_an_unsigned_64_bit_number_is_400(post_api: AppMetricaEmulator, device_id: str) -> None:
    # Given a revenue row whose appmetrica_device_id is not a uint64 decimal
    # When it is posted
    response = post(post_api, changed(AM_REV_Q_CLIENT.target, appmetrica_device_id=device_id))
    # Then it is 400
    assert response.status_code == 400
    assert "appmetrica_device_id" in refusal(response)


@pytest.mark.parametrize(
    ("method", "name", "value"),
    [
        ("revenue", "event_timestamp", "1689943892000"),  # milliseconds (G-AM-NEG-9)
        ("revenue", "event_timestamp", "2023-07-21"),
        ("revenue", "quantity", "0"),
        ("revenue", "quantity", "1.5"),
        ("ecommerce", "cart_item_quantity", "-1"),
        ("adrevenue", "mcc", "two"),
        ("revenue", "price", "12345678901.5"),  # 11 integer digits (G-AM-NEG-12)
        ("revenue", "price", "0.123456789"),  # 9 fractional digits
        ("revenue", "price", "1e3"),
        ("revenue", "price", "1,5"),
        ("adrevenue", "revenue", "-0.5"),  # only price may be negative
        ("ecommerce", "original_price_value", "abc"),
        ("ecommerce", "actual_price_value", "-0.7"),
        ("ecommerce", "cart_item_price_internal_value", "[1.43,x]"),
    ],
)
def test_a_malformed_number_is_400(post_api: AppMetricaEmulator, method: str, name: str, value: str) -> None:
    # Given a client case with a number the documented type does not allow
    target = changed(CLIENT_TARGETS[method], values={name: value})
    # When it is posted
    response = post(post_api, target)
    # Then it is 400 naming the field
    assert response.status_code == 400
    assert name in refusal(response)


def test_a_negative_price_is_taken_for_refunds(post_api: AppMetricaEmulator) -> None:
    # Given a refund with a negative price (inference: the export says refunds may be negative)
    target = changed(AM_REV_Q_CLIENT.target, price="-9999999999.12345678", revenue_event_type="refund")
    # When it is posted
    response = post(post_api, target)
    # Then it is taken
    assert response.status_code == 200
    assert post_api.revenue("1111")[0]["price"] == "-9999999999.12345678"


def test_internal_currencies_and_values_must_pair_one_to_one(post_api: AppMetricaEmulator) -> None:
    # Given an e-commerce row with two internal currencies but one internal value, and one with a value alone
    uneven = changed(AM_ECO_Q_CLIENT.target, actual_price_internal_currency="[wood,iron]")
    alone = changed(AM_ECO_Q_CLIENT.target, drop=("original_price_internal_currency",))
    # When they are posted
    answers = [post(post_api, uneven), post(post_api, alone)]
    # Then both are 400
    assert [answer.status_code for answer in answers] == [400, 400]
    assert "must pair one to one" in refusal(answers[0])


def test_ecommerce_prices_fall_back_from_cart_to_actual_to_original(post_api: AppMetricaEmulator) -> None:
    # Given an e-commerce row with only the original price (cart and actual prices omitted)
    names = tuple(f"{price}_{part}" for price in ("cart_item_price", "actual_price") for part in PARTS)
    target = changed(AM_ECO_Q_CLIENT.target, drop=names, original_price_internal_currency="[wood,iron]")
    target = changed(target, original_price_internal_value="[25.01,10]")
    # When it is posted
    response = post(post_api, target)
    # Then the stored row carries the resolved prices along the documented chain
    assert response.status_code == 200
    (row,) = post_api.ecommerce("1234567890")
    for price in ("cart_item_price", "actual_price"):
        assert (row[f"{price}_currency"], row[f"{price}_value"]) == ("usd", "1.05")
        assert row[f"{price}_internal_currency"] == ["wood", "iron"]
        assert row[f"{price}_internal_value"] == ["25.01", "10"]


PARTS = ("currency", "value", "internal_currency", "internal_value")


def test_a_payload_over_30_kb_is_truncated_not_refused(post_api: AppMetricaEmulator) -> None:
    # Given an ad revenue row whose payload is 40,000 characters
    # When it is posted
    response = post(post_api, changed(AM_ADR_Q_CLIENT.target, payload="x" * 40_000))
    # Then it is taken with the payload cut to 30 KB
    assert response.status_code == 200
    assert post_api.ad_revenue("1234567890")[0]["payload"] == "x" * 30 * 1024


def test_rows_older_than_14_days_are_taken_but_dropped(post_api: AppMetricaEmulator) -> None:
    # Given a clock 15 days after the samples' event_timestamp (G-AM-NEG-10)
    post_api.clock = lambda: 1689943892 + 15 * 86400
    # When the revenue CSV client case is posted
    response = post(post_api, AM_REV_CSV_CLIENT.target, AM_REV_CSV_CLIENT.text)
    # Then it is answered 200, but the rows are dropped, not stored
    assert response.status_code == 200
    assert post_api.revenue("1111") == []
    assert [entry["reason"] for entry in post_api.state()["dropped"]] == ["older than 14 days"] * 2
    assert post_api.requests[-1].rows == 2


def test_rows_for_identifiers_the_sdk_never_sent_are_dropped(post_api: AppMetricaEmulator) -> None:
    # Given the emulator knowing only profile 1234567890abcdef
    post_api.known_ids = {"1234567890abcdef"}
    # When an ad revenue row for it and one for an unknown profile are posted
    known = post(post_api, AM_ADR_Q_CLIENT.target)
    unknown = post(post_api, changed(AM_ADR_Q_CLIENT.target, profile_id="stranger"))
    # Then both are answered 200, and only the known one is stored
    assert (known.status_code, unknown.status_code) == (200, 200)
    assert [row["profile_id"] for row in post_api.ad_revenue("1234567890")] == ["1234567890abcdef"]
    assert post_api.state()["dropped"][0]["reason"] == "an identifier the SDK never sent"


def test_more_than_100_000_rows_are_refused(post_api: AppMetricaEmulator) -> None:
    # Given a revenue CSV body of 100,001 rows (G-AM-NEG-13)
    header, row = AM_REV_CSV_CLIENT.text.splitlines()[:2]
    body = header + "\n" + (row + "\n") * 100_001
    # When it is posted
    response = post(post_api, AM_REV_CSV_CLIENT.target, body)
    # Then it is 400 and nothing is stored
    assert response.status_code == 400
    assert "more than 100000 rows" in refusal(response)
    assert post_api.revenue("1111") == []


def test_a_body_over_the_size_limit_is_413(post_api: AppMetricaEmulator) -> None:
    # Given a size limit lowered from 1 GB to 100 bytes
    post_api.max_body_bytes = 100
    # When the revenue CSV client case (555 bytes) is posted
    response = post(post_api, AM_REV_CSV_CLIENT.target, AM_REV_CSV_CLIENT.text)
    # Then it is 413
    assert response.status_code == 413


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("application_id,application_id\n1111,1111\n", "names a column twice"),
        ("application_id,profile_id\n1111\n", "line 2: 1 cells, the header has 2"),
        ('application_id,profile_id\n1111,"u1\n', "line 2"),
        ("\ufeffapplication_id\n1111\n", "byte order mark"),
    ],
    ids=["duplicate-header", "short-row", "open-quote", "bom"],
)
def test_malformed_csv_is_400(post_api: AppMetricaEmulator, body: str, message: str) -> None:
    # Given a CSV body the rules of docs/contracts/appmetrica.md#emulator refuse
    # When it is posted
    response = post(post_api, AM_REV_CSV_CLIENT.target, body)
    # Then it is 400 saying why
    assert response.status_code == 400
    assert message in refusal(response)


def test_query_parameters_are_defaults_for_csv_rows(post_api: AppMetricaEmulator) -> None:
    # Given a revenue CSV without application_id and currency columns, both given in the query string
    body = "appmetrica_device_id,event_timestamp,price,product_id,revenue_event_type\n"
    body += f"{DEVICE_ID},1689943892,1.5,p1,one_time_purchase\n{DEVICE_ID},1689943892,2.5,p2,refund\n"
    target = AM_REV_CSV_CLIENT.target + "&application_id=1111&currency=RUB"
    # When it is posted
    response = post(post_api, target, body)
    # Then each row takes them, and quantity gets its documented default of 1
    assert response.status_code == 200
    rows = post_api.revenue("1111")
    assert [(row["currency"], row["price"], row["quantity"]) for row in rows] == [
        ("RUB", "1.5", "1"),
        ("RUB", "2.5", "1"),
    ]


def test_the_parameter_path_ignores_a_body(post_api: AppMetricaEmulator) -> None:
    # Given the revenue parameter form (no .csv) with a CSV body that would be refused
    # When it is posted
    response = post(post_api, AM_REV_Q_CLIENT.target, "not,a\nvalid")
    # Then the query string alone is the record
    assert response.status_code == 200
    assert len(post_api.revenue("1111")) == 1


def test_get_is_405(post_api: AppMetricaEmulator) -> None:
    # Given the revenue path (G-AM-NEG-14)
    # When it is asked with GET
    response = requests.get(post_api.url + AM_REV_Q_CLIENT.target, timeout=10)
    # Then it is 405
    assert response.status_code == 405


def test_state_counts_the_stores_and_reset_clears_them(post_api: AppMetricaEmulator) -> None:
    # Given one request to each method taken
    for target in CLIENT_TARGETS.values():
        assert post(post_api, target).status_code == 200
    # When the state is read over HTTP, then the emulator reset
    state = requests.get(post_api.url + "/_emulator/state", timeout=10).json()
    post_api.reset()
    # Then the state counted one row per method, and reset emptied the stores and put the settings back
    assert (state["revenue"], state["ad_revenue"], state["ecommerce"]) == (
        {"1111": 1},
        {"1234567890": 1},
        {"1234567890": 1},
    )
    assert [post_api.revenue("1111"), post_api.ad_revenue("1234567890"), post_api.ecommerce("1234567890")] == [
        [],
        [],
        [],
    ]
    assert (post_api.doc_compat, post_api.known_ids) == (False, None)


def test_without_keep_rows_are_counted_not_stored(post_api: AppMetricaEmulator) -> None:
    # Given an emulator that keeps counts only (benchmarks)
    post_api.keep = False
    try:
        # When the revenue CSV client case is posted
        response = post(post_api, AM_REV_CSV_CLIENT.target, AM_REV_CSV_CLIENT.text)
    finally:
        post_api.keep = True
    # Then it is taken and counted, but not stored
    assert response.status_code == 200
    assert post_api.revenue("1111") == []
    assert (post_api.requests[-1].rows, post_api.requests[-1].accepted, post_api.accepted()) == (2, 2, 2)


# --- Altcraft: the golden cases  ----------------------------------------------------------------------------
def test_import_and_start_minimal_imports_and_starts_the_trigger(altcraft_api: AltcraftEmulator) -> None:
    # Given G-AC-IAS-MIN
    # When it is posted
    answer = trigger(altcraft_api, AC_IAS_MIN.text)
    # Then the answer has error 0 and a 24-hex profile id
    assert (answer["error"], answer["error_text"]) == (0, "Successful operation")
    assert is_profile_id(answer["profile_id"])
    # And the profile is in the trigger's database, and one launch of trigger 13 is recorded for it, without delay
    (profile,) = altcraft_api.profiles(1)
    assert (profile["id"], profile["_fname"], profile["_lname"]) == (answer["profile_id"], "John", "Doe")
    (launch,) = altcraft_api.triggers_started
    assert (launch.trigger_id, launch.db_id, launch.profile_id) == (13, 1, answer["profile_id"])
    assert launch.matched_by == {"matching": "email", "email": "john@example.com"}
    assert launch.scheduled_at == NOW
    assert altcraft_api.started(13) == [answer["profile_id"]]
    assert altcraft_api.requests[-1].accepted == 1


def test_import_and_start_full_records_timeout_content_custom_data_and_attachment(
    altcraft_api: AltcraftEmulator,
) -> None:
    # Given G-AC-IAS-FULL: every documented parameter with its documented example value
    # When it is posted
    answer = trigger(altcraft_api, AC_IAS_FULL.text)
    # Then it is taken, and the launch is scheduled five minutes on, with content, custom_data and the file
    assert answer["error"] == 0
    (launch,) = altcraft_api.triggers_started
    assert launch.scheduled_at == NOW + 300
    assert launch.content == {"page": "registration_form"}
    assert launch.custom_data == {"sending_time": "12:31:12"}
    ((attachment),) = launch.attachments
    assert (attachment.name, attachment.mimetype, attachment.data) == ("Attach.txt", "text/csv", b"HELLO\n")
    # And skip_triggers does not suppress the named trigger
    assert launch.skip_triggers is True


def test_import_and_start_custom_matching_finds_the_profile_by_the_field(altcraft_api: AltcraftEmulator) -> None:
    # Given a profile with CRM_ID 123420 already in database 1
    profile_id = altcraft_api.add_profile(1, {"CRM_ID": "123420", "_fname": "Old"})
    # When G-AC-IAS-CUSTOM is posted
    answer = trigger(altcraft_api, AC_IAS_CUSTOM.text)
    # Then that profile is updated and the trigger started for it
    assert answer == {"error": 0, "error_text": "Successful operation", "profile_id": profile_id}
    (profile,) = altcraft_api.profiles(1)
    assert (profile["_fname"], profile["CRM_ID"]) == ("John", "123420")
    (launch,) = altcraft_api.triggers_started
    assert launch.matched_by == {"matching": "custom", "field_name": "CRM_ID", "field_value": "123420"}


@pytest.mark.parametrize("case", [AC_IASB, AC_IASB_KEYS], ids=case_id)
def test_import_and_start_batch_answers_item_by_item(altcraft_api: AltcraftEmulator, case: GoldenRequest) -> None:
    # Given a batch of two profiles: keys inside data only (as documented), or also at item level (Data array page)
    # When it is posted
    answer = trigger(altcraft_api, case.text, "import_and_start_batch")
    # Then each item is answered in input order with its own profile id
    assert (answer["error"], len(answer["result"])) == (0, 2)
    assert all(item["error"] == 0 and is_profile_id(item["profile_id"]) for item in answer["result"])
    ids = [item["profile_id"] for item in answer["result"]]
    # And the profiles are stored with their e-mail, the phone string taken as one phone
    profiles = {profile["id"]: profile for profile in altcraft_api.profiles(1)}
    assert [profiles[i]["email"] for i in ids] == ["profile4@example.com", "profile3@example.com"]
    assert [profiles[i]["phones"] for i in ids] == [["+790000000000"], ["+790000000001"]]
    # And trigger 13 was started for each, matched by its e-mail
    assert altcraft_api.started(13) == ids
    assert [launch.matched_by["email"] for launch in altcraft_api.triggers_started] == [
        "profile4@example.com",
        "profile3@example.com",
    ]
    assert (altcraft_api.requests[-1].rows, altcraft_api.requests[-1].accepted) == (2, 2)


def test_a_repeated_batch_updates_the_same_profiles_and_starts_again(altcraft_api: AltcraftEmulator) -> None:
    # Given G-AC-IASB-KEYS taken once
    first = trigger(altcraft_api, AC_IASB_KEYS.text, "import_and_start_batch")
    # When it is posted again
    second = trigger(altcraft_api, AC_IASB_KEYS.text, "import_and_start_batch")
    # Then the same profiles are found (no duplicates), and the trigger started again for each (no idempotency)
    assert [item["profile_id"] for item in first["result"]] == [item["profile_id"] for item in second["result"]]
    assert len(altcraft_api.profiles(1)) == 2
    assert len(altcraft_api.triggers_started) == 4


def test_the_token_may_come_as_a_bearer_header_and_the_path_with_a_slash(altcraft_api: AltcraftEmulator) -> None:
    # Given G-AC-IAS-MIN without the token in the body
    body = minimal(token=None)
    # When it is posted with an Authorization header to the path with a trailing slash
    answer = trigger(altcraft_api, body, "import_and_start/", Authorization=f"Bearer {ALTCRAFT_TOKEN}")
    # Then it is taken
    assert answer["error"] == 0
    assert len(altcraft_api.triggers_started) == 1


# --- Altcraft: refusals per rule (docs/contracts/altcraft.md#emulator, G-AC-NEG-*)
# -------------------------------------------------------------------
@pytest.mark.parametrize(
    ("changes", "code", "text"),
    [
        ({"token": None}, 401, "API token required"),  # G-AC-NEG-1
        ({"token": "wrong"}, 403, "invalid API token"),
        ({"trigger_id": None}, 400, "trigger_id is required"),  # G-AC-NEG-2
        ({"trigger_id": "13"}, 400, "trigger_id is required"),
        ({"trigger_id": 999}, 404, "trigger 999 not found"),  # G-AC-NEG-3
        ({"trigger_id": 21}, 403, "No access to this trigger"),
        ({"matching": "phone"}, 400, "matching phone requires phone"),  # G-AC-NEG-4
        ({"matching": "custom", "field_value": "1"}, 400, "matching custom requires field_name"),  # G-AC-NEG-5
        ({"matching": "push_sub"}, 400, "matching must be one of"),
        ({"matching": "email", "email": None}, 400, "matching email requires email"),
        ({"email": "a@example.com;b@example.com"}, 400, "not one valid e-mail address"),  # G-AC-NEG-10
        ({"data": None}, 400, "data is required"),
        ({"data": [{"_fname": "John"}]}, 400, "data is required"),
        ({"timeout": {"minutes": -1}}, 400, "timeout.minutes must be a non-negative integer"),  # G-AC-NEG-7
        ({"timeout": {"seconds": 5}}, 400, "timeout must be an object of days, hours and minutes"),
        ({"attach": [{"data": "not-a-data-uri", "name": "x"}]}, 400, "data: URI"),  # G-AC-NEG-8
        ({"attach": [{"data": "data:text/plain;base64,%%%", "name": "x"}]}, 400, "base64 content is invalid"),
        ({"attach": [{"data": "data:text/plain;base64,SEVMTE8K"}]}, 400, "needs a name"),
        ({"content": "page"}, 400, "content must be an object"),
        ({"custom_data": ["x"]}, 400, "custom_data must be an object"),
        ({"skip_triggers": "yes"}, 400, "skip_triggers must be a boolean"),
        ({"resource_id": "24"}, 400, "resource_id must be an integer"),
        ({"add_to_segments": [1]}, 400, "unknown parameters: add_to_segments"),
        ({"_fname": "John"}, 400, "unknown parameters: _fname"),
        ({"data": {"email": "not-an-address"}}, 400, "not one valid e-mail address"),
    ],
)
def test_import_and_start_refusals(
    altcraft_api: AltcraftEmulator, changes: dict[str, Any], code: int, text: str
) -> None:
    # Given G-AC-IAS-MIN with one change the documentation (or its strict reading) forbids
    # When it is posted
    answer = trigger(altcraft_api, minimal(**changes))
    # Then it is refused with that code (the HTTP status repeats it) and nothing is imported or started
    assert answer["error"] == code
    assert text in answer["error_text"]
    assert altcraft_api.profiles(1) == []
    assert altcraft_api.triggers_started == []


def test_profile_id_matching_never_creates(altcraft_api: AltcraftEmulator) -> None:
    # Given matching by an unknown profile_id (G-AC-NEG-6)
    body = minimal(matching="profile_id", email=None, profile_id="60ae529b3f62fcdebdb159bb")
    # When it is posted
    answer = trigger(altcraft_api, body)
    # Then it is 404: no profile created, no launch
    assert answer["error"] == 404
    assert (altcraft_api.profiles(1), altcraft_api.triggers_started) == ([], [])


def test_profile_id_matching_updates_a_known_profile(altcraft_api: AltcraftEmulator) -> None:
    # Given a known profile
    profile_id = altcraft_api.add_profile(1, {"email": "old@example.com"})
    # When it is matched by its id
    answer = trigger(altcraft_api, minimal(matching="profile_id", email=None, profile_id=profile_id))
    # Then it is updated and the trigger started for it
    assert answer["profile_id"] == profile_id
    assert altcraft_api.profiles(1)[0]["_fname"] == "John"
    assert altcraft_api.started(13) == [profile_id]


def test_an_inactive_trigger_is_refused(altcraft_api: AltcraftEmulator) -> None:
    # Given trigger 13 made inactive
    altcraft_api.inactive_triggers.add(13)
    # When G-AC-IAS-MIN is posted
    answer = trigger(altcraft_api, AC_IAS_MIN.text)
    # Then it is refused and nothing started
    assert answer["error"] == 400
    assert "not active" in answer["error_text"]
    assert altcraft_api.triggers_started == []


def test_two_matching_profiles_are_409(altcraft_api: AltcraftEmulator) -> None:
    # Given two profiles with the e-mail G-AC-IAS-MIN matches by
    altcraft_api.add_profile(1, {"email": "john@example.com"})
    altcraft_api.add_profile(1, {"email": "john@example.com"})
    # When it is posted
    answer = trigger(altcraft_api, AC_IAS_MIN.text)
    # Then it is 409 and nothing started
    assert answer["error"] == 409
    assert altcraft_api.triggers_started == []


def test_a_body_that_is_not_json_is_refused(altcraft_api: AltcraftEmulator) -> None:
    # Given G-AC-IAS-MIN sent as XML content, and a body that is not JSON
    xml = requests.post(
        f"{altcraft_api.url}/api/v1.1/campaigns/triggers/import_and_start",
        data=b"<xml><token>abcdefghijklmnqrstuvwxyz</token></xml>",
        headers={"Content-Type": "application/xml"},
        timeout=10,
    )
    # When and Then: both are 400
    assert (xml.status_code, xml.json()["error"]) == (400, 400)
    assert trigger(altcraft_api, "{not json")["error"] == 400


def test_a_body_over_10_mb_without_attachments_is_413() -> None:
    # Given an emulator whose body limit is 300 bytes (files: 1,000)
    emulator = AltcraftEmulator(tokens={ALTCRAFT_TOKEN: {1}}, max_bytes=300, max_attach_bytes=1000).start()
    try:
        # When G-AC-IAS-MIN grows to 400 bytes without a file, and G-AC-IAS-FULL (424 bytes, a file) is posted
        big = trigger(emulator, minimal(content={"pad": "x" * 250}))
        with_file = trigger(emulator, AC_IAS_FULL.text)
    finally:
        emulator.stop()
    # Then the first is 413, the one with a file is taken
    assert big["error"] == 413
    assert with_file["error"] == 0


@pytest.mark.parametrize(
    ("item", "text"),
    [
        ("not an object", "must be an object"),
        ({"email": "x@example.com"}, "needs a data object"),
        ({"data": {"_fname": "A"}}, "matching email requires email"),
        ({"data": {"email": "x@example.com"}, "_fname": "A"}, "unknown keys in a data array item: _fname"),
        ({"data": {"email": "x@example.com"}, "custom_data": "x"}, "custom_data must be an object"),
        ({"data": {}, "email": "a@example.com,b@example.com"}, "not one valid e-mail address"),
        ({"data": {}, "custom_request": {"email": {"$in": ["a@example.com"]}}}, "custom_request is not supported"),
    ],
)
def test_a_bad_batch_item_is_refused_alone(altcraft_api: AltcraftEmulator, item: Any, text: str) -> None:
    # Given a batch of a good item, a bad one, and another good one
    good = [{"email": f"p{n}@example.com", "data": {"email": f"p{n}@example.com"}} for n in (1, 2)]
    body = {"token": ALTCRAFT_TOKEN, "trigger_id": 13, "data": [good[0], item, good[1]]}
    # When it is posted
    answer = trigger(altcraft_api, body, "import_and_start_batch")
    # Then the bad item is answered with error 400 in its place, and the others are imported and started
    assert [result["error"] for result in answer["result"]] == [0, 400, 0]
    assert text in answer["result"][1]["error_text"]
    assert len(altcraft_api.started(13)) == 2
    assert (altcraft_api.requests[-1].rows, altcraft_api.requests[-1].accepted) == (3, 2)


def test_batch_custom_data_per_item_overrides_the_root(altcraft_api: AltcraftEmulator) -> None:
    # Given a batch with custom_data at the root and on the second item
    items = [
        {"email": "p1@example.com", "data": {}},
        {"email": "p2@example.com", "data": {}, "custom_data": {"who": "item"}},
    ]
    body = {"token": ALTCRAFT_TOKEN, "trigger_id": 13, "custom_data": {"who": "root"}, "data": items}
    # When it is posted
    answer = trigger(altcraft_api, body, "import_and_start_batch")
    # Then each launch carries the custom_data that applies to it
    assert answer["error"] == 0
    assert [launch.custom_data for launch in altcraft_api.triggers_started] == [{"who": "root"}, {"who": "item"}]


@pytest.mark.parametrize("data", [None, [], {"data": {}}], ids=["missing", "empty", "object"])
def test_a_batch_without_a_data_array_is_refused_whole(altcraft_api: AltcraftEmulator, data: Any) -> None:
    # Given a batch whose data is missing, empty or an object
    body = {"token": ALTCRAFT_TOKEN, "trigger_id": 13, "data": data}
    # When it is posted
    answer = trigger(altcraft_api, body, "import_and_start_batch")
    # Then it is refused whole
    assert answer["error"] == 400
    assert "non-empty array" in answer["error_text"]


def test_a_batch_over_the_recommended_size_is_taken_with_a_warning() -> None:
    # Given an emulator recommending at most 2 items
    emulator = AltcraftEmulator(tokens={ALTCRAFT_TOKEN: {1}}, max_items=2).start()
    try:
        # When three items are posted
        items = [{"email": f"p{n}@example.com", "data": {}} for n in range(3)]
        answer = trigger(emulator, {"token": ALTCRAFT_TOKEN, "trigger_id": 13, "data": items}, "import_and_start_batch")
        state = emulator.state()
    finally:
        emulator.stop()
    # Then they are taken ("not recommended" is no refusal), and the state says so
    assert [result["error"] for result in answer["result"]] == [0, 0, 0]
    assert state["warnings"] == ["import_and_start_batch: 3 items, more than the recommended 2"]


def test_state_counts_launches_and_reset_clears_them(altcraft_api: AltcraftEmulator) -> None:
    # Given one single and one batch request taken
    trigger(altcraft_api, AC_IAS_MIN.text)
    trigger(altcraft_api, AC_IASB.text, "import_and_start_batch")
    # When the state is read over HTTP, then the emulator reset
    state = requests.get(altcraft_api.url + "/_emulator/state", timeout=10).json()
    altcraft_api.reset()
    # Then it counted three launches of trigger 13 and three profiles; reset emptied both, the triggers stay
    assert (state["triggers_started"], state["profiles"]["1"]) == ({"13": 3}, 3)
    assert (altcraft_api.triggers_started, altcraft_api.profiles(1)) == ([], [])
    assert altcraft_api.triggers == {13: 1, 8: 1, 21: 2}


def test_without_keep_launches_are_counted_not_recorded(altcraft_api: AltcraftEmulator) -> None:
    # Given an emulator that keeps counts only
    altcraft_api.keep = False
    # When a batch is posted
    answer = trigger(altcraft_api, AC_IASB_KEYS.text, "import_and_start_batch")
    # Then it is answered and counted, but neither profiles nor launches are kept
    assert [result["error"] for result in answer["result"]] == [0, 0]
    assert (altcraft_api.profiles(1), altcraft_api.triggers_started) == ([], [])
    assert altcraft_api.accepted() == 2


def test_the_documented_trigger_by_default_goes_to_the_lowest_database() -> None:
    # Given an emulator built without triggers
    emulator = AltcraftEmulator(tokens={"t": {5, 3}})
    # When and Then: trigger 13, the documented example id, imports into database 3
    assert emulator.triggers == {13: 3}
