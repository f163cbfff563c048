"""The golden cases (docs/contracts/index.md#golden-cases), each written here once: AppMetrica revenue, ad revenue
and e-commerce (C.1) and Altcraft campaigns/triggers/import_and_start(_batch) (C.2), then Altcraft profiles/add(_batch),
workflows/import_and_start, profiles/delete, subscriptions/set and goals/register. A case holds the spec's exact
request (target, body, Content-Length), copied from the spec as printed, and, where a test has the client produce
it, the client's input records. Where a page prints its example answer, the answer is here too, as printed.

The emulator tests (tests/unit/test_emulator_new_routes.py, tests/unit/test_altcraft_emulator_upload_methods.py) and
the client tests (tests/unit/test_golden_appmetrica_new.py, tests/unit/test_golden_altcraft_trigger.py) take the cases
from here.
The emulator stays independent of the client: both are checked against the spec's text, neither against what the
other produces."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

NOW = 1689984000  # C.0's frozen clock: 2023-07-22T00:00:00Z, eight hours after the samples' event_timestamp
POST_API_KEY = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ012"  # the documentation's placeholder post_api_key (C.0)
ALTCRAFT_TOKEN = "abcdefghijklmnqrstuvwxyz"  # the documentation's placeholder Altcraft token (C.2 defaults)


@dataclass(frozen=True)
class GoldenRequest:
    """One golden case: the exact request the case prints, and the client's input where a test produces it."""

    case_id: str  # the spec's id, e.g. "G-AM-REV-CSV-CLIENT"
    target: str  # path and raw query string, byte for byte
    text: str  # the body as printed
    content_length: int  # the spec's Content-Length: the body's length in bytes
    records: tuple[Mapping[str, Any], ...] = ()  # the client's input records (only where a test uses them)

    @property
    def body(self) -> bytes:
        """The body's bytes (UTF-8), as sent."""
        return self.text.encode("utf-8")


def case_id(value: object) -> str | None:
    """pytest ids: a case's spec id (None lets pytest name any other parameter)."""
    return value.case_id if isinstance(value, GoldenRequest) else None


# --- C.1 AppMetrica -------------------------------------------------------------------------------------------------
_DEVICE_FIELDS = {  # the ad revenue and e-commerce samples' device part
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
AM_REV_CSV_DOC = GoldenRequest(
    case_id="G-AM-REV-CSV-DOC",
    target="/logs/v1/import/revenue.csv?post_api_key=0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ012",
    text=(
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
    ),
    content_length=607,
)

AM_REV_CSV_CLIENT = GoldenRequest(
    case_id="G-AM-REV-CSV-CLIENT",
    target="/logs/v1/import/revenue.csv?post_api_key=0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ012",
    text=(
        "appmetrica_device_id,device_model,device_type,google_aid,app_package_name,operator_name,mnc,"
        "application_id,event_timestamp,price,currency,product_id,quantity,transaction_id,order_id,"
        "revenue_event_type\n"
        "1757762239877245682,iPhone X,phone,01234567-890a-bcde-f012-3456789abcde,"
        "com.yandex.sample.metrica,MegaFon,2,1111,1689943892,0.0001,usd,some_product1,1,transact1,8101,"
        "promo_started\n"
        "1757762239877245682,iPhone X,phone,76543210-890a-bcde-f012-3456789abcde,"
        "com.yandex.sample.metrica,MegaFon,2,1111,1689943892,0.0001,usd,some_product2,2,transact2,1234,"
        "expired\n"
    ),
    content_length=555,
    records=(  # the sample's two rows without account_id, in the sample's column order
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
    ),
)

AM_REV_Q_DOC = GoldenRequest(
    case_id="G-AM-REV-Q-DOC",
    target=(
        "/logs/v1/import/revenue.csv?post_api_key=0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ012&"
        "appmetrica_device_id=1757762239877245682&device_model=iPhoneX&device_type=phone&"
        "google_aid=01234567-890a-bcde-f012-3456789abcde&app_package_name=com.yandex.sample.metrica&"
        "operator_name=MegaFon&mnc=2&application_id=1111&account_id=1234567890123456789&"
        "event_timestamp=1689943892&price=0.0001&currency=usd&product_id=some_product1&quantity=1&"
        "transaction_id=transact1&order_id=8101&revenue_event_type=promo_started"
    ),
    text="",
    content_length=0,
)

AM_REV_Q_CLIENT = GoldenRequest(
    case_id="G-AM-REV-Q-CLIENT",
    target=(
        "/logs/v1/import/revenue?post_api_key=0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ012&"
        "appmetrica_device_id=1757762239877245682&device_model=iPhoneX&device_type=phone&"
        "google_aid=01234567-890a-bcde-f012-3456789abcde&app_package_name=com.yandex.sample.metrica&"
        "operator_name=MegaFon&mnc=2&application_id=1111&event_timestamp=1689943892&price=0.0001&"
        "currency=usd&product_id=some_product1&quantity=1&transaction_id=transact1&order_id=8101&"
        "revenue_event_type=promo_started"
    ),
    text="",
    content_length=0,
)

AM_ADR_CSV_DOC = GoldenRequest(
    case_id="G-AM-ADR-CSV-DOC",
    target="/logs/v1/import/adrevenue.csv?post_api_key=0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ012",
    text=(
        "application_id,profile_id,appmetrica_device_id,event_timestamp,revenue,currency,ad_type,"
        "ad_network,ad_unit_id,ad_unit_name,ad_placement_id,ad_placement_name,precision,payload,"
        "session_type,ios_ifa,ios_ifv,google_aid,windows_aid,os_name,os_version,device_manufacturer,"
        "device_model,device_type,device_locale,app_version_name,app_package_name,connection_type,"
        "operator_name,mcc,mnc,device_ipv6\n"
        "1234567890,1234567890abcdef,1757762239877245682,1689943892,0.0001,usd,banner,some_network_name,"
        '0987654321,some_unit_name,12345000,some_placement_name,estimated,"{""key"":""value_1""}",'
        "foreground,123456abcde,54321edcba,098765abcde,567890abcde,ios,16.6,Apple,iPhone14Pro,phone,"
        "en_US,some_version_name,some_package_name,wifi,MegaFon,250,2,2a02:6b8::40c:6676:baff:fea6:53d8\n"
    ),
    content_length=759,
)

AM_ADR_CSV_CLIENT = GoldenRequest(
    case_id="G-AM-ADR-CSV-CLIENT",
    target="/logs/v1/import/adrevenue.csv?post_api_key=0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ012",
    text=(
        "application_id,profile_id,event_timestamp,revenue,currency,ad_type,ad_network,ad_unit_id,"
        "ad_unit_name,ad_placement_id,ad_placement_name,precision,payload,session_type,ios_ifa,ios_ifv,"
        "google_aid,windows_aid,os_name,os_version,device_manufacturer,device_model,device_type,"
        "device_locale,app_version_name,app_package_name,connection_type,operator_name,mcc,mnc,"
        "device_ipv6\n"
        "1234567890,1234567890abcdef,1689943892,0.0001,usd,banner,some_network_name,0987654321,"
        'some_unit_name,12345000,some_placement_name,estimated,"{""key"":""value_1""}",foreground,'
        "123456abcde,54321edcba,098765abcde,567890abcde,ios,16.6,Apple,iPhone14Pro,phone,en_US,"
        "some_version_name,some_package_name,wifi,MegaFon,250,2,2a02:6b8::40c:6676:baff:fea6:53d8\n"
    ),
    content_length=718,
    records=(  # the documented record minus appmetrica_device_id
        {
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
            **_DEVICE_FIELDS,
        },
    ),
)

AM_ADR_Q_DOC = GoldenRequest(
    case_id="G-AM-ADR-Q-DOC",
    target=(
        "/logs/v1/import/adrevenue.csv?post_api_key=0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ012&"
        "application_id=1234567890&profile_id=1234567890abcdef&appmetrica_device_id=1757762239877245682&"
        "event_timestamp=1689943892&revenue=0.0001&currency=usd&ad_type=banner&"
        "ad_network=some_network_name&ad_unit_id=0987654321&ad_unit_name=some_unit_name&"
        "ad_placement_id=12345000&ad_placement_name=some_placement_name&precision=estimated&"
        'payload="{""key"":""value_1""}"&session_type=foreground&ios_ifa=123456abcde&ios_ifv=54321edcba&'
        "google_aid=098765abcde&windows_aid=567890abcde&os_name=ios&os_version=16.6&"
        "device_manufacturer=Apple&device_model=iPhone14Pro&device_type=phone&device_locale=en_US&"
        "app_version_name=some_version_name&app_package_name=some_package_name&connection_type=wifi&"
        "operator_name=MegaFon&mcc=250&mnc=2&device_ipv6=2a02:6b8::40c:6676:baff:fea6:53d8"
    ),
    text="",
    content_length=0,
)

AM_ADR_Q_CLIENT = GoldenRequest(
    case_id="G-AM-ADR-Q-CLIENT",
    target=(
        "/logs/v1/import/adrevenue?post_api_key=0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ012&"
        "application_id=1234567890&profile_id=1234567890abcdef&event_timestamp=1689943892&revenue=0.0001&"
        "currency=usd&ad_type=banner&ad_network=some_network_name&ad_unit_id=0987654321&"
        "ad_unit_name=some_unit_name&ad_placement_id=12345000&ad_placement_name=some_placement_name&"
        "precision=estimated&payload=%7B%22key%22%3A%22value_1%22%7D&session_type=foreground&"
        "ios_ifa=123456abcde&ios_ifv=54321edcba&google_aid=098765abcde&windows_aid=567890abcde&"
        "os_name=ios&os_version=16.6&device_manufacturer=Apple&device_model=iPhone14Pro&"
        "device_type=phone&device_locale=en_US&app_version_name=some_version_name&"
        "app_package_name=some_package_name&connection_type=wifi&operator_name=MegaFon&mcc=250&mnc=2&"
        "device_ipv6=2a02%3A6b8%3A%3A40c%3A6676%3Abaff%3Afea6%3A53d8"
    ),
    text="",
    content_length=0,
)

AM_ECO_CSV_DOC = GoldenRequest(
    case_id="G-AM-ECO-CSV-DOC",
    target="/logs/v1/import/ecommerce.csv?post_api_key=0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ012",
    text=(
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
    ),
    content_length=1976,
)

AM_ECO_CSV_FIX = GoldenRequest(
    case_id="G-AM-ECO-CSV-FIX",
    target="/logs/v1/import/ecommerce.csv?post_api_key=0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ012",
    text=(
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
    ),
    content_length=1982,
)

AM_ECO_CSV_CLIENT = GoldenRequest(
    case_id="G-AM-ECO-CSV-CLIENT",
    target="/logs/v1/import/ecommerce.csv?post_api_key=0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ012",
    text=(
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
    ),
    content_length=1941,
    records=(  # the corrected record (G-AM-ECO-CSV-FIX) minus appmetrica_device_id
        {
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
            **_DEVICE_FIELDS,
        },
    ),
)

AM_ECO_Q_DOC = GoldenRequest(
    case_id="G-AM-ECO-Q-DOC",
    target=(
        "/logs/v1/import/ecommerce.csv?post_api_key=0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ012&"
        "application_id=1234567890&profile_id=1234567890abcdef&appmetrica_device_id=1757762239877245682&"
        "event_timestamp=1689943892&ecom_event_type=ADD_TO_CART&order_id=a1b2c3d4&"
        "product_name=some_product&cart_item_quantity=1&cart_item_price_currency=usd&"
        "cart_item_price_value=0.5&cart_item_price_internal_currency=some_currency&"
        "cart_item_price_internal_value=1.43&actual_price_currency=usd&actual_price_value=0.7&"
        "actual_price_internal_currency=some_currency&actual_price_internal_value=2&"
        'payload="{""key"":""value_1""}"&product_category_path_1=product_path_1&'
        "product_category_path_2=product_path_2&product_category_path_3=product_path_3&"
        "product_category_path_4=product_path_4&product_category_path_5=product_path_5&"
        "product_category_path_6=product_path_6&product_category_path_7=product_path_7&"
        "product_category_path_8=product_path_8&product_category_path_9=product_path_9&"
        "product_category_path_10=product_path_10&original_price_currency=usd&original_price_value=1.05&"
        "original_price_internal_currency=some_currency&original_price_internal_value=3&"
        'product_payload="{""key"":""value_1""}"&product_promo_codes="[promo_code_1,promo_code_2]"&'
        "product_sku=012345abc&screen_category_path_1=screen_path_1&screen_category_path_2=screen_path_2&"
        "screen_category_path_3=screen_path_3&screen_category_path_4=screen_path_4&"
        "screen_category_path_5=screen_path_5&screen_category_path_6=screen_path_6&"
        "screen_category_path_7=screen_path_7&screen_category_path_8=screen_path_8&"
        "screen_category_path_9=screen_path_9&screen_category_path_10=screen_path_10&"
        'screen_name=some_screen&screen_payload="{""key"":""value_1""}"&session_type=foreground&'
        "ios_ifa=123456abcde&ios_ifv=54321edcba&google_aid=098765abcde&windows_aid=567890abcde&"
        "os_name=ios&os_version=16.6&device_manufacturer=Apple&device_model=iPhone14Pro&"
        "device_type=phone&device_locale=en_US&app_version_name=some_version_name&"
        "app_package_name=some_package_name&connection_type=wifi&operator_name=MegaFon&mcc=250&mnc=2&"
        "device_ipv6=2a02:6b8::40c:6676:baff:fea6:53d8"
    ),
    text="",
    content_length=0,
)

AM_ECO_Q_CLIENT = GoldenRequest(
    case_id="G-AM-ECO-Q-CLIENT",
    target=(
        "/logs/v1/import/ecommerce?post_api_key=0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ012&"
        "application_id=1234567890&profile_id=1234567890abcdef&event_timestamp=1689943892&"
        "ecom_event_type=ADD_TO_CART&order_id=a1b2c3d4&product_name=some_product&cart_item_quantity=1&"
        "cart_item_price_currency=usd&cart_item_price_value=0.5&"
        "cart_item_price_internal_currency=some_currency&cart_item_price_internal_value=1.43&"
        "actual_price_currency=usd&actual_price_value=0.7&actual_price_internal_currency=some_currency&"
        "actual_price_internal_value=2&payload=%7B%22key%22%3A%22value_1%22%7D&"
        "product_category_path_1=product_path_1&product_category_path_2=product_path_2&"
        "product_category_path_3=product_path_3&product_category_path_4=product_path_4&"
        "product_category_path_5=product_path_5&product_category_path_6=product_path_6&"
        "product_category_path_7=product_path_7&product_category_path_8=product_path_8&"
        "product_category_path_9=product_path_9&product_category_path_10=product_path_10&"
        "original_price_currency=usd&original_price_value=1.05&"
        "original_price_internal_currency=some_currency&original_price_internal_value=3&"
        "product_payload=%7B%22key%22%3A%22value_1%22%7D&"
        "product_promo_codes=%5Bpromo_code_1%2Cpromo_code_2%5D&product_sku=012345abc&"
        "screen_category_path_1=screen_path_1&screen_category_path_2=screen_path_2&"
        "screen_category_path_3=screen_path_3&screen_category_path_4=screen_path_4&"
        "screen_category_path_5=screen_path_5&screen_category_path_6=screen_path_6&"
        "screen_category_path_7=screen_path_7&screen_category_path_8=screen_path_8&"
        "screen_category_path_9=screen_path_9&screen_category_path_10=screen_path_10&"
        "screen_name=some_screen&screen_payload=%7B%22key%22%3A%22value_1%22%7D&session_type=foreground&"
        "ios_ifa=123456abcde&ios_ifv=54321edcba&google_aid=098765abcde&windows_aid=567890abcde&"
        "os_name=ios&os_version=16.6&device_manufacturer=Apple&device_model=iPhone14Pro&"
        "device_type=phone&device_locale=en_US&app_version_name=some_version_name&"
        "app_package_name=some_package_name&connection_type=wifi&operator_name=MegaFon&mcc=250&mnc=2&"
        "device_ipv6=2a02%3A6b8%3A%3A40c%3A6676%3Abaff%3Afea6%3A53d8"
    ),
    text="",
    content_length=0,
)

# --- C.2 Altcraft ---------------------------------------------------------------------------------------------------
AC_IAS_MIN = GoldenRequest(
    case_id="G-AC-IAS-MIN",
    target="/api/v1.1/campaigns/triggers/import_and_start",
    text=(
        '{"token":"abcdefghijklmnqrstuvwxyz","trigger_id":13,"matching":"email",'
        '"email":"john@example.com","data":{"_fname":"John","_lname":"Doe"}}'
    ),
    content_length=138,
    records=(
        # a minimal record: the trigger, the profile's e-mail and two fields
        {"trigger_id": 13, "email": "john@example.com", "data": {"_fname": "John", "_lname": "Doe"}},
    ),
)

AC_IAS_FULL = GoldenRequest(
    case_id="G-AC-IAS-FULL",
    target="/api/v1.1/campaigns/triggers/import_and_start",
    text=(
        '{"token":"abcdefghijklmnqrstuvwxyz","trigger_id":13,"matching":"email",'
        '"email":"john@example.com","resource_id":24,"data":{"_fname":"John","_lname":"Doe"},'
        '"skip_triggers":true,"skip_invalid_subscriptions":true,"detect_geo":true,"timeout":{"days":0,'
        '"hours":0,"minutes":5},"custom_data":{"sending_time":"12:31:12"},'
        '"content":{"page":"registration_form"},"attach":[{"data":"data:text/csv;base64,SEVMTE8K",'
        '"name":"Attach.txt"}]}'
    ),
    content_length=424,
    records=(
        # every documented parameter with its documented example value; attach as the page shows it: one object
        {
            "trigger_id": 13,
            "matching": "email",
            "email": "john@example.com",
            "resource_id": 24,
            "data": {"_fname": "John", "_lname": "Doe"},
            "skip_triggers": True,
            "skip_invalid_subscriptions": True,
            "detect_geo": True,
            "timeout": {"days": 0, "hours": 0, "minutes": 5},
            "custom_data": {"sending_time": "12:31:12"},
            "content": {"page": "registration_form"},
            "attach": {"data": "data:text/csv;base64,SEVMTE8K", "name": "Attach.txt"},
        },
    ),
)

AC_IAS_CUSTOM = GoldenRequest(
    case_id="G-AC-IAS-CUSTOM",
    target="/api/v1.1/campaigns/triggers/import_and_start",
    text=(
        '{"token":"abcdefghijklmnqrstuvwxyz","trigger_id":13,"matching":"custom","field_name":"CRM_ID",'
        '"field_value":"123420","data":{"_fname":"John","_lname":"Doe"}}'
    ),
    content_length=157,
    records=(
        # custom-field matching with the documented text value "123420"
        {
            "trigger_id": 13,
            "matching": "custom",
            "field_name": "CRM_ID",
            "field_value": "123420",
            "data": {"_fname": "John", "_lname": "Doe"},
        },
    ),
)

AC_IASB = GoldenRequest(
    case_id="G-AC-IASB",
    target="/api/v1.1/campaigns/triggers/import_and_start_batch",
    text=(
        '{"token":"abcdefghijklmnqrstuvwxyz","trigger_id":13,"matching":"email",'
        '"data":[{"data":{"_fname":"John","_lname":"Lambert","email":"profile4@example.com",'
        '"phones":"+790000000000"}},{"data":{"_fname":"Tom","_lname":"Hard",'
        '"email":"profile3@example.com","phones":"+790000000001"}}]}'
    ),
    content_length=280,
)

AC_IASB_KEYS = GoldenRequest(
    case_id="G-AC-IASB-KEYS",
    target="/api/v1.1/campaigns/triggers/import_and_start_batch",
    text=(
        '{"token":"abcdefghijklmnqrstuvwxyz","trigger_id":13,"matching":"email",'
        '"data":[{"email":"profile4@example.com","data":{"_fname":"John","_lname":"Lambert",'
        '"email":"profile4@example.com","phones":"+790000000000"}},{"email":"profile3@example.com",'
        '"data":{"_fname":"Tom","_lname":"Hard","email":"profile3@example.com",'
        '"phones":"+790000000001"}}]}'
    ),
    content_length=342,
    records=(
        # the documented `data` array of import_and_start_batch (docs/contracts/altcraft.md#trigger-batch) as two
        # records of trigger 13, matched by e-mail
        # (the default)
        {
            "trigger_id": 13,
            "data": {"_fname": "John", "_lname": "Lambert", "email": "profile4@example.com", "phones": "+790000000000"},
        },
        {
            "trigger_id": 13,
            "data": {"_fname": "Tom", "_lname": "Hard", "email": "profile3@example.com", "phones": "+790000000001"},
        },
    ),
)

# --- Altcraft profiles/add, profiles/add_batch/ (https://guides.altcraft.com/en/developer-guide/profiles/2195477,
# https://guides.altcraft.com/en/developer-guide/profiles/2195496) ----------------------------------------------------
AC_ADD_JSON = GoldenRequest(
    case_id="G-AC-ADD-JSON",
    target="/api/v1.1/profiles/add",
    # the page's JSON example (Fillipp / Doe, skip_triggers), compact
    text=(
        '{"token":"abcdefghijklmnqrstuvwxyz","db_id":1,"data":{"_fname":"Fillipp","_lname":"Doe"},"skip_triggers":true}'
    ),
    content_length=110,
)

AC_ADD_JSON_SLASH = GoldenRequest(
    case_id="G-AC-ADD-JSON-SLASH",
    target="/api/v1.1/profiles/add",
    # the example of the page's other copy (…/profiles/2195477/): John / Doe, keys in another order
    text='{"data":{"_fname":"John","_lname":"Doe"},"db_id":1,"skip_triggers":true,"token":"abcdefghijklmnqrstuvwxyz"}',
    content_length=107,
)

AC_ADD_ANSWER = '{\n  "error": 0,\n  "error_text": "",\n  "profile_id": "6638e1e8ee44bb50a67115c4"\n}'  # as printed

AC_ADDB_JSON = GoldenRequest(
    case_id="G-AC-ADDB-JSON",
    target="/api/v1.1/profiles/add_batch/",  # with the trailing slash, as documented
    # the page's JSON example (John / Doe, an e-mail subscription written with email_data, resource 27), compact
    text=(
        '{"token":"abcdefghijklmnqrstuvwxyz","db_id":1,"skip_triggers":true,"data":[{"_fname":"John",'
        '"_lname":"Doe","subscriptions":[{"channel":"email","email_data":{"email":"example@example.com"},'
        '"resource_id":27}]}]}'
    ),
    content_length=209,
)

AC_ADDB_ANSWER = (  # as printed
    '{\n"error": 0,\n"error_text": "Successful operation",\n"result": [\n{\n"error": 0,\n'
    '"error_text": "Successful operation",\n"profile_id": "663a138cee44bb50a67115cd"\n}\n]\n}'
)

# --- Altcraft workflows/import_and_start (https://guides.altcraft.com/en/developer-guide/automation-scenarios/28934227)
AC_WF_IAS = GoldenRequest(
    case_id="G-AC-WF-IAS",
    target="/api/v1.1/workflows/import_and_start",
    # assembled: the page's example is cut inside `content`; its printed part verbatim (the subscription without a
    # channel, the page's own token), completed with the table's examples (`two`'s timestamp, `three`,
    # workflow_id 1), the key order assumed
    text=(
        '{"token":"abcdefghkijlmnopqrstuv0123456789","data":{"subscriptions":[{"email":"example001@example.com",'
        '"resource_id":7}]},"matching":"email","email":"example001@example.com","content":{"one":"My email = '
        'example001@example.com","two":"Timestamp: 1595512477","three":"Three"},"workflow_id":1}'
    ),
    content_length=290,
)
WORKFLOW_PAGE_TOKEN = "abcdefghkijlmnopqrstuv0123456789"  # the scenario page's placeholder token

# --- Altcraft profiles/delete (https://guides.altcraft.com/en/developer-guide/profiles/28936545) -------------------
AC_DEL_JSON = GoldenRequest(
    case_id="G-AC-DEL-JSON",
    target="/api/v1.1/profiles/delete",
    # the page's JSON example, as printed (unindented in the stored copy)
    text=(
        '{\n"token": "abcdefghijklmnqrstuvwxyz",\n"db_id": 1,\n"matching": "email",\n"email": "example@example.com"\n}'
    ),
    content_length=104,
)

AC_DEL_JSON_SLASH = GoldenRequest(
    case_id="G-AC-DEL-JSON-SLASH",
    target="/api/v1.1/profiles/delete",
    # the example of the page's other copy (…/profiles/28936545/), as printed: keys in another order, john@
    text='{\n"db_id": 1,\n"matching": "email",\n"email": "john@example.com",\n"token": "abcdefghijklmnqrstuvwxyz"\n}',
    content_length=101,
)

AC_DEL_ANSWER = (  # as printed (both copies): the id nested in `data`
    '{\n"data": {\n"profile_id": "5f33d33ece94481aa9382110"\n},\n"error": 0,\n"error_text": "Successful operation"\n}'
)

AC_DEL_CUSTOM = GoldenRequest(
    case_id="G-AC-DEL-CUSTOM",
    target="/api/v1.1/profiles/delete",
    # assembled from the table's examples: custom matching by CRM_ID "123420"
    text='{"token":"abcdefghijklmnqrstuvwxyz","db_id":1,"matching":"custom","field_name":"CRM_ID","field_value":"123420"}',
    content_length=111,
)

# --- Altcraft subscriptions/set (https://guides.altcraft.com/en/developer-guide/profiles/subscriptions/2195519) -----
AC_SUB_SET_STATUS = GoldenRequest(
    case_id="G-AC-SUB-SET-STATUS",
    target="/api/v1.1/subscriptions/set",
    # the subscriptions/set page's example is cut after its first lines; the "Subscription status" page
    # (https://guides.altcraft.com/en/developer-guide/objects/Subscription-status_2195807) prints a whole body of
    # exactly its fields: that example, as printed
    text=(
        '{\n"token": "abcdefghijklmnqrstuvwxyz",\n"channel": "email",\n"db_id": 20,\n'
        '"email": "example@example.org",\n"priority": 4,\n"profile_id": "5a5b91d769d4265b958b9acb",\n'
        '"resource_id": 3,\n"status": "suspended"\n}'
    ),
    content_length=202,
)

AC_SUB_SET_PUSH = GoldenRequest(
    case_id="G-AC-SUB-SET-PUSH",
    target="/api/v1.1/subscriptions/set",
    # assembled from the table's examples: a push subscription with every optional field
    text=(
        '{"token":"abcdefghijklmnqrstuvwxyz","db_id":1,"profile_id":"abcdefghijklmnqrstuvwxyz","resource_id":1,'
        '"channel":"push","provider":"Firefox","subscription_id":"abcdefghijklmnqrstuvwxyz","status":0,'
        '"custom_fields":{"_browser_name":"Chrome","_device_type":"web"},"cats":["category_1","category_2"],'
        '"date":"2018-08-22T00:00:00.000Z","ip":"10.250.13.5","url":"https://example.com/","skip_triggers":true}'
    ),
    content_length=398,
)

# --- Altcraft goals/register (https://guides.altcraft.com/en/developer-guide/goals/2195843) -------------------------
AC_GOAL_ONE = GoldenRequest(
    case_id="G-AC-GOAL-ONE",
    target="/api/v1.1/goals/register",
    # assembled from the table's examples (the page's own example could not be read): one goal with a value
    text=(
        '{"token":"abcdefghijklmnqrstuvwxyz","db_id":1,"pixel_id":1,"matching":"email","email":"john@example.com",'
        '"goal":"card","value":-25.5,"date":"2006-01-25T15:04:05+07:00"}'
    ),
    content_length=168,
)

AC_GOAL_MANY = GoldenRequest(
    case_id="G-AC-GOAL-MANY",
    target="/api/v1.1/goals/register",
    # assembled from the table's examples: `goals`, pixel_data and every optional field
    text=(
        '{"token":"abcdefghijklmnqrstuvwxyz","db_id":1,"pixel_id":1,"matching":"profile_id",'
        '"profile_id":"abcdefghijklmnqrstuvwxyz","goals":[{"goal":"card","value":10.0}],"pixel_data":{"key":"value"},'
        '"skip_triggers":false,"enrich_profile":true,"is_test":true,"vendor":"altcraft","referer":"api.example.com",'
        '"user_agent":"Mozilla/5.0 (Linux; Android 6.0.1; SM-G935S Build/MMB29K; wv)",'
        '"accept_language":"fr-CH, fr;q=0.9, en;q=0.8, de;q=0.7, *;q=0.5","client_ip":"10.0.0.0"}'
    ),
    content_length=463,
)
