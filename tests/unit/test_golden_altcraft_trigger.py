"""The golden cases of docs/contracts/index.md#golden-cases for campaigns/triggers/import_and_start(_batch), byte for
byte: records
→ the endpoint's preparer → its batches → the request body the client sends (docs/contracts/index.md#golden-cases:
compact JSON, the key order
shown, UTF-8, no trailing newline). The cases (their input records, bodies and Content-Length, copied from the spec
as printed) come from tests/golden_cases.py."""

from __future__ import annotations

import json
import time
from collections.abc import Mapping, Sequence
from typing import Any, cast

import pytest

from courier.destinations.altcraft.batch import AltcraftBatch, single_body
from courier.destinations.altcraft.triggers import ALTCRAFT_IMPORT_TRIGGER as TRIGGER
from courier.destinations.values import compact_json
from courier.settings import Settings
from tests.golden_cases import (
    AC_IAS_CUSTOM,
    AC_IAS_FULL,
    AC_IAS_MIN,
    AC_IASB,
    AC_IASB_KEYS,
    ALTCRAFT_TOKEN,
    GoldenRequest,
    case_id,
)


def batches(records: Sequence[Mapping[str, Any]]) -> list[AltcraftBatch]:
    """What the driver does with prepared records: one batch per batch key, in the records' order."""
    prepare = TRIGGER.make_preparer(Settings(), time.time())
    open_batches: dict[str, AltcraftBatch] = {}
    for index, record in enumerate(records):
        fields, errors = prepare(record)
        assert errors == []
        assert isinstance(fields, dict)  # a dict record gives a dict
        key = TRIGGER.batch_key(fields)
        batch = open_batches.setdefault(key, cast(AltcraftBatch, TRIGGER.new_batch(key)))
        batch.add(fields, index, record)
    return list(open_batches.values())


def request_body(records: Sequence[Mapping[str, Any]]) -> bytes:
    """The body the client sends for records that make one request (client.py: one record → the single path)."""
    [batch] = batches(records)
    return single_body(batch.bodies[0], ALTCRAFT_TOKEN) if batch.single else batch.batch_body(ALTCRAFT_TOKEN)


@pytest.mark.parametrize("case", [AC_IAS_MIN, AC_IAS_FULL, AC_IAS_CUSTOM], ids=case_id)
def test_the_single_cases_body_is_the_specs_byte_for_byte(case: GoldenRequest) -> None:
    # Given the case's record: MIN a trigger, an e-mail and two fields; FULL every documented parameter, attach given
    # as the documented bare object; CUSTOM custom-field matching with the documented text value "123420"
    (record,) = case.records
    # When it is prepared, batched and put in a request
    body = request_body([record])
    # Then the body is the case's byte for byte, and as long as the spec says: MIN says matching email though it is
    # the default, FULL's attach became an array (the type column), CUSTOM's value stays text
    assert body == case.body
    assert len(body) == case.content_length


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
    assert request_body([record]) == AC_IAS_FULL.body


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
    golden = json.loads(AC_IAS_FULL.body)
    # Then every parameter is G-AC-IAS-FULL's, typed as there; data also carries the e-mail, as a flat row's email
    # column is both the key and a profile field (as for profiles/import; inference: the same holds here)
    assert body["data"] == {"email": "john@example.com", "_fname": "John", "_lname": "Doe"}
    assert {k: v for k, v in body.items() if k != "data"} == {k: v for k, v in golden.items() if k != "data"}


def test_g_ac_iasb_keys_is_what_the_client_sends_for_the_documented_data_array() -> None:
    # Given the documented batch `data` array as two records of trigger 13, matched by e-mail (the default)
    # When they are prepared and batched
    [batch] = batches(AC_IASB_KEYS.records)
    # Then they share one batch request, and its body is G-AC-IASB-KEYS byte for byte (342 bytes): each item says
    # its e-mail at item level and keeps it in data; phones stays text, as in the documented example
    assert (batch.single, batch.rows) == (False, 2)
    body = batch.batch_body(ALTCRAFT_TOKEN)
    assert body == AC_IASB_KEYS.body
    assert len(body) == AC_IASB_KEYS.content_length


def test_g_ac_iasb_is_the_client_body_without_its_item_level_keys() -> None:
    # Given the client's body for the documented data array
    [batch] = batches(AC_IASB_KEYS.records)
    sent = json.loads(batch.batch_body(ALTCRAFT_TOKEN))
    # When the item-level keys the client adds (docs/contracts/altcraft.md#trigger-batch [I]: "a safe client puts the
    # matching key at item level") are
    # taken out again
    sent["data"] = [{"data": item["data"]} for item in sent["data"]]
    # Then what remains is G-AC-IASB byte for byte (280 bytes): the documented data array, verbatim
    assert compact_json(sent).encode() == AC_IASB.body
    assert len(AC_IASB.body) == AC_IASB.content_length
