"""Part C.1 of new-endpoints.md, byte for byte: the client cases' records go through each destination's preparer,
its CsvBatch and its sender, and the request is the spec's (path, query, Content-Type, Content-Length, body); the
documentation's own samples are parsed as the HTTPS door reads CSV and go the same way.

The bodies below are copied from the spec's exact requests (their Content-Length is checked too). The clock is frozen
at 1689984000 (2023-07-22T00:00:00Z) as C.0 says: the samples' event_timestamp 1689943892 is inside the window."""

from __future__ import annotations

import io
import time
from collections.abc import Mapping, Sequence
from typing import Any

import pytest
import requests

from courier.destinations.appmetrica.ad_revenue import APPMETRICA_AD_REVENUE
from courier.destinations.appmetrica.ecommerce import APPMETRICA_ECOMMERCE
from courier.destinations.appmetrica.revenue import APPMETRICA_REVENUE
from courier.http import retrying
from courier.model import Batch, Destination, Status
from courier.settings import Settings
from courier.sources.api_bodies import body_rows

NOW = 1689984000  # C.0's frozen clock
POST_API_KEY = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ012"
SETTINGS = Settings(APPMETRICA_API_URL="https://api.appmetrica.yandex.ru", APPMETRICA_POST_API_KEY=POST_API_KEY)
BOTH_IDS = "profile_id: send exactly one of profile_id and appmetrica_device_id, not both"

# G-AM-REV-CSV-DOC: the body of the exact request (Content-Length 607)
REV_CSV_DOC = (
    "appmetrica_device_id,device_model,device_type,google_aid,app_package_name,operator_name,mnc,"
    "application_id,account_id,event_timestamp,price,currency,product_id,quantity,transaction_id,"
    "order_id,revenue_event_type\n"
    "1757762239877245682,iPhone X,phone,01234567-890a-bcde-f012-3456789abcde,"
    "com.yandex.sample.metrica,MegaFon,2,1111,1234567890123456789,1689943892,0.0001,usd,"
    "some_product1,1,transact1,8101,promo_started\n"
    "1757762239877245682,iPhone X,phone,76543210-890a-bcde-f012-3456789abcde,"
    "com.yandex.sample.metrica,MegaFon,2,1111,9876543210987654321,1689943892,0.0001,usd,"
    "some_product2,2,transact2,1234,expired\n"
    "\n"
)

# G-AM-REV-CSV-CLIENT: the body of the exact request (Content-Length 555)
REV_CSV_CLIENT = (
    "appmetrica_device_id,device_model,device_type,google_aid,app_package_name,operator_name,mnc,"
    "application_id,event_timestamp,price,currency,product_id,quantity,transaction_id,order_id,"
    "revenue_event_type\n"
    "1757762239877245682,iPhone X,phone,01234567-890a-bcde-f012-3456789abcde,"
    "com.yandex.sample.metrica,MegaFon,2,1111,1689943892,0.0001,usd,some_product1,1,transact1,8101,"
    "promo_started\n"
    "1757762239877245682,iPhone X,phone,76543210-890a-bcde-f012-3456789abcde,"
    "com.yandex.sample.metrica,MegaFon,2,1111,1689943892,0.0001,usd,some_product2,2,transact2,1234,"
    "expired\n"
)

# G-AM-ADR-CSV-DOC: the body of the exact request (Content-Length 759)
ADR_CSV_DOC = (
    "application_id,profile_id,appmetrica_device_id,event_timestamp,revenue,currency,ad_type,"
    "ad_network,ad_unit_id,ad_unit_name,ad_placement_id,ad_placement_name,precision,payload,"
    "session_type,ios_ifa,ios_ifv,google_aid,windows_aid,os_name,os_version,device_manufacturer,"
    "device_model,device_type,device_locale,app_version_name,app_package_name,connection_type,"
    "operator_name,mcc,mnc,device_ipv6\n"
    "1234567890,1234567890abcdef,1757762239877245682,1689943892,0.0001,usd,banner,some_network_name,"
    '0987654321,some_unit_name,12345000,some_placement_name,estimated,"{""key"":""value_1""}",'
    "foreground,123456abcde,54321edcba,098765abcde,567890abcde,ios,16.6,Apple,iPhone14Pro,phone,"
    "en_US,some_version_name,some_package_name,wifi,MegaFon,250,2,2a02:6b8::40c:6676:baff:fea6:53d8\n"
)

# G-AM-ADR-CSV-CLIENT: the body of the exact request (Content-Length 718)
ADR_CSV_CLIENT = (
    "application_id,profile_id,event_timestamp,revenue,currency,ad_type,ad_network,ad_unit_id,"
    "ad_unit_name,ad_placement_id,ad_placement_name,precision,payload,session_type,ios_ifa,ios_ifv,"
    "google_aid,windows_aid,os_name,os_version,device_manufacturer,device_model,device_type,"
    "device_locale,app_version_name,app_package_name,connection_type,operator_name,mcc,mnc,"
    "device_ipv6\n"
    "1234567890,1234567890abcdef,1689943892,0.0001,usd,banner,some_network_name,0987654321,"
    'some_unit_name,12345000,some_placement_name,estimated,"{""key"":""value_1""}",foreground,'
    "123456abcde,54321edcba,098765abcde,567890abcde,ios,16.6,Apple,iPhone14Pro,phone,en_US,"
    "some_version_name,some_package_name,wifi,MegaFon,250,2,2a02:6b8::40c:6676:baff:fea6:53d8\n"
)

# G-AM-ECO-CSV-DOC: the body of the exact request (Content-Length 1976)
ECO_CSV_DOC = (
    "application_id,profile_id,appmetrica_device_id,event_timestamp,ecom_event_type,order_id,"
    "product_name,cart_item_quantity,cart_item_price_currency,cart_item_price_value,"
    "cart_item_price_internal_currency\n"
    "cart_item_price_internal_value,actual_price_currency,actual_price_value,"
    "actual_price_internal_currency,actual_price_internal_value,payload,product_category_path_1,"
    "product_category_path_2,product_category_path_3,product_category_path_4,product_category_path_5,"
    "product_category_path_6,product_category_path_7,product_category_path_8,product_category_path_9,"
    "product_category_path_10,original_price_currency,original_price_value,"
    "original_price_internal_currency,original_price_internal_value,product_payload,"
    "product_promo_codes,product_sku,screen_category_path_1,screen_category_path_2,"
    "screen_category_path_3,screen_category_path_4,screen_category_path_5,screen_category_path_6,"
    "screen_category_path_7,screen_category_path_8,screen_category_path_9,screen_category_path_10,"
    "screen_name,screen_payload,session_type,ios_ifa,ios_ifv,google_aid,windows_aid,os_name,"
    "os_version,device_manufacturer,device_model,device_type,device_locale,app_version_name,"
    "app_package_name,connection_type,operator_name,mcc,mnc,device_ipv6\n"
    "1234567890,1234567890abcdef,1234567890abcdef,1757762239877245682,1689943892,ADD_TO_CART,"
    "a1b2c3d4,some_product,1,usd,0.5,some_currency,1.43,usd,0.7,some_currency,2,"
    '"{""key"":""value_1""}",product_path_1,product_path_2,product_path_3,product_path_4,'
    "product_path_5,product_path_6,product_path_7,product_path_8,product_path_9,product_path_10,usd,"
    '1.05,some_currency,3,"{""key"":""value_1""}","[promo_code_1,promo_code_2]",012345abc,'
    "screen_path_1,screen_path_2,screen_path_3,screen_path_4,screen_path_5,screen_path_6,"
    'screen_path_7,screen_path_8,screen_path_9,screen_path_10,some_screen,"{""key"":""value_1""}",'
    "foreground,123456abcde,567890abcde,ios,16.6,Apple,iPhone14Pro,phone,en_US,some_version_name,"
    "some_package_name,wifi,MegaFon,250,2,2a02:6b8::40c:6676:baff:fea6:53d8\n"
)

# G-AM-ECO-CSV-FIX: the body of the exact request (Content-Length 1982)
ECO_CSV_FIX = (
    "application_id,profile_id,appmetrica_device_id,event_timestamp,ecom_event_type,order_id,"
    "product_name,cart_item_quantity,cart_item_price_currency,cart_item_price_value,"
    "cart_item_price_internal_currency,cart_item_price_internal_value,actual_price_currency,"
    "actual_price_value,actual_price_internal_currency,actual_price_internal_value,payload,"
    "product_category_path_1,product_category_path_2,product_category_path_3,product_category_path_4,"
    "product_category_path_5,product_category_path_6,product_category_path_7,product_category_path_8,"
    "product_category_path_9,product_category_path_10,original_price_currency,original_price_value,"
    "original_price_internal_currency,original_price_internal_value,product_payload,"
    "product_promo_codes,product_sku,screen_category_path_1,screen_category_path_2,"
    "screen_category_path_3,screen_category_path_4,screen_category_path_5,screen_category_path_6,"
    "screen_category_path_7,screen_category_path_8,screen_category_path_9,screen_category_path_10,"
    "screen_name,screen_payload,session_type,ios_ifa,ios_ifv,google_aid,windows_aid,os_name,"
    "os_version,device_manufacturer,device_model,device_type,device_locale,app_version_name,"
    "app_package_name,connection_type,operator_name,mcc,mnc,device_ipv6\n"
    "1234567890,1234567890abcdef,1757762239877245682,1689943892,ADD_TO_CART,a1b2c3d4,some_product,1,"
    'usd,0.5,some_currency,1.43,usd,0.7,some_currency,2,"{""key"":""value_1""}",product_path_1,'
    "product_path_2,product_path_3,product_path_4,product_path_5,product_path_6,product_path_7,"
    'product_path_8,product_path_9,product_path_10,usd,1.05,some_currency,3,"{""key"":""value_1""}",'
    '"[promo_code_1,promo_code_2]",012345abc,screen_path_1,screen_path_2,screen_path_3,screen_path_4,'
    "screen_path_5,screen_path_6,screen_path_7,screen_path_8,screen_path_9,screen_path_10,"
    'some_screen,"{""key"":""value_1""}",foreground,123456abcde,54321edcba,098765abcde,567890abcde,'
    "ios,16.6,Apple,iPhone14Pro,phone,en_US,some_version_name,some_package_name,wifi,MegaFon,250,2,"
    "2a02:6b8::40c:6676:baff:fea6:53d8\n"
)

# G-AM-ECO-CSV-CLIENT: the body of the exact request (Content-Length 1941)
ECO_CSV_CLIENT = (
    "application_id,profile_id,event_timestamp,ecom_event_type,order_id,product_name,"
    "cart_item_quantity,cart_item_price_currency,cart_item_price_value,"
    "cart_item_price_internal_currency,cart_item_price_internal_value,actual_price_currency,"
    "actual_price_value,actual_price_internal_currency,actual_price_internal_value,payload,"
    "product_category_path_1,product_category_path_2,product_category_path_3,product_category_path_4,"
    "product_category_path_5,product_category_path_6,product_category_path_7,product_category_path_8,"
    "product_category_path_9,product_category_path_10,original_price_currency,original_price_value,"
    "original_price_internal_currency,original_price_internal_value,product_payload,"
    "product_promo_codes,product_sku,screen_category_path_1,screen_category_path_2,"
    "screen_category_path_3,screen_category_path_4,screen_category_path_5,screen_category_path_6,"
    "screen_category_path_7,screen_category_path_8,screen_category_path_9,screen_category_path_10,"
    "screen_name,screen_payload,session_type,ios_ifa,ios_ifv,google_aid,windows_aid,os_name,"
    "os_version,device_manufacturer,device_model,device_type,device_locale,app_version_name,"
    "app_package_name,connection_type,operator_name,mcc,mnc,device_ipv6\n"
    "1234567890,1234567890abcdef,1689943892,ADD_TO_CART,a1b2c3d4,some_product,1,usd,0.5,"
    'some_currency,1.43,usd,0.7,some_currency,2,"{""key"":""value_1""}",product_path_1,'
    "product_path_2,product_path_3,product_path_4,product_path_5,product_path_6,product_path_7,"
    'product_path_8,product_path_9,product_path_10,usd,1.05,some_currency,3,"{""key"":""value_1""}",'
    '"[promo_code_1,promo_code_2]",012345abc,screen_path_1,screen_path_2,screen_path_3,screen_path_4,'
    "screen_path_5,screen_path_6,screen_path_7,screen_path_8,screen_path_9,screen_path_10,"
    'some_screen,"{""key"":""value_1""}",foreground,123456abcde,54321edcba,098765abcde,567890abcde,'
    "ios,16.6,Apple,iPhone14Pro,phone,en_US,some_version_name,some_package_name,wifi,MegaFon,250,2,"
    "2a02:6b8::40c:6676:baff:fea6:53d8\n"
)

REVENUE_RECORDS: list[dict[str, Any]] = [  # G-AM-REV-CSV-CLIENT's input: the sample's rows without account_id
    {
        "appmetrica_device_id": "1757762239877245682",
        "device_model": "iPhone X",
        "device_type": "phone",
        "google_aid": "01234567-890a-bcde-f012-3456789abcde",
        "app_package_name": "com.yandex.sample.metrica",
        "operator_name": "MegaFon",
        "mnc": "2",
        "application_id": "1111",
        "event_timestamp": "1689943892",
        "price": "0.0001",
        "currency": "usd",
        "product_id": "some_product1",
        "quantity": "1",
        "transaction_id": "transact1",
        "order_id": "8101",
        "revenue_event_type": "promo_started",
    },
    {
        "appmetrica_device_id": "1757762239877245682",
        "device_model": "iPhone X",
        "device_type": "phone",
        "google_aid": "76543210-890a-bcde-f012-3456789abcde",
        "app_package_name": "com.yandex.sample.metrica",
        "operator_name": "MegaFon",
        "mnc": "2",
        "application_id": "1111",
        "event_timestamp": "1689943892",
        "price": "0.0001",
        "currency": "usd",
        "product_id": "some_product2",
        "quantity": "2",
        "transaction_id": "transact2",
        "order_id": "1234",
        "revenue_event_type": "expired",
    },
]
DEVICE_FIELDS = {  # the ad revenue and e-commerce samples' device part
    "session_type": "foreground",
    "ios_ifa": "123456abcde",
    "ios_ifv": "54321edcba",
    "google_aid": "098765abcde",
    "windows_aid": "567890abcde",
    "os_name": "ios",
    "os_version": "16.6",
    "device_manufacturer": "Apple",
    "device_model": "iPhone14Pro",
    "device_type": "phone",
    "device_locale": "en_US",
    "app_version_name": "some_version_name",
    "app_package_name": "some_package_name",
    "connection_type": "wifi",
    "operator_name": "MegaFon",
    "mcc": "250",
    "mnc": "2",
    "device_ipv6": "2a02:6b8::40c:6676:baff:fea6:53d8",
}
AD_REVENUE_RECORD: dict[str, Any] = {  # G-AM-ADR-CSV-CLIENT's input: the sample minus appmetrica_device_id
    "application_id": "1234567890",
    "profile_id": "1234567890abcdef",
    "event_timestamp": "1689943892",
    "revenue": "0.0001",
    "currency": "usd",
    "ad_type": "banner",
    "ad_network": "some_network_name",
    "ad_unit_id": "0987654321",
    "ad_unit_name": "some_unit_name",
    "ad_placement_id": "12345000",
    "ad_placement_name": "some_placement_name",
    "precision": "estimated",
    "payload": '{"key":"value_1"}',
    **DEVICE_FIELDS,
}
ECOMMERCE_RECORD: dict[str, Any] = {  # G-AM-ECO-CSV-CLIENT's input: the corrected sample minus appmetrica_device_id
    "application_id": "1234567890",
    "profile_id": "1234567890abcdef",
    "event_timestamp": "1689943892",
    "ecom_event_type": "ADD_TO_CART",
    "order_id": "a1b2c3d4",
    "product_name": "some_product",
    "cart_item_quantity": "1",
    "cart_item_price_currency": "usd",
    "cart_item_price_value": "0.5",
    "cart_item_price_internal_currency": "some_currency",
    "cart_item_price_internal_value": "1.43",
    "actual_price_currency": "usd",
    "actual_price_value": "0.7",
    "actual_price_internal_currency": "some_currency",
    "actual_price_internal_value": "2",
    "payload": '{"key":"value_1"}',
    **{f"product_category_path_{level}": f"product_path_{level}" for level in range(1, 11)},
    "original_price_currency": "usd",
    "original_price_value": "1.05",
    "original_price_internal_currency": "some_currency",
    "original_price_internal_value": "3",
    "product_payload": '{"key":"value_1"}',
    "product_promo_codes": "[promo_code_1,promo_code_2]",
    "product_sku": "012345abc",
    **{f"screen_category_path_{level}": f"screen_path_{level}" for level in range(1, 11)},
    "screen_name": "some_screen",
    "screen_payload": '{"key":"value_1"}',
    **DEVICE_FIELDS,
}
CLIENT_CASES = [
    pytest.param(APPMETRICA_REVENUE, REVENUE_RECORDS, REV_CSV_CLIENT, 555, id="G-AM-REV-CSV-CLIENT"),
    pytest.param(APPMETRICA_AD_REVENUE, [AD_REVENUE_RECORD], ADR_CSV_CLIENT, 718, id="G-AM-ADR-CSV-CLIENT"),
    pytest.param(APPMETRICA_ECOMMERCE, [ECOMMERCE_RECORD], ECO_CSV_CLIENT, 1941, id="G-AM-ECO-CSV-CLIENT"),
]
PATHS = {
    "appmetrica_revenue": "/logs/v1/import/revenue.csv",
    "appmetrica_ad_revenue": "/logs/v1/import/adrevenue.csv",
    "appmetrica_ecommerce": "/logs/v1/import/ecommerce.csv",
}


def as_json(record: Mapping[str, Any]) -> dict[str, Any]:
    """The same record as a JSON body would carry it: numbers as numbers, objects and arrays as such."""
    numbers = {"application_id", "appmetrica_device_id", "event_timestamp", "mcc", "mnc", "quantity"}
    numbers |= {"cart_item_quantity", "order_id" if record.get("order_id", "").isdigit() else ""}
    decimals = {"price", "revenue", *(name for name in record if name.endswith(("_value", "_internal_value")))}
    typed: dict[str, Any] = {}
    for name, value in record.items():
        if name in numbers:
            typed[name] = int(value)
        elif name in decimals:
            typed[name] = float(value) if "." in value else int(value)
        elif name.endswith("payload"):
            typed[name] = {"key": "value_1"}
        elif name == "product_promo_codes":
            typed[name] = ["promo_code_1", "promo_code_2"]
        else:
            typed[name] = value
    return typed


def client_batch(destination: Destination, records: Sequence[Mapping[str, Any]]) -> Batch:
    """Records → the destination's preparer → its new_batch, as the delivery driver does."""
    prepare = destination.make_preparer(SETTINGS, NOW)
    batch: Batch | None = None
    for index, record in enumerate(records):
        fields, errors = prepare(record)
        assert errors == []
        assert fields is not None
        batch = batch or destination.new_batch(destination.batch_key(fields))
        batch.add(fields, index, record)
    assert batch is not None
    return batch


def body_of(batch: Batch) -> bytes:
    return bytes(batch.body())  # type: ignore[attr-defined]  # a CsvBatch: the Post API's body


def doc_records(body: str) -> list[dict[str, str]]:
    """A documented CSV body read as the HTTPS door reads text/csv (blank lines skipped, every row complete)."""
    rows = body_rows(body, "text/csv")
    assert [error for _, _, error in rows] == [""] * len(rows)
    return [record for _, record, _ in rows]


class Recorder(requests.Session):
    """A session that answers 200 itself and keeps the request it would have sent."""

    def __init__(self) -> None:
        super().__init__()
        self.sent: list[requests.PreparedRequest] = []

    def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:
        self.sent.append(request)
        answer = requests.Response()
        answer.status_code, answer.raw, answer.request = 200, io.BytesIO(b""), request
        return answer


@pytest.fixture
def recorder(monkeypatch: pytest.MonkeyPatch) -> Recorder:
    session = Recorder()
    monkeypatch.setattr(retrying, "new_session", lambda: session)
    return session


@pytest.mark.parametrize(("destination", "records", "expected", "length"), CLIENT_CASES)
def test_the_client_cases_body_is_the_specs_byte_for_byte(
    destination: Destination, records: list[dict[str, Any]], expected: str, length: int
) -> None:
    # Given the case's records, as CSV cells, in the sample's column order
    # When they go through the destination's preparer into its batch
    body = body_of(client_batch(destination, records))
    # Then the body is the spec's, byte for byte (header in first-seen order, minimal quoting, LF after every line)
    assert len(expected.encode()) == length
    assert body == expected.encode("utf-8")


@pytest.mark.parametrize(("destination", "records", "expected", "length"), CLIENT_CASES)
def test_the_same_records_from_json_give_the_same_bytes(
    destination: Destination, records: list[dict[str, Any]], expected: str, length: int
) -> None:
    # Given the same records as a JSON body carries them (numbers, a payload object, a promo-code array)
    typed = [as_json(record) for record in records]
    assert typed != records
    # When they are prepared and batched
    body = body_of(client_batch(destination, typed))
    # Then the body is still the spec's
    assert body == expected.encode("utf-8")


@pytest.mark.parametrize(("destination", "records", "expected", "length"), CLIENT_CASES)
def test_the_client_cases_request_is_the_specs(
    destination: Destination, records: list[dict[str, Any]], expected: str, length: int, recorder: Recorder
) -> None:
    # Given the case's batch and the destination's own sender, pointed at the samples' host
    batch = client_batch(destination, records)
    sender = destination.make_sender(SETTINGS)
    # When it is sent (the session answers 200 without a network)
    result = sender.send(batch, time.time() + 30)
    # Then one POST went to the .csv path with the key in the query, and the CSV body and its length are the spec's
    assert result.status is Status.DELIVERED
    (request,) = recorder.sent
    assert request.method == "POST"
    assert request.path_url == f"{PATHS[destination.name]}?post_api_key={POST_API_KEY}"
    assert request.url == f"https://api.appmetrica.yandex.ru{request.path_url}"
    assert request.headers["Content-Type"] == "text/csv; charset=utf-8"
    assert request.headers["Content-Length"] == str(length)
    assert bytes(request.body) == expected.encode("utf-8")  # type: ignore[arg-type]


def test_g_am_rev_csv_doc_is_read_and_sent_without_account_id() -> None:
    # Given the documented revenue sample as printed: the undocumented account_id column and a trailing blank line
    assert len(REV_CSV_DOC.encode()) == 607
    records = doc_records(REV_CSV_DOC)
    assert [record["account_id"] for record in records] == ["1234567890123456789", "9876543210987654321"]
    # When its two rows go through the revenue preparer and batch
    body = body_of(client_batch(APPMETRICA_REVENUE, records))
    # Then account_id is not a field of the endpoint and is not sent: the body is G-AM-REV-CSV-CLIENT's
    assert not APPMETRICA_REVENUE.knows("account_id")
    assert body == REV_CSV_CLIENT.encode("utf-8")


def test_g_am_adr_csv_doc_is_refused_for_sending_both_ids_and_sent_with_profile_id_only() -> None:
    # Given the documented ad revenue sample, which sends profile_id and appmetrica_device_id
    assert len(ADR_CSV_DOC.encode()) == 759
    (record,) = doc_records(ADR_CSV_DOC)
    # When it is prepared as printed
    fields, errors = APPMETRICA_AD_REVENUE.make_preparer(SETTINGS, NOW)(record)
    # Then it is refused for the one-id rule, and nothing else
    assert fields is None
    assert errors == [BOTH_IDS]
    # And without appmetrica_device_id (C.0: the client keeps profile_id) it is G-AM-ADR-CSV-CLIENT's body
    without_device = {name: value for name, value in record.items() if name != "appmetrica_device_id"}
    assert without_device == AD_REVENUE_RECORD
    assert body_of(client_batch(APPMETRICA_AD_REVENUE, [without_device])) == ADR_CSV_CLIENT.encode("utf-8")


def test_g_am_eco_csv_doc_is_not_repaired_its_rows_do_not_match_the_header() -> None:
    # Given the documented e-commerce sample as printed: the header broken after 11 names, a 63-value row
    assert len(ECO_CSV_DOC.encode()) == 1976
    # When the HTTPS door reads it as text/csv
    rows = body_rows(ECO_CSV_DOC, "text/csv")
    # Then the 11-name first line is the header and both other lines are refused as rows of the wrong width
    assert [error for _, _, error in rows] == ["row: has 53 cells, the header 11", "row: has 63 cells, the header 11"]
    # And even under the joined 64-name header the printed row is one value short (a duplicate in, two out)
    header, _, row = ECO_CSV_DOC.partition("\n")[2].partition("\n")
    joined = ECO_CSV_DOC.partition("\n")[0] + "," + header
    assert len(joined.split(",")) == 64
    assert [error for _, _, error in body_rows(joined + "\n" + row, "text/csv")] == ["row: has 63 cells, the header 64"]


def test_g_am_eco_csv_fix_is_refused_for_both_ids_and_sent_with_profile_id_only() -> None:
    # Given the corrected e-commerce sample, which still sends both ids (an emulator case, not a client output)
    assert len(ECO_CSV_FIX.encode()) == 1982
    (record,) = doc_records(ECO_CSV_FIX)
    assert record["appmetrica_device_id"] == "1757762239877245682"
    # When it is prepared as printed
    fields, errors = APPMETRICA_ECOMMERCE.make_preparer(SETTINGS, NOW)(record)
    # Then it is refused for the one-id rule only
    assert fields is None
    assert errors == [BOTH_IDS]
    # And without appmetrica_device_id it is G-AM-ECO-CSV-CLIENT's body, byte for byte
    without_device = {name: value for name, value in record.items() if name != "appmetrica_device_id"}
    assert without_device == ECOMMERCE_RECORD
    assert body_of(client_batch(APPMETRICA_ECOMMERCE, [without_device])) == ECO_CSV_CLIENT.encode("utf-8")


def test_with_a_real_clock_the_samples_are_outside_the_window() -> None:
    # Given the revenue client case's first record and today's clock
    prepare = APPMETRICA_REVENUE.make_preparer(SETTINGS, time.time())
    # When it is prepared
    fields, errors = prepare(REVENUE_RECORDS[0])
    # Then it is refused before AppMetrica could drop it silently (why C.0 freezes the clock)
    assert fields is None
    assert len(errors) == 1
    assert errors[0].startswith("event_timestamp: is older than the Post API's 14-day window")
