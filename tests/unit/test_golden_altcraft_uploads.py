"""The golden cases of the Altcraft upload methods (tests/golden_cases.py), through Courier's client side: the case's
body, less its token, is the record; it goes through the endpoint's preparer and batches into the request body the
client sends. Compact cases are compared byte for byte; the pages' printed (indented) examples as parsed JSON, keys
in the printed order."""

from __future__ import annotations

import json
import time
from typing import Any, cast

import pytest

from courier.destinations.altcraft.batch import AltcraftBatch, single_body
from courier.destinations.altcraft.uploads import (
    ALTCRAFT_GOAL_REGISTER,
    ALTCRAFT_PROFILE_ADD,
    ALTCRAFT_PROFILE_DELETE,
    ALTCRAFT_SUBSCRIPTION_SET,
    ALTCRAFT_WORKFLOW_START,
)
from courier.model import Destination
from courier.settings import Settings
from tests.golden_cases import (
    AC_ADD_JSON,
    AC_ADDB_JSON,
    AC_DEL_CUSTOM,
    AC_DEL_JSON,
    AC_DEL_JSON_SLASH,
    AC_GOAL_MANY,
    AC_GOAL_ONE,
    AC_SUB_SET_PUSH,
    AC_SUB_SET_STATUS,
    AC_WF_IAS,
    GoldenRequest,
)


def the_request(destination: Destination, case: GoldenRequest, records: list[dict[str, Any]]) -> tuple[str, bytes]:
    """(the path, the body) the client sends for records that make one request."""
    token = json.loads(case.text)["token"]
    prepare = destination.make_preparer(Settings(), time.time())
    batch: AltcraftBatch | None = None
    for index, record in enumerate(records):
        fields, errors = prepare(record)
        assert errors == [], errors
        assert isinstance(fields, dict)  # a dict record gives a dict
        key = destination.batch_key(fields)
        batch = batch or cast(AltcraftBatch, destination.new_batch(key))
        assert batch.key == key  # one request
        batch.add(fields, index, record)
    assert batch is not None
    method = batch.method
    if batch.single:
        return "/api/v1.1/" + method.single_path, single_body(batch.bodies[0], token)
    return "/api/v1.1/" + method.batch_path, batch.batch_body(token)


def record_of(case: GoldenRequest) -> dict[str, Any]:
    body: dict[str, Any] = json.loads(case.text)
    body.pop("token")
    return body


COMPACT = [
    (ALTCRAFT_PROFILE_ADD, AC_ADD_JSON),
    (ALTCRAFT_WORKFLOW_START, AC_WF_IAS),
    (ALTCRAFT_PROFILE_DELETE, AC_DEL_CUSTOM),
    (ALTCRAFT_GOAL_REGISTER, AC_GOAL_ONE),
    (ALTCRAFT_GOAL_REGISTER, AC_GOAL_MANY),
]


@pytest.mark.parametrize(("destination", "case"), COMPACT, ids=[c.case_id for _, c in COMPACT])
def test_a_compact_case_is_sent_byte_for_byte(destination: Destination, case: GoldenRequest) -> None:
    # Given the case's body, less its token, as the record
    record = record_of(case)
    # When it is prepared and put in a request
    path, body = the_request(destination, case, [record])
    # Then the request goes to the case's path, its body is the case's byte for byte, as long as the case says
    assert path == case.target
    assert body == case.body
    assert len(body) == case.content_length


def test_the_add_batch_case_is_one_add_batch_request_byte_for_byte() -> None:
    # Given the add_batch page's example: one profile in `data`, skip_triggers at the root; and a second profile
    (item,) = json.loads(AC_ADDB_JSON.text)["data"]
    records = [
        {"db_id": 1, "skip_triggers": True, "data": item},
        {"db_id": 1, "skip_triggers": True, "data": {"_fname": "Two"}},
    ]
    # When the first is sent alone, and both together
    _, alone = the_request(ALTCRAFT_PROFILE_ADD, AC_ADDB_JSON, records[:1])
    path, both = the_request(ALTCRAFT_PROFILE_ADD, AC_ADDB_JSON, records)
    # Then together they make the documented add_batch body (the page's trailing slash kept), its items in order;
    # alone the first goes to profiles/add with the same fields
    assert path == AC_ADDB_JSON.target
    expected = json.loads(AC_ADDB_JSON.text)
    expected["data"].append({"_fname": "Two"})
    assert both == json.dumps(expected, separators=(",", ":")).encode()
    assert json.loads(alone) == {"token": expected["token"], "db_id": 1, "data": item, "skip_triggers": True}


PRINTED = [
    (ALTCRAFT_PROFILE_DELETE, AC_DEL_JSON),
    (ALTCRAFT_PROFILE_DELETE, AC_DEL_JSON_SLASH),
    (ALTCRAFT_SUBSCRIPTION_SET, AC_SUB_SET_STATUS),
]


@pytest.mark.parametrize(("destination", "case"), PRINTED, ids=[c.case_id for _, c in PRINTED])
def test_a_printed_example_is_sent_with_its_values_and_the_pages_key_order(
    destination: Destination, case: GoldenRequest
) -> None:
    # Given a page's printed example, less its token, as the record
    record = record_of(case)
    # When it is prepared and put in a request
    path, body = the_request(destination, case, [record])
    sent, printed = json.loads(body), json.loads(case.text)
    # Then it goes to the page's path with the printed values; the keys in the first copy's order (the token first)
    assert path == case.target
    assert sent == printed
    if case is not AC_DEL_JSON_SLASH:  # the other copy lists the same keys in another order
        assert list(sent) == list(printed)


def test_the_assembled_push_subscription_is_sent_with_every_value_in_the_documented_examples_order() -> None:
    # Given the assembled push case (every optional field; its key order assumed by whoever assembled it)
    record = record_of(AC_SUB_SET_PUSH)
    # When it is prepared and put in a request
    path, body = the_request(ALTCRAFT_SUBSCRIPTION_SET, AC_SUB_SET_PUSH, [record])
    sent = json.loads(body)
    # Then every value is the case's, and the keys follow the documented example's order: sorted, after the token
    assert path == AC_SUB_SET_PUSH.target
    assert sent == json.loads(AC_SUB_SET_PUSH.text)
    assert list(sent) == ["token", *sorted(record)]


@pytest.mark.parametrize("cc_data", ['{"id": NaN}', '{"id": 1e400}', '{"id": Infinity}'])
def test_a_subscription_whose_cc_data_is_not_json_is_refused_with_a_reason(cc_data: str) -> None:
    # Given the push subscription case, its cc_data as CSV text that json.loads would read but JSON does not allow
    record = {**record_of(AC_SUB_SET_PUSH), "cc_data": cc_data}
    # When subscriptions/set's preparer takes it
    fields, errors = ALTCRAFT_SUBSCRIPTION_SET.make_preparer(Settings(), time.time())(record)
    # Then it is refused, saying which field
    assert fields is None
    assert errors == ["cc_data: is not valid JSON"]
