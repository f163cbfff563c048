"""The Altcraft emulator's routes for profiles/add(_batch), workflows/import_and_start(_batch), profiles/delete,
subscriptions/set and goals/register, checked against the pages' own examples and the golden cases
(docs/contracts/index.md#golden-cases, tests/golden_cases.py) and against each refusal rule the emulator enforces.
Everything goes over HTTP to 127.0.0.1. The emulator speaks JSON only: the pages' XML examples are not played."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime
from typing import Any

import pytest
import requests

from sandbox.altcraft_emulator import AltcraftEmulator
from tests.golden_cases import (
    AC_ADD_ANSWER,
    AC_ADD_JSON,
    AC_ADD_JSON_SLASH,
    AC_ADDB_ANSWER,
    AC_ADDB_JSON,
    AC_DEL_ANSWER,
    AC_DEL_CUSTOM,
    AC_DEL_JSON,
    AC_DEL_JSON_SLASH,
    AC_GOAL_MANY,
    AC_GOAL_ONE,
    AC_SUB_SET_PUSH,
    AC_SUB_SET_STATUS,
    AC_WF_IAS,
    ALTCRAFT_TOKEN,
    NOW,
    WORKFLOW_PAGE_TOKEN,
    GoldenRequest,
    case_id,
)

NO_DELETE_TOKEN = "a-token-whose-role-may-not-delete"
OTHER_TOKEN = "another-token-for-database-2"
HEX24 = "0123456789abcdef"
OK = {"error": 0, "error_text": "Successful operation"}
DOC_PROFILE_ID = "abcdefghijklmnqrstuvwxyz"  # the pages' placeholder profile id
# What every method that takes db_id refuses before reading the rest: (changes, code, text), as the refusal tables
# take them (the four methods check the token and the database the same way)
DATABASE_REFUSALS: list[tuple[dict[str, Any], int, str]] = [
    ({"token": None}, 401, "API token required"),
    ({"token": "wrong"}, 403, "invalid API token"),
    ({"token": OTHER_TOKEN}, 403, "No access to this database"),
    ({"db_id": None}, 400, "db_id is required"),
    ({"db_id": "1"}, 400, "db_id is required"),
    ({"db_id": 99}, 404, "database 99 not found"),
]


# --- fixtures and helpers -------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def _server() -> Iterator[AltcraftEmulator]:
    emulator = AltcraftEmulator(
        tokens={ALTCRAFT_TOKEN: {1, 20}, WORKFLOW_PAGE_TOKEN: {1}, NO_DELETE_TOKEN: {1}, OTHER_TOKEN: {2}},
        workflows={1: 1, 5: 2},
    )
    emulator.start()
    yield emulator
    emulator.stop()


@pytest.fixture
def altcraft(_server: AltcraftEmulator) -> Iterator[AltcraftEmulator]:
    """The emulator, emptied, its clock frozen at the golden cases' "now", one token's role without the right to
    delete profiles."""
    _server.reset()
    _server.clock = lambda: float(NOW)
    _server.tokens_without_delete.add(NO_DELETE_TOKEN)
    yield _server
    _server.keep = True


def call(emulator: AltcraftEmulator, target: str, body: dict[str, Any] | str, **headers: str) -> Any:
    """POSTs a JSON body; the HTTP status repeats a refusal's code, 200 otherwise."""
    data = body if isinstance(body, str) else json.dumps(body)
    response = requests.post(
        emulator.url + target,
        data=data.encode(),
        headers={"Content-Type": "application/json", **headers},
        timeout=10,
    )
    payload = response.json()
    assert response.status_code == (payload["error"] or 200)
    return payload


def golden(case: GoldenRequest, **changes: Any) -> dict[str, Any]:
    """A golden case's body as a dict, with changes (a None value drops the key)."""
    body = {**json.loads(case.text), **changes}
    return {k: v for k, v in body.items() if v is not None}


def is_profile_id(value: Any) -> bool:
    return isinstance(value, str) and len(value) == 24 and set(value) <= set(HEX24)


def nothing_recorded(emulator: AltcraftEmulator) -> bool:
    return (emulator.deletions, emulator.subscription_changes, emulator.goals, emulator.enrolments) == ([], [], [], [])


# --- profiles/add, profiles/add_batch/ ------------------------------------------------------------------------------
@pytest.mark.parametrize("case", [AC_ADD_JSON, AC_ADD_JSON_SLASH], ids=case_id)
def test_add_documented_example_creates_the_profile(altcraft: AltcraftEmulator, case: GoldenRequest) -> None:
    # Given a documented profiles/add example
    # When it is posted
    answer = call(altcraft, case.target, case.text)
    # Then the answer has the documented fields: error 0 and a 24-hex profile id ("Successful operation" for the
    # JSON example's empty error_text, as the XML example prints it)
    assert set(answer) == set(json.loads(AC_ADD_ANSWER))
    assert (answer["error"], answer["error_text"]) == (0, "Successful operation")
    assert is_profile_id(answer["profile_id"])
    # And the profile holds exactly the example's fields
    sent = json.loads(case.text)["data"]
    assert altcraft.profiles(1) == [{"id": answer["profile_id"], **sent}]
    assert (altcraft.requests[-1].rows, altcraft.requests[-1].accepted) == (1, 1)


def test_add_resent_makes_a_duplicate(altcraft: AltcraftEmulator) -> None:
    # Given G-AC-ADD-JSON taken once
    first = call(altcraft, AC_ADD_JSON.target, AC_ADD_JSON.text)
    # When it is sent again (no unique e-mail in it)
    second = call(altcraft, AC_ADD_JSON.target, AC_ADD_JSON.text)
    # Then a second profile is created: add does not look for existing records
    assert second["error"] == 0
    assert first["profile_id"] != second["profile_id"]
    profiles = altcraft.profiles(1)
    assert [p["id"] for p in profiles] == [first["profile_id"], second["profile_id"]]
    assert [{k: v for k, v in p.items() if k != "id"} for p in profiles] == [{"_fname": "Fillipp", "_lname": "Doe"}] * 2


def test_add_refuses_a_duplicate_of_the_unique_email(altcraft: AltcraftEmulator) -> None:
    # Given a profile with john@example.com
    altcraft.add_profile(1, {"email": "john@example.com"})
    # When a profile with the same e-mail is added, and one with another e-mail
    duplicate = call(altcraft, AC_ADD_JSON.target, golden(AC_ADD_JSON, data={"email": "john@example.com"}))
    other = call(altcraft, AC_ADD_JSON.target, golden(AC_ADD_JSON, data={"email": "jane@example.com"}))
    # Then the duplicate is refused (409), the other added
    assert duplicate["error"] == 409
    assert "already exists" in duplicate["error_text"]
    assert other["error"] == 0
    assert sorted(p["email"] for p in altcraft.profiles(1)) == ["jane@example.com", "john@example.com"]


def test_add_with_empty_data_creates_an_empty_profile(altcraft: AltcraftEmulator) -> None:
    # Given profiles/add with data {} ("if no data is specified — an empty profile will be created")
    # When it is posted
    answer = call(altcraft, AC_ADD_JSON.target, golden(AC_ADD_JSON, data={}))
    # Then an empty profile is created
    assert altcraft.profiles(1) == [{"id": answer["profile_id"]}]


@pytest.mark.parametrize("path", ["/api/v1.1/profiles/add_batch/", "/api/v1.1/profiles/add_batch"])
def test_add_batch_documented_example_creates_each_profile(altcraft: AltcraftEmulator, path: str) -> None:
    # Given G-AC-ADDB-JSON, to the documented path with its trailing slash or without
    # When it is posted
    answer = call(altcraft, path, AC_ADDB_JSON.text)
    # Then the answer is the documented one, item by item, with the new profile's id
    (item,) = answer["result"]
    assert is_profile_id(item["profile_id"])
    expected = json.loads(AC_ADDB_ANSWER)
    expected["result"][0]["profile_id"] = item["profile_id"]
    assert answer == expected
    # And the profile holds the item's fields and its e-mail subscription as written (email_data, resource 27)
    (profile,) = altcraft.profiles(1)
    assert profile == {"id": item["profile_id"], **json.loads(AC_ADDB_JSON.text)["data"][0]}
    assert (altcraft.requests[-1].rows, altcraft.requests[-1].accepted) == (1, 1)


def test_add_batch_answers_each_item_in_order_and_refuses_bad_ones_alone(altcraft: AltcraftEmulator) -> None:
    # Given a batch: a profile, one that is not an object, one with an unknown field, a duplicate of the first
    # e-mail, and the same e-mail-less profile twice
    items = [
        {"email": "a@example.com"},
        "not an object",
        {"no_such_field": 1},
        {"email": "a@example.com"},
        {"_fname": "Same"},
        {"_fname": "Same"},
    ]
    # When it is posted
    answer = call(altcraft, AC_ADDB_JSON.target, golden(AC_ADDB_JSON, data=items))
    # Then each item is answered in its place; the refused ones are not stored, the repeated one is stored twice
    assert [result["error"] for result in answer["result"]] == [0, 400, 400, 409, 0, 0]
    assert "must be an object" in answer["result"][1]["error_text"]
    assert "unknown field no_such_field" in answer["result"][2]["error_text"]
    ids = [answer["result"][n]["profile_id"] for n in (0, 4, 5)]
    assert [p["id"] for p in altcraft.profiles(1)] == ids
    assert (altcraft.requests[-1].rows, altcraft.requests[-1].accepted) == (6, 3)


@pytest.mark.parametrize(
    ("changes", "code", "text"),
    [
        *DATABASE_REFUSALS,
        ({"data": None}, 400, "data is required"),
        ({"data": [{"_fname": "John"}]}, 400, "data is required"),
        (
            {"matching": "email", "email": "john@example.com"},
            400,
            "unknown parameters for profiles/add: email, matching",
        ),
        ({"_fname": "John"}, 400, "unknown parameters for profiles/add: _fname"),
        ({"skip_triggers": "true"}, 400, "skip_triggers must be a boolean"),
        ({"skip_invalid_subscriptions": 1}, 400, "skip_invalid_subscriptions must be a boolean"),
        ({"format": "xml"}, 400, "JSON only"),
        ({"data": {"visits": {"action": "incr", "value": 1}}}, 400, "update functions are not taken"),
        ({"data": {"undeclared": "x"}}, 400, "unknown field undeclared"),
        ({"data": {"id": "60ae529b3f62fcdebdb159bb"}}, 400, "id is read-only"),
        ({"data": {"email": "not-an-address"}}, 400, "email is not valid"),
        ({"data": {"email": "a@example.com;b@example.com"}}, 400, "not one valid e-mail address"),
        ({"data": {"phones": "+79000000000"}}, 400, "phones must be an array"),
        ({"data": {"subscriptions": [{"channel": "email", "resource_id": 1}]}}, 400, "lacks its identity fields"),
        ({"data": {"subscriptions": [{"channel": "fax", "resource_id": 1}]}}, 400, "unknown channel fax"),
        (
            {"data": {"subscriptions": [{"channel": "email", "email": "a@example.com", "status": "paused"}]}},
            400,
            "invalid subscription status",
        ),
    ],
)
def test_add_refusals(altcraft: AltcraftEmulator, changes: dict[str, Any], code: int, text: str) -> None:
    # Given G-AC-ADD-JSON with one change the page (or its strict reading) forbids
    # When it is posted
    answer = call(altcraft, AC_ADD_JSON.target, golden(AC_ADD_JSON, **changes))
    # Then it is refused with that code, and nothing is stored
    assert answer["error"] == code
    assert text in answer["error_text"]
    assert altcraft.profiles(1) == []


def test_add_skips_an_invalid_subscription_when_asked(altcraft: AltcraftEmulator) -> None:
    # Given a profile with one invalid and one valid subscription, and skip_invalid_subscriptions
    subs = [{"channel": "email", "resource_id": 1}, {"channel": "sms", "phone": "+79000000000", "resource_id": 1}]
    body = golden(AC_ADD_JSON, data={"subscriptions": subs}, skip_invalid_subscriptions=True)
    # When it is posted
    answer = call(altcraft, AC_ADD_JSON.target, body)
    # Then the profile is created with the valid subscription only
    assert altcraft.profiles(1) == [{"id": answer["profile_id"], "subscriptions": [subs[1]]}]


@pytest.mark.parametrize(
    ("data", "text"),
    [(None, "non-empty array"), ([], "non-empty array"), ({"_fname": "John"}, "non-empty array")],
    ids=["missing", "empty", "object"],
)
def test_add_batch_without_a_data_array_is_refused_whole(altcraft: AltcraftEmulator, data: Any, text: str) -> None:
    # Given add_batch whose data is missing, empty or one object
    # When it is posted
    answer = call(altcraft, AC_ADDB_JSON.target, golden(AC_ADDB_JSON, data=data))
    # Then it is refused whole
    assert (answer["error"], text in answer["error_text"]) == (400, True)
    assert altcraft.profiles(1) == []


def test_add_batch_over_the_item_limit_is_refused() -> None:
    # Given an emulator taking at most 2 profiles a batch
    emulator = AltcraftEmulator(tokens={ALTCRAFT_TOKEN: {1}}, max_items=2).start()
    try:
        # When three are posted
        answer = call(emulator, AC_ADDB_JSON.target, golden(AC_ADDB_JSON, data=[{}, {}, {}]))
        stored = emulator.profiles(1)
    finally:
        emulator.stop()
    # Then the request is refused whole, as import_batch refuses it
    assert answer["error"] == 400
    assert "more than 2 profiles" in answer["error_text"]
    assert stored == []


def test_add_takes_json_only(altcraft: AltcraftEmulator) -> None:
    # Given the page's XML example (documented, not emulated)
    xml = b"<xml><token>abcdefghijklmnqrstuvwxyz</token><db_id>1</db_id><data><_fname>Fillipp</_fname></data></xml>"
    # When it is posted as application/xml
    response = requests.post(
        altcraft.url + AC_ADD_JSON.target, data=xml, headers={"Content-Type": "application/xml"}, timeout=10
    )
    # Then it is 400: the emulator speaks JSON only
    assert (response.status_code, response.json()["error"]) == (400, 400)
    assert altcraft.profiles(1) == []


# --- workflows/import_and_start(_batch) -----------------------------------------------------------------------------
def test_workflow_golden_case_imports_and_enrols_the_profile(altcraft: AltcraftEmulator) -> None:
    # Given G-AC-WF-IAS: the scenario page's example, completed (its subscription names no channel)
    # When it is posted
    answer = call(altcraft, AC_WF_IAS.target, AC_WF_IAS.text)
    # Then the answer has error 0 and a 24-hex profile id
    assert set(answer) == {"error", "error_text", "profile_id"}
    assert (answer["error"], answer["error_text"]) == (0, "Successful operation")
    assert is_profile_id(answer["profile_id"])
    # And the profile is imported into workflow 1's database with the e-mail subscription, the channel implied
    assert altcraft.profiles(1) == [
        {
            "id": answer["profile_id"],
            "subscriptions": [{"channel": "email", "email": "example001@example.com", "resource_id": 7}],
        }
    ]
    # And one enrolment of workflow 1 is recorded for it, field by field; no trigger was started
    (enrolment,) = altcraft.enrolments
    assert (enrolment.workflow_id, enrolment.db_id, enrolment.profile_id) == (1, 1, answer["profile_id"])
    assert enrolment.matched_by == {"matching": "email", "email": "example001@example.com"}
    assert enrolment.content == json.loads(AC_WF_IAS.text)["content"]
    assert (enrolment.enrolled_at, enrolment.custom_data, enrolment.attachments) == (NOW, None, ())
    assert (enrolment.skip_triggers, enrolment.batch) == (False, False)
    assert altcraft.enrolled(1) == [answer["profile_id"]]
    assert altcraft.triggers_started == []


def test_a_resent_workflow_request_enrols_the_same_profile_again(altcraft: AltcraftEmulator) -> None:
    # Given G-AC-WF-IAS taken once
    first = call(altcraft, AC_WF_IAS.target, AC_WF_IAS.text)
    # When it is sent again
    second = call(altcraft, AC_WF_IAS.target, AC_WF_IAS.text)
    # Then the same profile is found (one profile, one subscription) and enrolled a second time
    assert first["profile_id"] == second["profile_id"]
    (profile,) = altcraft.profiles(1)
    assert len(profile["subscriptions"]) == 1
    assert altcraft.enrolled(1) == [first["profile_id"]] * 2


def test_workflow_batch_answers_item_by_item_and_enrols_each(altcraft: AltcraftEmulator) -> None:
    # Given a scenario batch of two profiles, a bad item between them, custom_data at the root and on one item
    items = [
        {"data": {"email": "p1@example.com", "_fname": "One"}},
        {"email": "bad@example.com"},
        {"email": "p2@example.com", "data": {}, "custom_data": {"who": "item"}},
    ]
    body = {"token": ALTCRAFT_TOKEN, "workflow_id": 1, "matching": "email", "custom_data": {"who": "root"}}
    # When it is posted
    answer = call(altcraft, "/api/v1.1/workflows/import_and_start_batch", {**body, "data": items})
    # Then each item is answered in its place, the bad one refused alone
    assert [result["error"] for result in answer["result"]] == [0, 400, 0]
    assert "needs a data object" in answer["result"][1]["error_text"]
    ids = [answer["result"][n]["profile_id"] for n in (0, 2)]
    # And both profiles are enrolled, as batch enrolments with the custom_data that applies to each
    assert altcraft.enrolled(1) == ids
    assert [(e.batch, e.custom_data) for e in altcraft.enrolments] == [(True, {"who": "root"}), (True, {"who": "item"})]
    assert [e.matched_by["email"] for e in altcraft.enrolments] == ["p1@example.com", "p2@example.com"]
    assert (altcraft.requests[-1].rows, altcraft.requests[-1].accepted) == (3, 2)


def test_workflow_data_is_optional(altcraft: AltcraftEmulator) -> None:
    # Given G-AC-WF-IAS without data ("No" on the page)
    # When it is posted
    answer = call(altcraft, AC_WF_IAS.target, golden(AC_WF_IAS, data=None))
    # Then the profile is created and enrolled
    assert altcraft.enrolled(1) == [answer["profile_id"]]


def test_workflow_db_id_naming_its_database_is_taken(altcraft: AltcraftEmulator) -> None:
    # Given G-AC-WF-IAS with db_id 1, as the page's other example sends it
    # When it is posted
    answer = call(altcraft, AC_WF_IAS.target, golden(AC_WF_IAS, db_id=1))
    # Then it is taken
    assert answer["error"] == 0


@pytest.mark.parametrize(
    ("changes", "code", "text"),
    [
        ({"token": None}, 401, "API token required"),
        ({"token": "wrong"}, 403, "invalid API token"),
        ({"workflow_id": None}, 400, "workflow_id is required"),
        ({"workflow_id": "1"}, 400, "workflow_id is required"),
        ({"workflow_id": 999}, 404, "workflow 999 not found"),
        ({"workflow_id": 5}, 403, "No access to this workflow"),
        ({"matching": None}, 400, "matching is required"),
        ({"matching": "push_sub"}, 400, "matching must be one of"),
        ({"matching": "phone"}, 400, "matching phone requires phone"),
        ({"matching": "custom", "field_value": "1"}, 400, "matching custom requires field_name"),
        ({"email": None}, 400, "matching email requires email"),
        ({"email": "a@example.com;b@example.com"}, 400, "not one valid e-mail address"),
        ({"trigger_id": 13}, 400, "unknown parameters: trigger_id"),
        ({"timeout": {"minutes": 5}}, 400, "unknown parameters: timeout"),
        ({"resource_id": 7}, 400, "unknown parameters: resource_id"),
        ({"db_id": 2}, 400, "is not the database of workflow 1"),
        ({"format": "xml"}, 400, "JSON only"),
        ({"data": [{"_fname": "John"}]}, 400, "data must be an object"),
        ({"data": {"subscriptions": [{"phone": "+79000000000", "resource_id": 7}]}}, 400, "unknown channel None"),
        ({"skip_triggers": "yes"}, 400, "skip_triggers must be a boolean"),
        ({"attach": [{"data": "not-a-data-uri", "name": "x"}]}, 400, "data: URI"),
    ],
)
def test_workflow_refusals(altcraft: AltcraftEmulator, changes: dict[str, Any], code: int, text: str) -> None:
    # Given G-AC-WF-IAS with one change the page (or its strict reading) forbids
    # When it is posted
    answer = call(altcraft, AC_WF_IAS.target, golden(AC_WF_IAS, **changes))
    # Then it is refused with that code, and nothing is imported or enrolled
    assert answer["error"] == code
    assert text in answer["error_text"]
    assert (altcraft.profiles(1), altcraft.enrolments) == ([], [])


def test_an_inactive_workflow_is_refused(altcraft: AltcraftEmulator) -> None:
    # Given workflow 1 made inactive
    altcraft.inactive_workflows.add(1)
    # When G-AC-WF-IAS is posted
    answer = call(altcraft, AC_WF_IAS.target, AC_WF_IAS.text)
    # Then it is refused and nobody is enrolled
    assert (answer["error"], "not active" in answer["error_text"]) == (400, True)
    assert altcraft.enrolments == []


@pytest.mark.parametrize("data", [None, [], {"data": {}}], ids=["missing", "empty", "object"])
def test_workflow_batch_without_a_data_array_is_refused_whole(altcraft: AltcraftEmulator, data: Any) -> None:
    # Given a scenario batch whose data is missing, empty or an object
    body = {"token": ALTCRAFT_TOKEN, "workflow_id": 1, "matching": "email", "data": data}
    # When it is posted
    answer = call(altcraft, "/api/v1.1/workflows/import_and_start_batch/", body)
    # Then it is refused whole
    assert (answer["error"], "non-empty array" in answer["error_text"]) == (400, True)
    assert altcraft.enrolments == []


# --- profiles/delete ------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("case", "seed"),
    [
        (AC_DEL_JSON, {"id": "5f33d33ece94481aa9382110", "email": "example@example.com", "_fname": "Doc"}),
        (AC_DEL_JSON_SLASH, {"id": "5f33d33ece94481aa9382110", "email": "john@example.com"}),
        (AC_DEL_CUSTOM, {"id": "5f33d33ece94481aa9382110", "CRM_ID": "123420"}),
    ],
    ids=[AC_DEL_JSON.case_id, AC_DEL_JSON_SLASH.case_id, AC_DEL_CUSTOM.case_id],
)
def test_delete_golden_cases_remove_the_profile(
    altcraft: AltcraftEmulator, case: GoldenRequest, seed: dict[str, Any]
) -> None:
    # Given the profile the case names, seeded with the page's answer id, and another profile
    altcraft.add_profile(1, seed)
    other = altcraft.add_profile(1, {"email": "other@example.com", "CRM_ID": "999"})
    # When the case is posted
    answer = call(altcraft, case.target, case.text)
    # Then the answer is the page's, as printed
    assert answer == json.loads(AC_DEL_ANSWER)
    # And the profile is gone, the other one kept, and the deletion recorded with what found it
    assert [p["id"] for p in altcraft.profiles(1)] == [other]
    assert altcraft.deleted(1) == ["5f33d33ece94481aa9382110"]
    (deletion,) = altcraft.deletions
    sent = json.loads(case.text)
    assert deletion.matched_by == {k: v for k, v in sent.items() if k not in ("token", "db_id")}
    assert (deletion.db_id, deletion.profile) == (1, seed)


def test_a_second_delete_of_the_same_profile_is_not_found(altcraft: AltcraftEmulator) -> None:
    # Given G-AC-DEL-JSON taken once
    altcraft.add_profile(1, {"email": "example@example.com"})
    first = call(altcraft, AC_DEL_JSON.target, AC_DEL_JSON.text)
    # When it is sent again
    second = call(altcraft, AC_DEL_JSON.target, AC_DEL_JSON.text)
    # Then the second is 404: the profile is no longer there; one deletion recorded
    assert first["error"] == 0
    assert (second["error"], second["error_text"]) == (404, "profile not found")
    assert altcraft.deleted(1) == [first["data"]["profile_id"]]


def test_a_deleted_profile_reimported_comes_back_with_a_new_id(altcraft: AltcraftEmulator) -> None:
    # Given a profile deleted by e-mail
    old = altcraft.add_profile(1, {"email": "example@example.com"})
    call(altcraft, AC_DEL_JSON.target, AC_DEL_JSON.text)
    # When the same e-mail is imported again
    body = {
        "token": ALTCRAFT_TOKEN,
        "db_id": 1,
        "email": "example@example.com",
        "data": {"email": "example@example.com"},
    }
    answer = call(altcraft, "/api/v1.1/profiles/import", body)
    # Then a new profile is created
    assert answer["profile_id"] != old
    assert [p["id"] for p in altcraft.profiles(1)] == [answer["profile_id"]]


@pytest.mark.parametrize(
    ("seed", "keys"),
    [
        ({"phones": ["+79000000000"]}, {"matching": "phone", "phone": "+79000000000"}),
        ({"_fname": "ById"}, {"matching": "profile_id"}),
        (
            {"subscriptions": [{"channel": "email", "email": "example@example.com", "resource_id": 1}]},
            {"matching": "email", "email": "example@example.com"},
        ),
        (
            {"city_tags": ["tag-1", "tag-2", "tag-3"]},
            {"matching": "custom", "field_name": "city_tags", "field_value": "tag-1, tag-2"},
        ),
        ({"CRM_ID": 123420}, {"matching": "custom", "field_name": "CRM_ID", "field_value": 123420}),
    ],
    ids=["phone", "profile_id", "email-of-a-subscription", "tags-combination", "custom-integer"],
)
def test_delete_finds_the_profile_by_each_mode(
    altcraft: AltcraftEmulator, seed: dict[str, Any], keys: dict[str, Any]
) -> None:
    # Given a profile
    profile_id = altcraft.add_profile(1, seed)
    keys = {**keys, "profile_id": profile_id} if keys["matching"] == "profile_id" else keys
    # When it is deleted by the mode's keys
    answer = call(altcraft, AC_DEL_JSON.target, {"token": ALTCRAFT_TOKEN, "db_id": 1, **keys})
    # Then it is gone
    assert answer["data"] == {"profile_id": profile_id}
    assert (altcraft.profiles(1), altcraft.deleted(1)) == ([], [profile_id])


def test_delete_resource_id_narrows_the_search_to_that_resources_subscriptions(altcraft: AltcraftEmulator) -> None:
    # Given a profile whose e-mail is only in a subscription of resource 1
    sub = {"channel": "email", "email": "example@example.com", "resource_id": 1}
    profile_id = altcraft.add_profile(1, {"subscriptions": [sub]})
    # When it is deleted by e-mail within resource 24, then within resource 1
    elsewhere = call(altcraft, AC_DEL_JSON.target, golden(AC_DEL_JSON, resource_id=24))
    there = call(altcraft, AC_DEL_JSON.target, golden(AC_DEL_JSON, resource_id=1))
    # Then the first finds nothing, the second deletes it
    assert elsewhere["error"] == 404
    assert there["data"] == {"profile_id": profile_id}


def test_delete_of_two_matching_profiles_is_409(altcraft: AltcraftEmulator) -> None:
    # Given two profiles with the case's e-mail
    altcraft.add_profile(1, {"email": "example@example.com"})
    altcraft.add_profile(1, {"email": "example@example.com"})
    # When G-AC-DEL-JSON is posted
    answer = call(altcraft, AC_DEL_JSON.target, AC_DEL_JSON.text)
    # Then it is 409 and neither is deleted
    assert answer["error"] == 409
    assert (len(altcraft.profiles(1)), altcraft.deletions) == (2, [])


@pytest.mark.parametrize(
    ("changes", "code", "text"),
    [
        *DATABASE_REFUSALS,
        ({"token": NO_DELETE_TOKEN}, 403, "may not delete profiles"),
        ({"matching": "email_profile"}, 400, "matching must be one of email, phone, profile_id, custom"),
        ({"matching": "email_sub"}, 400, "matching must be one of"),
        ({"matching": "push_sub"}, 400, "matching must be one of"),
        ({"matching": "custom_sub"}, 400, "matching must be one of"),
        ({"email": None}, 400, "matching email requires email"),
        ({"matching": None, "email": None}, 400, "matching email requires email"),
        ({"phone": "+79000000000"}, 400, "phone: not a key of matching email"),
        ({"matching": "phone", "phone": "+79000000000"}, 400, "email: not a key of matching phone"),
        ({"matching": "custom", "email": None, "field_name": "CRM_ID"}, 400, "matching custom requires"),
        ({"matching": "custom", "field_name": "CRM_ID", "field_value": "1"}, 400, "email: not a key of matching"),
        ({"matching": "profile_id", "email": None}, 400, "matching profile_id requires profile_id"),
        ({"email": ["example@example.com"]}, 400, "email must be a string"),
        ({"email": "example@example.com;x@example.com"}, 400, "not one valid e-mail address"),
        (
            {"matching": "custom", "email": None, "field_name": "CRM_ID", "field_value": True},
            400,
            "field_value must be a string or an integer",
        ),
        ({"resource_id": "24"}, 400, "resource_id must be an integer"),
        ({"data": {}}, 400, "unknown parameters for profiles/delete: data"),
        ({"format": "xml"}, 400, "JSON only"),
    ],
)
def test_delete_refusals(altcraft: AltcraftEmulator, changes: dict[str, Any], code: int, text: str) -> None:
    # Given the profile G-AC-DEL-JSON names
    altcraft.add_profile(1, {"email": "example@example.com", "phones": ["+79000000000"], "CRM_ID": "1"})
    # When the case is posted with one change the page (or its strict reading) forbids
    answer = call(altcraft, AC_DEL_JSON.target, golden(AC_DEL_JSON, **changes))
    # Then it is refused with that code, and the profile is kept
    assert answer["error"] == code
    assert text in answer["error_text"]
    assert (len(altcraft.profiles(1)), altcraft.deletions) == (1, [])


# --- subscriptions/set ----------------------------------------------------------------------------------------------
def test_set_golden_case_sets_the_status_and_priority(altcraft: AltcraftEmulator) -> None:
    # Given the profile G-AC-SUB-SET-STATUS names, in database 20, without subscriptions
    altcraft.add_profile(20, {"id": "5a5b91d769d4265b958b9acb", "email": "example@example.org"})
    # When the case is posted
    answer = call(altcraft, AC_SUB_SET_STATUS.target, AC_SUB_SET_STATUS.text)
    # Then the answer is the bare envelope
    assert answer == OK
    # And the profile has that subscription, suspended, priority 4
    assert altcraft.subscriptions(20, "5a5b91d769d4265b958b9acb") == [
        {"channel": "email", "email": "example@example.org", "resource_id": 3, "status": "suspended", "priority": 4}
    ]
    (change,) = altcraft.subscription_changes
    assert (change.db_id, change.profile_id, change.resource_id, change.channel) == (
        20,
        "5a5b91d769d4265b958b9acb",
        3,
        "email",
    )
    assert (change.created, change.fields, change.skip_triggers) == (
        True,
        {"status": "suspended", "priority": 4},
        False,
    )


def test_set_golden_case_with_every_optional_field(altcraft: AltcraftEmulator) -> None:
    # Given the profile G-AC-SUB-SET-PUSH names
    altcraft.add_profile(1, {"id": DOC_PROFILE_ID})
    # When the case is posted
    answer = call(altcraft, AC_SUB_SET_PUSH.target, AC_SUB_SET_PUSH.text)
    # Then it is taken, and the push subscription holds every field sent, status 0 stored as its word
    assert answer == OK
    assert altcraft.subscriptions(1, DOC_PROFILE_ID) == [
        {
            "channel": "push",
            "resource_id": 1,
            "provider": "Firefox",
            "subscription_id": "abcdefghijklmnqrstuvwxyz",
            "status": "subscribed",
            "custom_fields": {"_browser_name": "Chrome", "_device_type": "web"},
            "cats": ["category_1", "category_2"],
            "date": "2018-08-22T00:00:00.000Z",
            "ip": "10.250.13.5",
            "url": "https://example.com/",
        }
    ]
    # And skip_triggers is recorded
    assert [change.skip_triggers for change in altcraft.subscription_changes] == [True]


def test_set_is_idempotent(altcraft: AltcraftEmulator) -> None:
    # Given G-AC-SUB-SET-STATUS taken once
    altcraft.add_profile(20, {"id": "5a5b91d769d4265b958b9acb"})
    call(altcraft, AC_SUB_SET_STATUS.target, AC_SUB_SET_STATUS.text)
    before = altcraft.subscriptions(20, "5a5b91d769d4265b958b9acb")
    # When it is sent again
    answer = call(altcraft, AC_SUB_SET_STATUS.target, AC_SUB_SET_STATUS.text)
    # Then the state is the same: one subscription, suspended; the second call edited it
    assert answer == OK
    assert altcraft.subscriptions(20, "5a5b91d769d4265b958b9acb") == before
    assert [change.created for change in altcraft.subscription_changes] == [True, False]


def test_set_edits_a_subscription_an_import_wrote(altcraft: AltcraftEmulator) -> None:
    # Given a profile whose e-mail subscription in resource 3 was imported with email_data, and one in resource 1
    imported = {"channel": "email", "email_data": {"email": "example@example.org"}, "resource_id": 3, "status": 0}
    kept = {"channel": "email", "email": "example@example.org", "resource_id": 1, "status": 0}
    altcraft.add_profile(20, {"id": "5a5b91d769d4265b958b9acb", "subscriptions": [imported, kept]})
    # When G-AC-SUB-SET-STATUS sets resource 3's
    call(altcraft, AC_SUB_SET_STATUS.target, AC_SUB_SET_STATUS.text)
    # Then only that one changes
    assert altcraft.subscriptions(20, "5a5b91d769d4265b958b9acb") == [
        {**imported, "status": "suspended", "priority": 4},
        kept,
    ]


def test_set_without_status_keeps_the_old_one_and_a_new_one_is_subscribed(altcraft: AltcraftEmulator) -> None:
    # Given a profile with an unsubscribed e-mail subscription in resource 3
    old = {"channel": "email", "email": "example@example.org", "resource_id": 3, "status": "unsubscribed"}
    altcraft.add_profile(20, {"id": "5a5b91d769d4265b958b9acb", "subscriptions": [old]})
    # When its priority is set without a status, and a subscription in resource 1 is added without one
    call(altcraft, AC_SUB_SET_STATUS.target, golden(AC_SUB_SET_STATUS, status=None))
    call(altcraft, AC_SUB_SET_STATUS.target, golden(AC_SUB_SET_STATUS, status=None, priority=None, resource_id=1))
    # Then the old one keeps its status, the new one is subscribed
    assert altcraft.subscriptions(20, "5a5b91d769d4265b958b9acb") == [
        {**old, "priority": 4},
        {"channel": "email", "email": "example@example.org", "resource_id": 1, "status": "subscribed"},
    ]


@pytest.mark.parametrize(
    ("identity", "status"),
    [
        ({"channel": "sms", "phone": "+79000000000"}, 1),
        ({"channel": "telegram_bot", "cc_data": {"id": 1}}, "unconfirmed"),
        ({"channel": "whatsapp", "cc_data": {"phone": "+79000000000"}}, 6),
        ({"channel": "viber", "cc_data": {"phone": "+79000000000"}}, "hardbounced"),
        ({"channel": "notify", "cc_data": {"phone": "+79000000000"}}, 2),
    ],
    ids=["sms", "telegram_bot", "whatsapp", "viber", "notify"],
)
def test_set_takes_each_documented_channel(altcraft: AltcraftEmulator, identity: dict[str, Any], status: Any) -> None:
    # Given a known profile
    altcraft.add_profile(1, {"id": DOC_PROFILE_ID})
    body = {"token": ALTCRAFT_TOKEN, "db_id": 1, "profile_id": DOC_PROFILE_ID, "resource_id": 1, **identity}
    # When a subscription of the channel is set with a status word or number
    answer = call(altcraft, "/api/v1.1/subscriptions/set/", {**body, "status": status})
    # Then it is stored with the status as its word
    words = ["subscribed", "unsubscribed", "complained", "hardbounced", "unconfirmed", "suspended", "invalid"]
    assert answer == OK
    word = status if isinstance(status, str) else words[status]
    assert altcraft.subscriptions(1, DOC_PROFILE_ID) == [{"resource_id": 1, **identity, "status": word}]


@pytest.mark.parametrize(
    ("changes", "code", "text"),
    [
        *DATABASE_REFUSALS,
        ({"status": "paused"}, 400, "invalid subscription status"),
        ({"status": 7}, 400, "invalid subscription status"),
        ({"status": -1}, 400, "invalid subscription status"),
        ({"status": "5"}, 400, "invalid subscription status"),
        ({"profile_id": None}, 400, "profile_id is required"),
        ({"profile_id": None, "matching": "email"}, 400, "unknown parameters for subscriptions/set: matching"),
        ({"profile_id": 5}, 400, "profile_id is required"),
        ({"resource_id": None}, 400, "resource_id is required"),
        ({"resource_id": "3"}, 400, "resource_id is required"),
        ({"resource_id": 99}, 404, "resource 99 not found"),
        ({"profile_id": "60ae529b3f62fcdebdb159bb"}, 404, "profile not found"),
        ({"channel": None}, 400, "channel is required"),
        ({"channel": "fax"}, 400, "channel is required"),
        ({"email": None}, 400, "the email channel needs email"),
        ({"email": "not-an-address"}, 400, "not one valid e-mail address"),
        ({"phone": "+79000000000"}, 400, "phone: not an identity field of the email channel"),
        ({"channel": "sms"}, 400, "email: not an identity field of the sms channel"),
        ({"channel": "telegram_bot", "email": None, "cc_data": {"phone": "+7900"}}, 400, 'cc_data {"id": …}'),
        ({"channel": "whatsapp", "email": None, "cc_data": "+7900"}, 400, 'cc_data {"phone": …}'),
        ({"priority": "4"}, 400, "priority must be a non-negative integer"),
        ({"priority": -2}, 400, "priority must be a non-negative integer"),
        ({"custom_fields": ["_browser_name"]}, 400, "custom_fields must be an object"),
        ({"cats": "category_1"}, 400, "cats must be an array of strings"),
        ({"date": "22.08.2018"}, 400, "date must be an RFC 3339 date-time"),
        ({"date": "2018-08-22T00:00:00"}, 400, "date must be an RFC 3339 date-time"),
        ({"date": "2018-02-30T00:00:00Z"}, 400, "date must be an RFC 3339 date-time"),
        ({"ip": "10.250.13"}, 400, "ip must be an IP address"),
        ({"url": "example.com/"}, 400, "url must be an http(s) URL"),
        ({"skip_triggers": "true"}, 400, "skip_triggers must be a boolean"),
        ({"format": "xml"}, 400, "JSON only"),
        ({"is_delete": False}, 400, "unknown parameters for subscriptions/set: is_delete"),
    ],
)
def test_set_refusals(altcraft: AltcraftEmulator, changes: dict[str, Any], code: int, text: str) -> None:
    # Given the profile G-AC-SUB-SET-STATUS names
    altcraft.add_profile(20, {"id": "5a5b91d769d4265b958b9acb"})
    # When the case is posted with one change the page (or its strict reading) forbids
    answer = call(altcraft, AC_SUB_SET_STATUS.target, golden(AC_SUB_SET_STATUS, **changes))
    # Then it is refused with that code, and the profile has no subscription
    assert answer["error"] == code
    assert text in answer["error_text"]
    assert (altcraft.subscriptions(20, "5a5b91d769d4265b958b9acb"), altcraft.subscription_changes) == ([], [])


def test_set_push_without_subscription_id_is_refused(altcraft: AltcraftEmulator) -> None:
    # Given G-AC-SUB-SET-PUSH without subscription_id, its profile known
    altcraft.add_profile(1, {"id": DOC_PROFILE_ID})
    # When it is posted
    answer = call(altcraft, AC_SUB_SET_PUSH.target, golden(AC_SUB_SET_PUSH, subscription_id=None))
    # Then it is 400
    assert (answer["error"], "the push channel needs subscription_id" in answer["error_text"]) == (400, True)


def test_there_is_no_subscriptions_set_batch(altcraft: AltcraftEmulator) -> None:
    # Given a batch form no page documents
    # When it is posted
    answer = call(altcraft, "/api/v1.1/subscriptions/set_batch", golden(AC_SUB_SET_STATUS))
    # Then it is an unknown method
    assert answer["error"] == 404


# --- goals/register -------------------------------------------------------------------------------------------------
def test_goal_golden_case_registers_one_goal(altcraft: AltcraftEmulator) -> None:
    # Given the profile G-AC-GOAL-ONE names
    profile_id = altcraft.add_profile(1, {"email": "john@example.com"})
    # When the case is posted
    answer = call(altcraft, AC_GOAL_ONE.target, AC_GOAL_ONE.text)
    # Then the answer is the bare envelope, and one goal event is recorded, field by field
    assert answer == OK
    (event,) = altcraft.goals
    assert (event.db_id, event.pixel_id, event.profile_id) == (1, 1, profile_id)
    assert (event.goal, event.value) == ("card", -25.5)
    assert event.date == "2006-01-25T15:04:05+07:00"
    assert event.registered_at == datetime.fromisoformat("2006-01-25T15:04:05+07:00").timestamp()
    assert event.matched_by == {"matching": "email", "email": "john@example.com"}
    assert (event.origin, event.pixel_data, event.vendor) == ({}, None, None)
    assert (event.is_test, event.skip_triggers, event.enrich_profile) == (False, False, True)
    # And the profile itself is not changed
    assert altcraft.profiles(1) == [{"id": profile_id, "email": "john@example.com"}]


def test_goal_golden_case_with_goals_and_every_optional_field(altcraft: AltcraftEmulator) -> None:
    # Given the profile G-AC-GOAL-MANY names
    altcraft.add_profile(1, {"id": DOC_PROFILE_ID})
    # When the case is posted
    answer = call(altcraft, AC_GOAL_MANY.target, AC_GOAL_MANY.text)
    # Then one goal event holds every field sent; without a date it is registered at the request's time
    assert answer == OK
    (event,) = altcraft.goals
    assert (event.profile_id, event.goal, event.value, event.registered_at, event.date) == (
        DOC_PROFILE_ID,
        "card",
        10.0,
        NOW,
        None,
    )
    assert event.matched_by == {"matching": "profile_id", "profile_id": DOC_PROFILE_ID}
    assert (event.pixel_data, event.vendor) == ({"key": "value"}, "altcraft")
    assert (event.is_test, event.skip_triggers, event.enrich_profile) == (True, False, True)
    assert event.origin == {
        "referer": "api.example.com",
        "user_agent": "Mozilla/5.0 (Linux; Android 6.0.1; SM-G935S Build/MMB29K; wv)",
        "accept_language": "fr-CH, fr;q=0.9, en;q=0.8, de;q=0.7, *;q=0.5",
        "client_ip": "10.0.0.0",
    }


def test_a_resent_goal_is_counted_twice(altcraft: AltcraftEmulator) -> None:
    # Given G-AC-GOAL-ONE taken once
    profile_id = altcraft.add_profile(1, {"email": "john@example.com"})
    call(altcraft, AC_GOAL_ONE.target, AC_GOAL_ONE.text)
    # When it is sent again
    answer = call(altcraft, AC_GOAL_ONE.target, AC_GOAL_ONE.text)
    # Then the goal is registered a second time: nothing makes the call idempotent
    assert answer == OK
    assert [(event.profile_id, event.goal, event.value) for event in altcraft.goals] == [
        (profile_id, "card", -25.5)
    ] * 2


def test_goals_registers_one_event_per_item(altcraft: AltcraftEmulator) -> None:
    # Given a profile and three goals, one without a value, names with digits, Cyrillic and a currency symbol
    altcraft.add_profile(1, {"id": DOC_PROFILE_ID})
    goals = [{"goal": "ACMEProduct777_BUY_Label2", "value": 1}, {"goal": "Корзина €"}, {"goal": "card", "value": 0.5}]
    # When they are registered in one call
    answer = call(altcraft, AC_GOAL_MANY.target, golden(AC_GOAL_MANY, goals=goals))
    # Then there are three events, in order
    assert answer == OK
    assert [(event.goal, event.value) for event in altcraft.goals] == [
        ("ACMEProduct777_BUY_Label2", 1.0),
        ("Корзина €", None),
        ("card", 0.5),
    ]


def test_goal_email_profile_matching_searches_the_profile_field_only(altcraft: AltcraftEmulator) -> None:
    # Given a profile whose e-mail is only in a subscription, and one whose own field holds it
    sub = {"channel": "email", "email": "john@example.com", "resource_id": 1}
    altcraft.add_profile(1, {"subscriptions": [sub]})
    own = altcraft.add_profile(1, {"email": "john@example.com"})
    # When G-AC-GOAL-ONE is posted with email_profile
    answer = call(altcraft, AC_GOAL_ONE.target, golden(AC_GOAL_ONE, matching="email_profile"))
    # Then the goal goes to the profile whose field holds the e-mail
    assert answer == OK
    assert [event.profile_id for event in altcraft.goals] == [own]


def test_the_documented_pixel_data_array_is_taken_only_when_allowed(altcraft: AltcraftEmulator) -> None:
    # Given the table's pixel_data example, which holds an array the text forbids
    altcraft.add_profile(1, {"email": "john@example.com"})
    body = golden(AC_GOAL_ONE, pixel_data={"key": "value", "array": [1, 2, 3]})
    # When it is posted by default, then with arrays of plain values allowed
    refused = call(altcraft, AC_GOAL_ONE.target, body)
    altcraft.allow_scalar_arrays_in_pixel_data = True
    taken = call(altcraft, AC_GOAL_ONE.target, body)
    # Then the first is refused, the second taken with its pixel_data
    assert (refused["error"], "arrays are not allowed" in refused["error_text"]) == (400, True)
    assert taken == OK
    assert [event.pixel_data for event in altcraft.goals] == [{"key": "value", "array": [1, 2, 3]}]


@pytest.mark.parametrize(
    ("changes", "code", "text"),
    [
        *DATABASE_REFUSALS,
        ({"pixel_id": None}, 400, "pixel_id is required"),
        ({"pixel_id": "1"}, 400, "pixel_id is required"),
        ({"pixel_id": 2}, 404, "pixel 2 not found"),
        ({"goal": None, "value": None}, 400, "one of goal and goals is required"),
        ({"goals": [{"goal": "card"}]}, 400, "one of goal and goals is required, not both"),
        ({"goal": None, "goals": [{"goal": "card"}]}, 400, "value goes with goal"),
        ({"goal": None, "value": None, "goals": []}, 400, "goals must be a non-empty array"),
        ({"goal": None, "value": None, "goals": {"goal": "card"}}, 400, "goals must be a non-empty array"),
        ({"goal": None, "value": None, "goals": [{"name": "card"}]}, 400, "a goals item is"),
        ({"goal": None, "value": None, "goals": [{"goal": "card", "value": 1, "x": 1}]}, 400, "a goals item is"),
        ({"goal": None, "value": None, "goals": [{"goal": "card", "value": "10"}]}, 400, "value must be a number"),
        ({"goal": ""}, 400, "a goal name is a string of 1 to 128 characters"),
        ({"goal": "g" * 129}, 400, "a goal name is a string of 1 to 128 characters"),
        ({"goal": 5}, 400, "a goal name is a string"),
        ({"goal": "card<script>"}, 400, "'<' is not allowed"),
        ({"goal": "card~"}, 400, "'~' is not allowed"),
        ({"value": "-25.5"}, 400, "value must be a number"),
        ({"value": True}, 400, "value must be a number"),
        ({"date": "25.01.2006"}, 400, "date must be an RFC 3339 date-time"),
        ({"date": 1138176245}, 400, "date must be an RFC 3339 date-time"),
        ({"pixel_data": {"a": {"b": 1}}}, 400, "nested objects are not allowed"),
        ({"pixel_data": {"a": "x" * 1020}}, 400, "more than 1024"),
        ({"pixel_data": {"array": [1, 2, 3]}}, 400, "arrays are not allowed"),
        ({"pixel_data": ["key", "value"]}, 400, "pixel_data must be an object"),
        ({"is_test": "yes"}, 400, "is_test must be a boolean"),
        ({"enrich_profile": 1}, 400, "enrich_profile must be a boolean"),
        ({"skip_triggers": "false"}, 400, "skip_triggers must be a boolean"),
        ({"client_ip": "10.0.0"}, 400, "client_ip must be an IP address"),
        ({"referer": 5}, 400, "referer must be a string"),
        ({"vendor": ["altcraft"]}, 400, "vendor must be a string"),
        ({"matching": "phone_sub"}, 400, "matching must be one of email, email_profile, phone, profile_id, custom"),
        ({"matching": "push_sub"}, 400, "matching must be one of"),
        ({"email": None}, 400, "matching email requires email"),
        ({"phone": "+79000000000"}, 400, "phone: not a key of matching email"),
        ({"matching": "custom", "field_name": "CRM_ID"}, 400, "matching custom requires field_name, field_value"),
        ({"email": "nobody@example.com"}, 404, "profile not found"),
        ({"externa": "x"}, 400, "unknown parameters for goals/register: externa"),
        ({"data": {"_fname": "John"}}, 400, "unknown parameters for goals/register: data"),
        ({"format": "xml"}, 400, "JSON only"),
    ],
)
def test_goal_refusals(altcraft: AltcraftEmulator, changes: dict[str, Any], code: int, text: str) -> None:
    # Given the profile G-AC-GOAL-ONE names
    altcraft.add_profile(1, {"email": "john@example.com"})
    # When the case is posted with one change the page (or its strict reading) forbids
    answer = call(altcraft, AC_GOAL_ONE.target, golden(AC_GOAL_ONE, **changes))
    # Then it is refused with that code, and no goal is recorded
    assert answer["error"] == code
    assert text in answer["error_text"]
    assert altcraft.goals == []


def test_pixel_data_of_exactly_1_kb_is_taken(altcraft: AltcraftEmulator) -> None:
    # Given pixel_data whose compact UTF-8 JSON is exactly 1,024 bytes
    altcraft.add_profile(1, {"email": "john@example.com"})
    pixel_data = {"a": "x" * (1024 - len('{"a":""}'))}
    # When it is posted
    answer = call(altcraft, AC_GOAL_ONE.target, golden(AC_GOAL_ONE, pixel_data=pixel_data))
    # Then it is taken
    assert answer == OK


# --- what the state shows -------------------------------------------------------------------------------------------
def test_state_counts_each_methods_effects_and_reset_clears_them(altcraft: AltcraftEmulator) -> None:
    # Given one call of each method taken
    altcraft.add_profile(1, {"email": "example@example.com"})
    altcraft.add_profile(1, {"id": DOC_PROFILE_ID, "email": "john@example.com"})
    call(altcraft, AC_DEL_JSON.target, AC_DEL_JSON.text)
    call(altcraft, AC_SUB_SET_PUSH.target, AC_SUB_SET_PUSH.text)
    call(altcraft, AC_GOAL_ONE.target, AC_GOAL_ONE.text)
    call(altcraft, AC_WF_IAS.target, AC_WF_IAS.text)
    call(altcraft, AC_ADD_JSON.target, AC_ADD_JSON.text)
    # When the state is read over HTTP, then the emulator reset
    state = requests.get(altcraft.url + "/_emulator/state", timeout=10).json()
    altcraft.tokens_without_delete.add(ALTCRAFT_TOKEN)
    altcraft.reset()
    # Then it counted each effect; reset emptied every record and put the settings back
    assert (state["deleted"], state["subscriptions_set"], state["goals"]) == (1, 1, 1)
    assert (state["workflows_started"], state["profiles"]["1"]) == ({"1": 1}, 3)
    assert nothing_recorded(altcraft)
    assert altcraft.tokens_without_delete == set()
    assert (altcraft.workflows, altcraft.pixels) == ({1: 1, 5: 2}, {1})


def test_without_keep_nothing_is_recorded(altcraft: AltcraftEmulator) -> None:
    # Given an emulator that keeps counts only
    altcraft.keep = False
    # When a profile is added and a scenario started
    added = call(altcraft, AC_ADDB_JSON.target, AC_ADDB_JSON.text)
    started = call(altcraft, AC_WF_IAS.target, AC_WF_IAS.text)
    # Then both are answered, neither stored nor recorded
    assert (added["error"], started["error"]) == (0, 0)
    assert (altcraft.profiles(1), altcraft.enrolments) == ([], [])
    assert altcraft.accepted() == 2


def test_the_documented_workflow_resources_and_pixel_are_the_defaults() -> None:
    # Given an emulator built without workflows, resources or pixels
    emulator = AltcraftEmulator(tokens={"t": {5, 3}})
    # When and Then: workflow 1 imports into database 3; the pages' example resources and pixel exist
    assert emulator.workflows == {1: 3}
    assert (emulator.resources, emulator.pixels) == ({1, 3, 7, 24, 27}, {1})
