"""The golden cases of new-endpoints.md §C.2 for campaigns/triggers/import_and_start(_batch), byte for byte: records
→ the endpoint's preparer → its batches → the request body the client sends (§C.0: compact JSON, the key order
shown, UTF-8, no trailing newline). Each golden body is copied from the spec as printed; its Content-Length too."""

from __future__ import annotations

import json
import time
from typing import Any, cast

from courier.destinations.altcraft.batch import AltcraftBatch, single_body
from courier.destinations.altcraft.triggers import ALTCRAFT_IMPORT_TRIGGER as TRIGGER
from courier.destinations.values import compact_json
from courier.settings import Settings

TOKEN = "abcdefghijklmnqrstuvwxyz"  # the golden cases' token (§C.2 defaults)

G_AC_IAS_MIN = (
    b'{"token":"abcdefghijklmnqrstuvwxyz","trigger_id":13,"matching":"email","email":"john@example.com",'
    b'"data":{"_fname":"John","_lname":"Doe"}}'
)
G_AC_IAS_FULL = (
    b'{"token":"abcdefghijklmnqrstuvwxyz","trigger_id":13,"matching":"email","email":"john@example.com",'
    b'"resource_id":24,"data":{"_fname":"John","_lname":"Doe"},"skip_triggers":true,'
    b'"skip_invalid_subscriptions":true,"detect_geo":true,"timeout":{"days":0,"hours":0,"minutes":5},'
    b'"custom_data":{"sending_time":"12:31:12"},"content":{"page":"registration_form"},'
    b'"attach":[{"data":"data:text/csv;base64,SEVMTE8K","name":"Attach.txt"}]}'
)
G_AC_IAS_CUSTOM = (
    b'{"token":"abcdefghijklmnqrstuvwxyz","trigger_id":13,"matching":"custom","field_name":"CRM_ID",'
    b'"field_value":"123420","data":{"_fname":"John","_lname":"Doe"}}'
)
G_AC_IASB = (
    b'{"token":"abcdefghijklmnqrstuvwxyz","trigger_id":13,"matching":"email","data":[{"data":{"_fname":"John",'
    b'"_lname":"Lambert","email":"profile4@example.com","phones":"+790000000000"}},{"data":{"_fname":"Tom",'
    b'"_lname":"Hard","email":"profile3@example.com","phones":"+790000000001"}}]}'
)
G_AC_IASB_KEYS = (
    b'{"token":"abcdefghijklmnqrstuvwxyz","trigger_id":13,"matching":"email","data":[{"email":"profile4@example.com",'
    b'"data":{"_fname":"John","_lname":"Lambert","email":"profile4@example.com","phones":"+790000000000"}},'
    b'{"email":"profile3@example.com","data":{"_fname":"Tom","_lname":"Hard","email":"profile3@example.com",'
    b'"phones":"+790000000001"}}]}'
)
# The documented `data` array of import_and_start_batch (§B.3), as records of the endpoint
DOCUMENTED_ITEMS = [
    {"_fname": "John", "_lname": "Lambert", "email": "profile4@example.com", "phones": "+790000000000"},
    {"_fname": "Tom", "_lname": "Hard", "email": "profile3@example.com", "phones": "+790000000001"},
]


def batches(records: list[dict[str, Any]]) -> list[AltcraftBatch]:
    """What the driver does with prepared records: one batch per batch key, in the records' order."""
    prepare = TRIGGER.make_preparer(Settings(), time.time())
    open_batches: dict[str, AltcraftBatch] = {}
    for index, record in enumerate(records):
        fields, errors = prepare(record)
        assert errors == []
        assert fields is not None
        key = TRIGGER.batch_key(fields)
        batch = open_batches.setdefault(key, cast(AltcraftBatch, TRIGGER.new_batch(key)))
        batch.add(fields, index, record)
    return list(open_batches.values())


def request_body(records: list[dict[str, Any]]) -> bytes:
    """The body the client sends for records that make one request (client.py: one record → the single path)."""
    [batch] = batches(records)
    return single_body(batch.bodies[0], TOKEN) if batch.single else batch.batch_body(TOKEN)


def test_g_ac_ias_min() -> None:
    # Given a minimal record: the trigger, the profile's e-mail and two fields
    record = {"trigger_id": 13, "email": "john@example.com", "data": {"_fname": "John", "_lname": "Doe"}}
    # When it is prepared, batched and put in a request
    body = request_body([record])
    # Then the body is G-AC-IAS-MIN byte for byte (matching email said, though it is the default), 138 bytes long
    assert body == G_AC_IAS_MIN
    assert len(body) == 138


def test_g_ac_ias_full_with_attach_given_as_the_documented_bare_object() -> None:
    # Given every documented parameter with its documented example value; `attach` as the page shows it: one object
    record = {
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
    }
    # When it is put in a request
    body = request_body([record])
    # Then the body is G-AC-IAS-FULL byte for byte: attach became an array (the type column), 424 bytes
    assert body == G_AC_IAS_FULL
    assert len(body) == 424


def test_g_ac_ias_full_from_a_record_in_another_key_order_and_attach_as_an_array() -> None:
    # Given the same parameters, listed in reverse and with attach already an array
    record = {
        "attach": [{"name": "Attach.txt", "data": "data:text/csv;base64,SEVMTE8K"}],
        "content": {"page": "registration_form"},
        "custom_data": {"sending_time": "12:31:12"},
        "timeout": {"minutes": 5, "hours": 0, "days": 0},
        "detect_geo": True,
        "skip_invalid_subscriptions": True,
        "skip_triggers": True,
        "data": {"_fname": "John", "_lname": "Doe"},
        "resource_id": 24,
        "email": "john@example.com",
        "matching": "email",
        "trigger_id": 13,
    }
    # Then the body still has the golden order, to the byte
    assert request_body([record]) == G_AC_IAS_FULL


def test_g_ac_ias_full_from_a_csv_row() -> None:
    # Given the FULL case as a CSV row: every value text, the objects as JSON text, the fields as columns
    row = {
        "trigger_id": "13",
        "matching": "email",
        "email": "john@example.com",
        "resource_id": "24",
        "_fname": "John",
        "_lname": "Doe",
        "skip_triggers": "true",
        "skip_invalid_subscriptions": "true",
        "detect_geo": "true",
        "timeout": '{"days": 0, "hours": 0, "minutes": 5}',
        "custom_data": '{"sending_time": "12:31:12"}',
        "content": '{"page": "registration_form"}',
        "attach": '[{"data": "data:text/csv;base64,SEVMTE8K", "name": "Attach.txt"}]',
    }
    # When it is put in a request
    body = json.loads(request_body([row]))
    golden = json.loads(G_AC_IAS_FULL)
    # Then every parameter is G-AC-IAS-FULL's, typed as there; data also carries the e-mail, as a flat row's email
    # column is both the key and a profile field (as for profiles/import; inference: the same holds here)
    assert body["data"] == {"email": "john@example.com", "_fname": "John", "_lname": "Doe"}
    assert {k: v for k, v in body.items() if k != "data"} == {k: v for k, v in golden.items() if k != "data"}


def test_g_ac_ias_custom() -> None:
    # Given custom-field matching with the documented text value "123420"
    record = {
        "trigger_id": 13,
        "matching": "custom",
        "field_name": "CRM_ID",
        "field_value": "123420",
        "data": {"_fname": "John", "_lname": "Doe"},
    }
    # Then the body is G-AC-IAS-CUSTOM byte for byte: the value stays text, 157 bytes
    body = request_body([record])
    assert body == G_AC_IAS_CUSTOM
    assert len(body) == 157


def test_g_ac_iasb_keys_is_what_the_client_sends_for_the_documented_data_array() -> None:
    # Given the documented batch `data` array as two records of trigger 13, matched by e-mail (the default)
    records = [{"trigger_id": 13, "data": dict(item)} for item in DOCUMENTED_ITEMS]
    # When they are prepared and batched
    [batch] = batches(records)
    # Then they share one batch request, and its body is G-AC-IASB-KEYS byte for byte (342 bytes): each item says
    # its e-mail at item level and keeps it in data; phones stays text, as in the documented example
    assert (batch.single, batch.rows) == (False, 2)
    body = batch.batch_body(TOKEN)
    assert body == G_AC_IASB_KEYS
    assert len(body) == 342


def test_g_ac_iasb_is_the_client_body_without_its_item_level_keys() -> None:
    # Given the client's body for the documented data array
    records = [{"trigger_id": 13, "data": dict(item)} for item in DOCUMENTED_ITEMS]
    [batch] = batches(records)
    sent = json.loads(batch.batch_body(TOKEN))
    # When the item-level keys the client adds (§B.3 [I]: "a safe client puts the matching key at item level") are
    # taken out again
    sent["data"] = [{"data": item["data"]} for item in sent["data"]]
    # Then what remains is G-AC-IASB byte for byte (280 bytes): the documented data array, verbatim
    assert compact_json(sent).encode() == G_AC_IASB
    assert len(G_AC_IASB) == 280
