"""AppMetrica profile records: attributes, typed CSV columns, first-party data hashed, seeds rebuilt exactly."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest

from courier.destinations.appmetrica.csv_batch import CsvBatch
from courier.destinations.appmetrica.first_party import sha256_hex
from courier.destinations.appmetrica.profiles import make_profile_preparer
from courier.model import Preparer
from courier.settings import Settings
from sandbox.appmetrica_emulator import AppMetricaEmulator
from tests.support import ROOT, csv_records

PHONE_79160123456 = "ec4965fb8041904352616bc2201fcafc312e6fd990dfee51eacd44f203a9b94f"
EMAIL_TESTUSER_GMAIL = "dae9c7c55697ba170d6b494c458649bd469af525520280d0dcfc98d74d13b17e"
TELEGRAM_AT_DUROV = "6a50fdf659925c6e6112657a83f901bb42142f139150d884c082c4a86bcedee3"


def preparer(**settings: Any) -> Preparer:
    return make_profile_preparer(Settings(APPMETRICA_APPLICATION_ID="1111", **settings), time.time())


def attributes_of(record: dict[str, Any], **settings: Any) -> tuple[dict[str, Any], list[str]]:
    fields, notes = preparer(**settings)(record)
    assert fields is not None, notes
    return json.loads(fields["attributes"]), notes


def test_the_seed_profile_body_is_rebuilt_exactly_from_its_record() -> None:
    # Given the seed's profiles sample
    expected = (ROOT / "events" / "appmetrica_profiles" / "seed_sample.csv").read_text(encoding="utf-8")
    batch = CsvBatch("1234567890")
    # When its row is prepared and batched
    for index, record in enumerate(csv_records(expected)):
        fields, errors = preparer()(record)
        assert errors == []
        assert fields is not None
        batch.add(fields, index)
    # Then the body is the seed's, byte for byte
    assert batch.body() == expected.encode("utf-8")


def test_a_json_record_keeps_json_types_and_builds_the_seed_cell() -> None:
    record = {
        "application_id": 1234567890,
        "profile_id": "1234567890abcdef",
        "attributes": {
            "string_attribute_name": "string_value",
            "number_attribute_name": 1234,
            "bool_attribute_name": True,
            "counter_attribute_name": -1,
        },
    }
    fields, errors = preparer()(record)
    assert errors == []
    assert fields == {
        "application_id": "1234567890",
        "profile_id": "1234567890abcdef",
        "attributes": '{"string_attribute_name":"string_value","number_attribute_name":1234,'
        '"bool_attribute_name":true,"counter_attribute_name":-1}',
    }


def test_the_first_party_seed_sample_from_raw_inputs() -> None:
    # Given raw first-party data in a JSON record, as a CRM would have it
    record = {
        "profile_id": "1234567890abcdef",
        "phone": "+7 (916) 012-34-56",
        "email": "  Test.User+promo@GoogleMail.com ",
        "telegram": "@Durov",
    }
    # Then exactly the Post API's hash attributes are sent, in the page's names
    attributes, notes = attributes_of(record)
    assert notes == []
    assert attributes == {
        "appmetrica_1pd_phone_sha256_0": PHONE_79160123456,
        "appmetrica_1pd_email_sha256_0": EMAIL_TESTUSER_GMAIL,
        "appmetrica_1pd_telegram_sha256": TELEGRAM_AT_DUROV,
    }


def test_duplicates_after_normalisation_go_once_and_invalid_values_are_dropped_and_noted() -> None:
    record = {
        "profile_id": "p",
        "phone": ["+7 (916) 012-34-56", "8 (916) 012 34 56", "not a phone", "9160123456", "+1 (201) 208-38-49"],
    }
    attributes, notes = attributes_of(record)
    assert attributes == {
        "appmetrica_1pd_phone_sha256_0": PHONE_79160123456,
        "appmetrica_1pd_phone_sha256_1": sha256_hex("12012083849"),
    }
    assert notes == ["phone: a value that is not a phone number was dropped"]


def test_csv_separates_several_values_with_semicolons() -> None:
    attributes, _ = attributes_of({"profile_id": "p", "email": "a@example.com; b@example.com;;"})
    assert attributes == {
        "appmetrica_1pd_email_sha256_0": sha256_hex("a@example.com"),
        "appmetrica_1pd_email_sha256_1": sha256_hex("b@example.com"),
    }


def test_at_most_ten_values_and_one_telegram_login_are_sent() -> None:
    phones = [f"+7 916 000-00-{n:02d}" for n in range(12)]
    attributes, notes = attributes_of({"profile_id": "p", "phone": phones, "telegram": ["@one", "@two"]})
    assert sorted(attributes) == sorted(
        [f"appmetrica_1pd_phone_sha256_{i}" for i in range(10)] + ["appmetrica_1pd_telegram_sha256"]
    )
    assert attributes["appmetrica_1pd_telegram_sha256"] == sha256_hex("@one")
    assert notes == [
        "phone: only the first 10 distinct values are sent",
        "telegram: only the first 1 distinct values are sent",
    ]


def test_already_hashed_values_pass_through() -> None:
    attributes, _ = attributes_of({"profile_id": "p", "email": EMAIL_TESTUSER_GMAIL})
    assert attributes == {"appmetrica_1pd_email_sha256_0": EMAIL_TESTUSER_GMAIL}
    attributes, _ = attributes_of(
        {"profile_id": "p", "attributes": {"appmetrica_1pd_phone_sha256_3": PHONE_79160123456}}
    )
    assert attributes == {"appmetrica_1pd_phone_sha256_3": PHONE_79160123456}


def test_upper_case_hashes_in_the_raw_fields_are_recognised_and_sent_lower_case() -> None:
    # Given phone, e-mail and Telegram values that were hashed upstream and written in upper case
    record = {
        "profile_id": "p",
        "phone": PHONE_79160123456.upper(),
        "email": [EMAIL_TESTUSER_GMAIL.upper(), EMAIL_TESTUSER_GMAIL],
        "telegram": f" {TELEGRAM_AT_DUROV.upper()} ",
    }
    # When the record is prepared
    attributes, notes = attributes_of(record)
    # Then each goes as its lower-case hash, not hashed again and not dropped, and the two e-mails are one
    assert notes == []
    assert attributes == {
        "appmetrica_1pd_phone_sha256_0": PHONE_79160123456,
        "appmetrica_1pd_email_sha256_0": EMAIL_TESTUSER_GMAIL,
        "appmetrica_1pd_telegram_sha256": TELEGRAM_AT_DUROV,
    }


@pytest.mark.parametrize("as_text", [False, True])
def test_upper_case_hashes_given_in_attributes_are_sent_lower_case(as_text: bool) -> None:
    # Given hashed first-party attributes written in upper case, as a JSON object or as JSON text
    given = {"appmetrica_1pd_phone_sha256_0": PHONE_79160123456.upper(), "city": "Kazan"}
    record = {"profile_id": "p", "attributes": json.dumps(given) if as_text else given}
    # When the record is prepared
    fields, errors = preparer()(record)
    # Then the hash goes lower-case and the rest as it was
    assert errors == []
    assert fields is not None
    assert fields["attributes"] == f'{{"appmetrica_1pd_phone_sha256_0":"{PHONE_79160123456}","city":"Kazan"}}'


def test_sdk_style_telegram_names_are_accepted_in_attributes_and_forwarded() -> None:
    # Given Telegram hashes under the names both SDKs write (appmetrica_1pd_telegram_sha256_0…9)
    given = {
        "appmetrica_1pd_telegram_sha256_0": TELEGRAM_AT_DUROV,
        "appmetrica_1pd_telegram_sha256_9": PHONE_79160123456,
    }
    # When the record is prepared with the default settings
    attributes, notes = attributes_of({"profile_id": "p", "attributes": given})
    # Then they are not refused as reserved, and go under the names they were given
    assert notes == []
    assert attributes == given


def test_raw_telegram_logins_go_as_one_page_name_by_default_and_as_sdk_names_when_configured() -> None:
    record = {"profile_id": "p", "telegram": ["@Durov", "@durov", "@Telegram"]}
    # Given the default settings, when the record is prepared, then one login goes under the Post API page's name
    attributes, notes = attributes_of(record)
    assert attributes == {"appmetrica_1pd_telegram_sha256": TELEGRAM_AT_DUROV}
    assert notes == ["telegram: only the first 1 distinct values are sent"]
    # Given APPMETRICA_TELEGRAM_SDK_NAMES=true, then the distinct logins go under the SDKs' indexed names
    attributes, notes = attributes_of(record, APPMETRICA_TELEGRAM_SDK_NAMES="true")
    assert notes == []
    assert attributes == {
        "appmetrica_1pd_telegram_sha256_0": TELEGRAM_AT_DUROV,
        "appmetrica_1pd_telegram_sha256_1": sha256_hex("@telegram"),
    }


@pytest.mark.parametrize("sdk_names", ["false", "true"])
def test_the_emulator_takes_the_telegram_names_courier_sends(sdk_names: str) -> None:
    # Given a profiles.csv body Courier builds with either Telegram naming
    fields, notes = preparer(APPMETRICA_TELEGRAM_SDK_NAMES=sdk_names)(
        {"profile_id": "p", "telegram": ["@Durov", "@Telegram"], "phone": PHONE_79160123456.upper()}
    )
    assert fields is not None
    assert notes == ([] if sdk_names == "true" else ["telegram: only the first 1 distinct values are sent"])
    batch = CsvBatch("1111")
    batch.add(fields, 0)
    emulator = AppMetricaEmulator().start()
    try:
        # When the emulator's profiles method receives it
        body = bytes(batch.body())
        emulator.handle("/logs/v1/import/profiles.csv", {"post_api_key": "sandbox-post-api-key"}, {}, body)
        # Then it keeps the row with its hashed attributes under those names
        [kept] = emulator.profiles("1111")
    finally:
        emulator.stop()
    telegram = (
        {
            "appmetrica_1pd_telegram_sha256_0": TELEGRAM_AT_DUROV,
            "appmetrica_1pd_telegram_sha256_1": sha256_hex("@telegram"),
        }
        if sdk_names == "true"
        else {"appmetrica_1pd_telegram_sha256": TELEGRAM_AT_DUROV}
    )
    assert kept["attributes"] == {"appmetrica_1pd_phone_sha256_0": PHONE_79160123456, **telegram}


def test_a_raw_telegram_login_beside_a_given_page_name_hash_is_refused_in_sdk_mode_too() -> None:
    # Given a Telegram hash under the page's name and a raw login, with SDK-style names configured
    record = {
        "profile_id": "p",
        "telegram": "@durov",
        "attributes": {"appmetrica_1pd_telegram_sha256": TELEGRAM_AT_DUROV},
    }
    # When the record is prepared
    fields, errors = preparer(APPMETRICA_TELEGRAM_SDK_NAMES="true")(record)
    # Then it is refused, without the login in the reason
    assert fields is None
    assert errors == ["telegram: send it raw or already hashed in attributes, not both"]


def test_yandex_subdomain_addresses_hash_as_yandex_ru() -> None:
    # Given an address at a subdomain of ya.ru
    attributes, _ = attributes_of({"profile_id": "p", "email": "Ivan.Petrov@mail.ya.ru"})
    # Then its hash is that of the yandex.ru address the SDKs make of it
    assert attributes == {"appmetrica_1pd_email_sha256_0": sha256_hex("ivan-petrov@yandex.ru")}


def test_telegram_at_sign_can_be_stripped_by_configuration() -> None:
    attributes, _ = attributes_of({"profile_id": "p", "telegram": "@Durov"}, APPMETRICA_TELEGRAM_STRIP_AT="true")
    assert attributes == {"appmetrica_1pd_telegram_sha256": sha256_hex("durov")}


def test_a_record_left_with_nothing_to_send_is_rejected_without_its_values() -> None:
    fields, errors = preparer()({"profile_id": "p", "phone": "12345", "email": "secret.person@"})
    assert fields is None
    assert errors == [
        "attributes: nothing to send",
        "phone: a value that is not a phone number was dropped",
        "email: a value that is not an e-mail was dropped",
    ]
    assert not any("12345" in e or "secret.person" in e for e in errors)


def test_typed_csv_columns_become_typed_attributes() -> None:
    record = {
        "profile_id": "p",
        "attributes.level": "gold",
        "attributes.ltv:number": "15230.5",
        "attributes.age:number": "42",
        "attributes.subscribed:bool": "TRUE",
        "attributes.visits:counter": "-1",
        "attributes.code:string": "007",
        "attributes.empty:number": "",
    }
    attributes, notes = attributes_of(record)
    assert notes == []
    assert attributes == {"level": "gold", "ltv": 15230.5, "age": 42, "subscribed": True, "visits": -1, "code": "007"}
    assert type(attributes["age"]) is int


def test_json_attributes_and_flat_columns_combine_in_order() -> None:
    attributes, _ = attributes_of({"profile_id": "p", "attributes": '{"a": 1}', "attributes.b:bool": "0"})
    assert attributes == {"a": 1, "b": False}


@pytest.mark.parametrize(
    ("record", "reason"),
    [
        ({"attributes.age:number": "forty"}, "attributes.age:number: must be a number"),
        ({"attributes.vip:bool": "maybe"}, "attributes.vip:bool: must be true or false"),
        (
            {"attributes.when:date": "2026-01-01"},
            "attributes.when:date: unknown type 'date' (use string, number, bool or counter)",
        ),
        ({"attributes.:number": "1"}, "attributes.:number: the attribute has no name"),
        ({"attributes": {"nested": {"a": 1}}}, "attributes.nested: must be a string, number or boolean, not dict"),
        ({"attributes": {"list": [1]}}, "attributes.list: must be a string, number or boolean, not list"),
        ({"attributes": {"gone": None}}, "attributes.gone: must be a string, number or boolean, not null"),
        (
            {"attributes": {"appmetrica_name": "x"}},
            "attributes.appmetrica_name: names starting with 'appmetrica' are reserved",
        ),
        (
            {"attributes": {"appmetrica_1pd_phone_sha256_0": "79160123456"}},
            "attributes.appmetrica_1pd_phone_sha256_0: must be a SHA-256 hash (64 hex characters)",
        ),
        (
            {"attributes": {"appmetrica_1pd_telegram_sha256_10": PHONE_79160123456}},
            "attributes.appmetrica_1pd_telegram_sha256_10: names starting with 'appmetrica' are reserved",
        ),
        (
            {"attributes": {"appmetrica_1pd_telegram": PHONE_79160123456}},
            "attributes.appmetrica_1pd_telegram: names starting with 'appmetrica' are reserved",
        ),
        (
            {"attributes": {"appmetrica_1pd_phone_sha256": PHONE_79160123456}},
            "attributes.appmetrica_1pd_phone_sha256: names starting with 'appmetrica' are reserved",
        ),
        (
            {"telegram": "@durov", "attributes": {"appmetrica_1pd_telegram_sha256_0": TELEGRAM_AT_DUROV}},
            "telegram: send it raw or already hashed in attributes, not both",
        ),
        ({"attributes": {"n" * 201: 1}}, "attributes: a name must have 1 to 200 characters"),
        ({"attributes": {"bio": "x" * 201}}, "attributes.bio: text longer than 200 characters"),
        ({"attributes": '{"a": NaN}'}, "attributes: is not valid JSON"),  # NaN is not JSON
        ({"attributes": "[1, 2]"}, "attributes: must be a JSON object of attribute names and values"),
        ({"attributes": "{oops"}, "attributes: is not valid JSON"),
        ({"attributes": {f"a{i}": i for i in range(101)}}, "attributes: more than 100 attributes"),
        (
            {"appmetrica_device_id": "1", "attributes": {"a": 1}},
            "appmetrica_device_id: the profiles method takes profile_id only",
        ),
        (
            {"phone": "+7 916 012-34-56", "attributes": {"appmetrica_1pd_phone_sha256_0": PHONE_79160123456}},
            "phone: send it raw or already hashed in attributes, not both",
        ),
    ],
)
def test_bad_attributes_are_refused_with_a_reason(record: dict[str, Any], reason: str) -> None:
    fields, errors = preparer()({"profile_id": "p", **record})
    assert fields is None
    assert reason in errors


def test_profile_id_is_required() -> None:
    _, errors = preparer()({"attributes": {"a": 1}})
    assert errors == ["profile_id: is required (the profiles method matches profiles by profile_id)"]
