"""The import_and_start endpoint's record rules: the trigger and its launch parameters, the five matching modes,
no database, one e-mail address a value, and reasons that name the field and the rule, never the value."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest

from courier.destinations.altcraft.batch import batch_key
from courier.destinations.altcraft.methods import IMPORT, IMPORT_AND_START
from courier.destinations.altcraft.records import make_altcraft_preparer
from courier.settings import Settings

SECRET = "secret-personal-value"  # appears in refused values; must never appear in a reason


def prepare(record: dict[str, Any], **settings: Any) -> tuple[dict[str, Any] | None, list[str]]:
    return make_altcraft_preparer(IMPORT_AND_START)(Settings(**settings), time.time())(record)


def prepared(record: dict[str, Any], **settings: Any) -> dict[str, Any]:
    body, errors = prepare(record, **settings)
    assert errors == []
    assert body is not None
    return body


def refused(record: dict[str, Any]) -> list[str]:
    body, errors = prepare(record)
    assert body is None
    assert not any(SECRET in reason for reason in errors)  # reasons never quote a value
    return errors


def with_trigger(**fields: Any) -> dict[str, Any]:
    return {"trigger_id": 13, "email": "a@example.com", "data": {"_fname": "A"}, **fields}


def test_trigger_id_is_required_on_every_record() -> None:
    # Given a record without trigger_id (and one with an empty CSV cell)
    # Then each is refused, naming the field
    assert refused({"email": "a@example.com", "data": {"_fname": "A"}}) == ["trigger_id: is required"]
    assert refused(with_trigger(trigger_id="")) == ["trigger_id: is required"]


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        (f"{SECRET}", "trigger_id: must be a whole number"),
        (True, "trigger_id: must be a whole number"),
        (1.5, "trigger_id: must be a whole number"),
        ("²", "trigger_id: must be a whole number"),
        (0, "trigger_id: must be a positive whole number"),
        (-3, "trigger_id: must be a positive whole number"),
        (2**63, "trigger_id: must be at most 9223372036854775807"),
        ("9" * 4000, "trigger_id: must be a whole number"),
    ],
)
def test_trigger_id_must_be_a_positive_whole_number(value: Any, reason: str) -> None:
    assert refused(with_trigger(trigger_id=value)) == [reason]


def test_trigger_id_from_a_csv_cell_becomes_a_number() -> None:
    assert prepared(with_trigger(trigger_id=" 13 "))["trigger_id"] == 13


def test_a_partial_timeout_is_sent_whole() -> None:
    # Given a timeout of five minutes only
    body = prepared(with_trigger(timeout={"minutes": 5}))
    # Then the body carries days, hours and minutes, the missing ones 0 (inference: the page shows all three)
    assert json.dumps(body["timeout"]) == '{"days": 0, "hours": 0, "minutes": 5}'


@pytest.mark.parametrize(
    ("timeout", "reasons"),
    [
        ({"minutes": -1}, ["timeout.minutes: must not be negative"]),
        ({"minutes": "5"}, ["timeout.minutes: must be a whole number"]),
        ({"minutes": True}, ["timeout.minutes: must be a whole number"]),
        ({"weeks": 1}, ["timeout.weeks: is not a parameter here"]),
        ([5], ["timeout: must be a JSON object"]),
        (f"{{{SECRET}", ["timeout: is not valid JSON"]),
    ],
)
def test_timeout_rules(timeout: Any, reasons: list[str]) -> None:
    assert refused(with_trigger(timeout=timeout)) == reasons


@pytest.mark.parametrize("name", ["content", "custom_data"])
def test_content_and_custom_data_are_json_objects(name: str) -> None:
    # Given an object, its JSON text (a CSV cell), an array and a bare text
    assert prepared(with_trigger(**{name: {"page": "x"}}))[name] == {"page": "x"}
    assert prepared(with_trigger(**{name: '{"page": "x"}'}))[name] == {"page": "x"}
    assert refused(with_trigger(**{name: [SECRET]})) == [f"{name}: must be a JSON object"]
    assert refused(with_trigger(**{name: SECRET})) == [f"{name}: is not valid JSON"]


def test_content_nested_too_deep_is_refused() -> None:
    deep: dict[str, Any] = {}
    for _ in range(40):
        deep = {"x": deep}
    assert refused(with_trigger(content=deep)) == ["content: is nested more than 32 levels"]


def test_attach_is_sent_as_an_array_of_data_uris() -> None:
    # Given one attachment as a bare object (the page's example) and two as an array
    one = {"data": "data:text/csv;base64,SEVMTE8K", "name": "Attach.txt"}
    assert prepared(with_trigger(attach=one))["attach"] == [one]
    two = [one, {"data": "data:application/pdf;name=x.pdf;base64,JVBERi0=", "name": "x.pdf", "mimetype": "x"}]
    # Then they are kept as given (the optional mimetype too)
    assert prepared(with_trigger(attach=two))["attach"] == two


@pytest.mark.parametrize(
    ("attach", "reason"),
    [
        ({"data": SECRET, "name": "a.txt"}, "attach[0].data"),
        ({"data": f"data:text/plain;base64,{SECRET}!", "name": "a.txt"}, "attach[0].data"),
        ({"data": "data:text/plain;base64,SEVMTE8", "name": "a.txt"}, "attach[0].data"),  # bad padding
        ({"data": "data:text/plain,HELLO", "name": "a.txt"}, "attach[0].data"),  # not base64
    ],
)
def test_attach_data_must_be_a_base64_data_uri(attach: dict[str, Any], reason: str) -> None:
    assert refused(with_trigger(attach=attach)) == [
        f"{reason}: must be a data: URI with base64 content, such as data:text/csv;base64,SEVMTE8K"
    ]


def test_attach_items_rules() -> None:
    good = "data:text/csv;base64,SEVMTE8K"
    assert refused(with_trigger(attach=[{"data": good}])) == ["attach[0].name: is required"]
    assert refused(with_trigger(attach=[{"data": good, "name": " "}])) == ["attach[0].name: must not be empty"]
    assert refused(with_trigger(attach=[{"data": good, "name": "a", "size": 1}])) == [
        "attach[0].size: is not a parameter here"
    ]
    assert refused(with_trigger(attach=[SECRET])) == ["attach[0]: must be a JSON object"]
    assert refused(with_trigger(attach=5)) == ["attach: must be a JSON array"]


def test_an_unknown_launch_parameter_in_a_record_is_not_sent() -> None:
    # Given a record with a parameter the trigger does not take (segments are profiles/import's)
    body = prepared(with_trigger(add_to_segments=[1]))
    # Then the body does not carry it
    assert "add_to_segments" not in body


def test_db_id_is_refused_the_trigger_imports_into_its_own_database() -> None:
    # Given a record naming a database (and a stack with ALTCRAFT_DB_ID set, which the trigger does not use)
    assert refused(with_trigger(db_id=5)) == [
        "db_id: campaigns/triggers/import_and_start imports into the trigger's own database: leave db_id out"
    ]
    assert "db_id" not in prepared(with_trigger(), ALTCRAFT_DB_ID="7")


def test_only_the_five_documented_matching_modes() -> None:
    # Given modes the trigger page does not list, and one nobody knows
    assert refused(with_trigger(matching="email_sub")) == [
        "matching: email_sub is not a mode of campaigns/triggers/import_and_start "
        "(use one of: email, email_profile, phone, profile_id, custom)"
    ]
    assert refused(with_trigger(matching=SECRET)) == [
        "matching: unknown mode (use one of: email, email_profile, phone, profile_id, custom)"
    ]
    # And a stack default the trigger does not take is named as the stack's
    body, errors = prepare({"trigger_id": 1, "phone": "+79000000000", "data": {"a": 1}}, ALTCRAFT_MATCHING="phone_sub")
    assert (body, errors) == (
        None,
        [
            "matching: ALTCRAFT_MATCHING's mode phone_sub is not one of campaigns/triggers/import_and_start's "
            "(email, email_profile, phone, profile_id, custom): set one"
        ],
    )


def test_a_lone_profile_id_matches_by_profile_id() -> None:
    # Given a record with a profile id and no e-mail
    body = prepared({"trigger_id": 13, "profile_id": "5f4fa1a5ce9448665fef548e", "data": {"_fname": "A"}})
    # Then it is matched by profile_id (which finds the profile, never creates one)
    assert (body["matching"], body["profile_id"]) == ("profile_id", "5f4fa1a5ce9448665fef548e")


def test_data_is_required() -> None:
    assert refused({"trigger_id": 13, "email": "a@example.com", "data": {}}) == [
        "data: is required (the profile's fields)"
    ]


@pytest.mark.parametrize(
    ("record", "reason"),
    [
        (
            {"trigger_id": 13, "email": f"{SECRET}@example.com;b@example.com", "data": {"_fname": "A"}},
            "email: holds several addresses (Altcraft reads a joined list as one address): send one record each",
        ),
        (
            {"trigger_id": 13, "email": f"{SECRET}@example.com, b@example.com", "data": {"_fname": "A"}},
            "email: holds several addresses (Altcraft reads a joined list as one address): send one record each",
        ),
        (
            {"trigger_id": 13, "data": {"email": f"{SECRET}@example.com;b@example.com"}},
            "email: holds several addresses (Altcraft reads a joined list as one address): send one record each",
        ),
        (
            {"trigger_id": 13, "email": "a@example.com", "data": {"email": f"{SECRET}@x.ru;c@y.ru"}},
            "data.email: holds several addresses (Altcraft reads a joined list as one address): send one record each",
        ),
        (
            {
                "trigger_id": 13,
                "email": "a@example.com",
                "data": {"subscriptions": [{"channel": "email", "email": f"{SECRET}@x.ru;c@y.ru"}]},
            },
            "data.subscriptions[0].email: holds several addresses (Altcraft reads a joined list as one address): "
            "send one record each",
        ),
        (
            {"trigger_id": 13, "email": f"{SECRET}@example.com;", "data": {"_fname": "A"}},
            "email: is not an e-mail address",
        ),
    ],
)
def test_an_e_mail_value_is_one_address_never_a_joined_list(record: dict[str, Any], reason: str) -> None:
    # Given an e-mail value joined with ';' or ',' (Altcraft reads it as one address and sends nothing,
    # docs/contracts/altcraft.md#trigger-launch)
    # Then the record is refused and says why
    assert reason in refused(record)


def test_the_joined_list_rule_holds_for_profiles_import_too() -> None:
    body, errors = make_altcraft_preparer(IMPORT)(Settings(ALTCRAFT_DB_ID="1"), time.time())(
        {"email": "a@example.com;b@example.com", "data": {"_fname": "A"}}
    )
    assert body is None
    assert errors == [
        "email: holds several addresses (Altcraft reads a joined list as one address): send one record each"
    ]


def test_phones_text_is_kept_for_the_trigger_and_made_a_list_for_profiles() -> None:
    # Given data.phones as one number in text (the trigger batch page's own example)
    record = {"email": "a@example.com", "data": {"phones": "+79000000000"}}
    # Then the trigger sends it as given; profiles/import makes it a one-item list, as before
    assert prepared({"trigger_id": 1, **record})["data"]["phones"] == "+79000000000"
    body, _ = make_altcraft_preparer(IMPORT)(Settings(ALTCRAFT_DB_ID="1"), time.time())(record)
    assert body is not None
    assert body["data"]["phones"] == ["+79000000000"]
    # And a text that is not a phone is refused
    assert refused({"trigger_id": 1, "email": "a@example.com", "data": {"phones": SECRET}}) == [
        "data.phones: must be an array of phone numbers"
    ]


def test_a_csv_row_for_the_trigger() -> None:
    # Given a CSV row: trigger and launch parameters as columns, every other column a profile field
    row = {
        "trigger_id": "13",
        "email": "a@example.com",
        "_fname": "Anna",
        "phones": "+79000000001;+79000000002",
        "ltv:number": "3",
        "timeout": '{"hours": 1}',
        "content": '{"promo": "SPRING"}',
        "db_id": "",
    }
    # Then the launch parameters are parameters, not profile fields
    assert prepared(row) == {
        "trigger_id": 13,
        "matching": "email",
        "email": "a@example.com",
        "data": {"email": "a@example.com", "_fname": "Anna", "phones": ["+79000000001", "+79000000002"], "ltv": 3},
        "timeout": {"days": 0, "hours": 1, "minutes": 0},
        "content": {"promo": "SPRING"},
    }


def test_records_with_different_batch_level_parameters_never_share_a_request() -> None:
    # Given records that differ in one batch-level parameter each
    base = prepared(with_trigger())
    others = [
        prepared(with_trigger(trigger_id=14)),
        prepared(with_trigger(custom_data={"x": 1})),
        prepared(with_trigger(content={"x": 1})),
        prepared(with_trigger(timeout={"minutes": 1})),
        prepared(with_trigger(skip_triggers=True)),
        prepared(with_trigger(resource_id=24)),
        prepared(with_trigger(attach={"data": "data:text/csv;base64,SEVMTE8K", "name": "a.txt"})),
        prepared({"trigger_id": 13, "matching": "email_profile", "email": "a@example.com", "data": {"_fname": "A"}}),
    ]
    keys = [batch_key(IMPORT_AND_START, body) for body in [base, *others]]
    # Then each has its own batch key, and a record for another profile with the same parameters shares base's
    assert len(set(keys)) == len(keys)
    same = prepared({"trigger_id": 13, "email": "b@example.com", "data": {"_fname": "B", "x": 2}})
    assert batch_key(IMPORT_AND_START, same) == keys[0]


def test_the_batch_key_is_a_digest_without_personal_data() -> None:
    # Given a record whose content holds personal data (the ledger keeps batch keys)
    key = batch_key(IMPORT_AND_START, prepared(with_trigger(content={"name": SECRET})))
    # Then the key is a fixed-size digest
    assert key.startswith("sha256:")
    assert len(key) == 71
    assert SECRET not in key
