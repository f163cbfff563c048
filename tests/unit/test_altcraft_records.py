"""Altcraft records → request bodies: matching keys, standard fields, subscriptions, update functions, CSV rows."""

from __future__ import annotations

import copy
import json
import time
from typing import Any

import pytest

from courier.destinations.altcraft import rules
from courier.destinations.altcraft.batch import SINGLE, AltcraftBatch, batch_key
from courier.destinations.altcraft.methods import IMPORT, UPDATE
from courier.destinations.altcraft.records import make_altcraft_preparer
from courier.model import Preparer
from courier.settings import Settings
from tests.support import ROOT, csv_records

SEED = json.loads((ROOT / "events" / "altcraft_profile_import" / "seed_import_record.json").read_text())


def preparer(update: bool = False, **settings: Any) -> Preparer:
    method = UPDATE if update else IMPORT
    return make_altcraft_preparer(method)(Settings(**{"ALTCRAFT_DB_ID": "1", **settings}), time.time())


def prepared(record: dict[str, Any], update: bool = False, **settings: Any) -> dict[str, Any]:
    body, errors = preparer(update, **settings)(record)
    assert errors == []
    assert body is not None
    return body


def refused(record: dict[str, Any], update: bool = False) -> list[str]:
    body, errors = preparer(update)(record)
    assert body is None
    return errors


def test_the_seed_import_example_passes_with_every_field_intact() -> None:
    # Given the documentation's import example (cc_data placeholders made valid), without its token
    # When it is prepared
    body = prepared(copy.deepcopy(SEED))
    # Then the request body is the example itself
    assert body == SEED


def test_db_id_and_matching_come_from_configuration_when_the_record_has_none() -> None:
    body = prepared({"data": {"email": "a@example.com", "_fname": "A"}}, ALTCRAFT_DB_ID="7", ALTCRAFT_MATCHING="email")
    assert body == {
        "db_id": 7,
        "matching": "email",
        "email": "a@example.com",
        "data": {"email": "a@example.com", "_fname": "A"},
    }


def test_db_id_is_required() -> None:
    body, errors = make_altcraft_preparer(IMPORT)(Settings(), time.time())({"data": {"email": "a@example.com"}})
    assert body is None
    assert errors == ["db_id: is required (or set ALTCRAFT_DB_ID)"]


@pytest.mark.parametrize(
    ("record", "keys"),
    [
        ({"matching": "phone", "data": {"phones": ["+79000000001", "+79000000002"]}}, {"phone": "+79000000001"}),
        ({"matching": "phone_sub", "phone": "+79000000003", "data": {"_fname": "P"}}, {"phone": "+79000000003"}),
        (
            {"matching": "push_sub", "provider": "android-firebase", "subscription_id": "tok", "data": {"_fname": "P"}},
            {"provider": "android-firebase", "subscription_id": "tok"},
        ),
        (
            {"matching": "custom", "field_name": "CRM_ID", "data": {"CRM_ID": 123420}},
            {"field_name": "CRM_ID", "field_value": 123420},
        ),
        ({"matching": "email_phone", "phone": "+79000000004", "data": {"_fname": "E"}}, {"phone": "+79000000004"}),
        ({"matching": "email_sub", "email": "s@example.com", "data": {"_fname": "S"}}, {"email": "s@example.com"}),
    ],
)
def test_matching_modes_take_their_keys_from_the_record_or_its_fields(
    record: dict[str, Any], keys: dict[str, Any]
) -> None:
    body = prepared(record)
    assert {name: body[name] for name in keys} == keys


@pytest.mark.parametrize(
    ("record", "update", "reason"),
    [
        ({"data": {"_fname": "No e-mail"}}, False, "email: is required for matching email"),
        ({"email": "not-an-address", "data": {"_fname": "x"}}, False, "email: is not an e-mail address"),
        ({"matching": "phone", "data": {"_fname": "x"}}, False, "phone: is required for matching phone"),
        (
            {"matching": "push_sub", "provider": "p", "data": {"_fname": "x"}},
            False,
            "subscription_id: is required for matching push_sub",
        ),
        (
            {"matching": "custom", "field_name": "CRM_ID", "data": {"_fname": "x"}},
            False,
            "field_value: is required for matching custom",
        ),
        ({"matching": "email_phone", "data": {"_fname": "x"}}, False, "matching: email_phone needs email or phone"),
        (
            {"matching": "profile_id", "profile_id": "5f4f", "data": {"_fname": "x"}},
            False,
            "matching: profile_id works with profile update only (an import cannot create a profile by id)",
        ),
        (
            {"matching": "fuzzy", "data": {}},
            False,
            "matching: unknown mode (use one of: email, email_profile, "
            "email_sub, phone, phone_sub, profile_id, push_sub, custom, custom_sub, email_phone, email_phone_sub)",
        ),
    ],
)
def test_matching_rules_refuse_with_a_reason(record: dict[str, Any], update: bool, reason: str) -> None:
    assert reason in refused(record, update)


def test_update_by_profile_id_is_inferred_when_no_email_is_given() -> None:
    body = prepared(
        {"profile_id": "5f4fa1a5ce9448665fef548e", "data": {"checks": {"action": "incr", "value": 1000}}}, update=True
    )
    assert (body["matching"], body["profile_id"]) == ("profile_id", "5f4fa1a5ce9448665fef548e")


@pytest.mark.parametrize(
    "function",
    [
        {"action": "incr", "value": 1000},
        {"action": "incr", "value": -2.5},
        {"action": "add", "value": ["cars", "cats"]},
        {"action": "delete", "value": ["cats"]},
        {"action": "unset"},
        {"action": "upsert", "value": {"x": "y", "z": 1}, "submatch": "x"},
        {"action": "set", "value": "plain"},
    ],
)
def test_valid_update_functions_pass(function: dict[str, Any]) -> None:
    body = prepared({"email": "u@example.com", "data": {"field": function}}, update=True)
    assert body["data"]["field"] == function


@pytest.mark.parametrize(
    ("field", "function", "reason"),
    [
        ("email", {"action": "unset"}, "data.email: unset is not allowed on email"),
        ("loyalty", {"action": "incr", "value": "10"}, "data.loyalty: incr needs a number (a negative one decrements)"),
        ("loyalty", {"action": "incr"}, "data.loyalty: incr needs a value"),
        ("tags", {"action": "add", "value": "cars"}, "data.tags: add needs an array of strings"),
        ("tags", {"action": "delete", "value": [1]}, "data.tags: delete needs an array of strings"),
        ("obj", {"action": "upsert", "value": 1}, "data.obj: upsert needs submatch (the property to match on)"),
        (
            "x",
            {"action": "decr", "value": 1},
            "data.x: unknown action (use one of: add, delete, incr, set, unset, upsert)",
        ),
        (
            "x",
            {"action": "set", "value": 1, "extra": 2},
            "data.x: an update function takes action, value and submatch only",
        ),
    ],
)
def test_invalid_update_functions_are_refused(field: str, function: dict[str, Any], reason: str) -> None:
    assert refused({"email": "u@example.com", "data": {field: function}}, update=True) == [reason]


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        ({"phones": ["+79000000000", "call me"]}, "data.phones: must be an array of phone numbers"),
        ({"_bdate": "22.02.1990"}, "data._bdate: must be a date such as 1990-02-22 or 1990-02-22T21:00:00Z"),
        ({"_fname": 5}, "data._fname: must be text"),
        ({"_createtime": "2020-01-01"}, "data._createtime: is set by Altcraft and cannot be written"),
        ({"custom": None}, 'data.custom: null is not a value (use {"action": "unset"} to remove a field)'),
        (
            {"subscriptions": [{"channel": "sms", "resource_id": 1}]},
            "data.subscriptions[0]: an sms subscription needs phone",
        ),
        (
            {"subscriptions": [{"channel": "push", "provider": "p"}]},
            "data.subscriptions[0]: a push subscription needs provider and subscription_id",
        ),
        (
            {"subscriptions": [{"channel": "viber", "cc_data": {}}]},
            "data.subscriptions[0]: a viber subscription needs cc_data",
        ),
        (
            {"subscriptions": [{"channel": "fax"}]},
            "data.subscriptions[0].channel: must be one of: email, notify, push, sms, telegram_bot, viber, whatsapp",
        ),
        (
            {"subscriptions": [{"channel": "email", "email": "e@example.com", "status": "gone"}]},
            "data.subscriptions[0].status: must be one of subscribed, unsubscribed, complained, hardbounced, "
            "unconfirmed, suspended, invalid or -1 to 6",
        ),
        ({"subscriptions": {"channel": "email"}}, "data.subscriptions: must be an array"),
    ],
)
def test_standard_fields_and_subscriptions_are_checked(data: dict[str, Any], reason: str) -> None:
    assert reason in refused({"email": "u@example.com", "data": data})


def test_statuses_as_word_or_number_and_email_data_are_accepted() -> None:
    subs = [
        {"channel": "email", "email_data": {"email": "e@example.com"}, "resource_id": 1, "status": "unsubscribed"},
        {"channel": "sms", "phone": "+79000000000", "status": 4},
    ]
    assert prepared({"email": "u@example.com", "data": {"subscriptions": subs}})["data"]["subscriptions"] == subs


def test_invalid_subscriptions_are_left_out_when_the_record_says_skip() -> None:
    record = {
        "email": "u@example.com",
        "skip_invalid_subscriptions": True,
        "data": {"subscriptions": [{"channel": "sms"}, {"channel": "sms", "phone": "+79000000000"}]},
    }
    body, notes = preparer()(record)
    assert body is not None
    assert body["data"]["subscriptions"] == [{"channel": "sms", "phone": "+79000000000"}]
    assert notes == ["data.subscriptions[0]: an invalid subscription was left out"]


def test_options_are_checked_and_kept() -> None:
    body = prepared(
        {
            "email": "u@example.com",
            "skip_triggers": "true",
            "detect_geo": False,
            "resource_id": "3",
            "add_to_segments": [1, 2],
            "remove_from_segments": "4;5",
            "data": {"_fname": "x"},
        }
    )
    assert {
        k: body[k] for k in ("skip_triggers", "detect_geo", "resource_id", "add_to_segments", "remove_from_segments")
    } == {
        "skip_triggers": True,
        "detect_geo": False,
        "resource_id": 3,
        "add_to_segments": [1, 2],
        "remove_from_segments": [4, 5],
    }
    assert refused({"email": "u@example.com", "skip_triggers": "maybe", "data": {"a": 1}}) == [
        "skip_triggers: must be true or false"
    ]


def test_a_csv_row_makes_every_column_a_data_field() -> None:
    # Given the sample CRM export (typed columns, ';'-separated phones and tags, subscriptions as JSON text)
    rows = csv_records((ROOT / "events" / "altcraft_profile_import" / "sample_profiles.csv").read_text())
    prepare = preparer()
    first = prepare(rows[0])[0]
    # Then the row becomes a typed body matched by its own e-mail
    assert first == {
        "db_id": 1,
        "matching": "email",
        "email": "anna@example.com",
        "data": {
            "email": "anna@example.com",
            "_fname": "Anna",
            "_lname": "Ivanova",
            "phones": ["+79000000001", "+79000000002"],
            "city_tags": ["moscow", "vip"],
            "ltv": 15230.5,
            "subscriptions": [{"channel": "email", "email": "anna@example.com", "resource_id": 1}],
        },
    }
    # And a row without its matching key is refused with a reason
    assert prepare(rows[2]) == (None, ["email: is required for matching email"])


def test_csv_update_columns_become_update_functions() -> None:
    rows = csv_records((ROOT / "events" / "altcraft_profile_update" / "sample_updates.csv").read_text())
    body = prepared(rows[0], update=True)
    assert body["data"] == {
        "email": "anna@example.com",
        "loyalty": {"action": "incr", "value": 10},
        "interests": {"action": "add", "value": ["running", "books"]},
        "promo_code": {"action": "unset"},
        "_city": "Moscow",
    }


def test_csv_matching_column_and_bad_types() -> None:
    body = prepared({"matching": "custom", "field_name": "crm_id", "crm_id:number": "42", "_fname": "C"})
    assert (body["field_name"], body["field_value"], body["data"]) == ("crm_id", 42, {"crm_id": 42, "_fname": "C"})
    assert refused({"email": "u@example.com", "age:number": "old"}) == ["age:number: must be a number"]
    assert refused({"email": "u@example.com", "when:date": "x"}) == [
        "when:date: unknown type 'date' (use string, number, bool, tags, json, incr, add, delete, unset)"
    ]


def test_records_batch_by_request_level_parameters() -> None:
    plain = prepared({"email": "a@example.com", "data": {"email": "a@example.com"}})
    other_db = prepared({"db_id": 2, "email": "a@example.com", "data": {"email": "a@example.com"}})
    with_segments = prepared({"email": "a@example.com", "add_to_segments": [1], "data": {"_fname": "x"}})
    changing_email = prepared({"email": "old@example.com", "data": {"email": "new@example.com"}})
    assert batch_key(IMPORT, plain) != batch_key(IMPORT, other_db)
    assert batch_key(IMPORT, with_segments) == batch_key(IMPORT, changing_email) == SINGLE


def test_a_batch_body_has_the_shared_parameters_once_and_each_item_is_the_profiles_own_data() -> None:
    # Given two phone-matched records whose numbers are the first of their own data.phones
    batch = AltcraftBatch("k")
    for n, index in ((1, 10), (2, 11)):
        data = {"_fname": f"P{n}", "phones": [f"+7900000000{n}"]}
        record = {"matching": "phone", "skip_triggers": True, "data": data}
        batch.add(prepared(record), index, record)
    # Then the request says its parameters once, and each item is the profile's data with no key added beside it
    assert json.loads(batch.batch_body("tok")) == {
        "token": "tok",
        "db_id": 1,
        "matching": "phone",
        "skip_triggers": True,
        "data": [{"_fname": "P1", "phones": ["+79000000001"]}, {"_fname": "P2", "phones": ["+79000000002"]}],
    }
    assert (batch.rows, batch.indexes, batch.single) == (2, [10, 11], False)
    assert [r["data"]["_fname"] for r in batch.records()] == ["P1", "P2"]  # as they came, for rejected/


@pytest.mark.parametrize("channel", sorted(rules.CHANNELS))
def test_every_channel_says_what_its_bare_subscription_lacks(channel: str) -> None:
    # Given a subscription that names its channel and nothing else
    subscription = {"channel": channel}
    # When it is checked
    problems = rules.subscription_problems(0, subscription, IMPORT)
    # Then the one reason is its channel's own requirement
    assert len(problems) == 1
    assert problems[0].startswith("data.subscriptions[0]")
    assert "needs" in problems[0]
