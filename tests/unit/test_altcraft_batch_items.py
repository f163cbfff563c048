"""Altcraft profile batches only where the documentation carries them (issue 15): a batch item is the profile's own
data, its matching key one of the profile's own fields, nothing else; a record the batch cannot say goes alone to
profiles/import or profiles/update. A batch answer whose `result` does not map one-to-one onto its items ends with
every record delivered once or refused with a reason. Subscription status / priority -1 is accepted.

The server is a stub on 127.0.0.1 written from the documentation's answer shapes (docs/contracts/altcraft.md#answers,
docs/contracts/altcraft.md#batches):
a single request answers {"error": 0, "error_text", "profile_id"}, a batch {"error": 0, "result": [one per item]}.
It checks nothing, so what a test sees is what the client sent and how it read the answer."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from courier.delivery.driver import Budget, Delivery
from courier.delivery.ledger import MemoryLedger
from courier.destinations.altcraft.batch import SINGLE, AltcraftBatch, batch_key
from courier.destinations.altcraft.client import AltcraftSender
from courier.destinations.altcraft.methods import (
    IMPORT,
    IMPORT_AND_START,
    PROFILE_BATCHES,
    ROOT,
    UPDATE,
    Method,
    batch_place,
)
from courier.destinations.altcraft.profiles import ALTCRAFT_PROFILE_UPDATE
from courier.destinations.altcraft.records import make_altcraft_preparer
from courier.model import SendResult, Status
from courier.settings import Settings
from courier.sources.records import RecordsSource, as_rows
from sandbox.http_emulator import Handled, HttpEmulator

TOKEN = "stub-token"
OK = "Successful operation"
PATHS = {
    (IMPORT, False): "/api/v1.1/profiles/import_batch",
    (IMPORT, True): "/api/v1.1/profiles/import",
    (UPDATE, False): "/api/v1.1/profiles/update_batch",
    (UPDATE, True): "/api/v1.1/profiles/update",
}
Shape = Callable[[list[dict[str, Any]], list[dict[str, Any]]], list[Any]]


def documented(items: list[dict[str, Any]], results: list[dict[str, Any]]) -> list[Any]:
    return results


class Stub(HttpEmulator):
    """Answers every request with success in the documented shape; a batch's `result` goes through `shape`
    (items, results) → result, so a test can make it short or reordered. Profile ids are p0, p1, … in arrival
    order of the profiles, so a test can tell which answer went to which record."""

    def __init__(self) -> None:
        super().__init__()
        self.shape: Shape = documented
        self.made = 0

    def _id(self) -> str:
        self.made += 1
        return f"p{self.made - 1}"

    def handle(self, path: str, query: dict[str, str], headers: dict[str, str], body: bytes) -> Handled:
        request = json.loads(body)
        if not path.endswith("_batch"):
            return 200, {}, {"error": 0, "error_text": OK, "profile_id": self._id()}, 1, 1
        items = request["data"]
        results = [{"error": 0, "error_text": OK, "profile_id": self._id()} for _ in items]
        return 200, {}, {"error": 0, "error_text": OK, "result": self.shape(items, results)}, len(items), len(items)

    def clear(self) -> None:
        self.shape = documented
        self.made = 0

    def state(self) -> dict[str, Any]:
        return {}


@pytest.fixture(scope="module")
def _stub() -> Iterator[Stub]:
    stub = Stub().start()
    yield stub
    stub.stop()


@pytest.fixture
def stub(_stub: Stub) -> Stub:
    _stub.reset()
    return _stub


def settings(stub: Stub | None = None) -> Settings:
    return Settings(
        ALTCRAFT_API_URL=stub.url if stub else "https://example.com",
        ALTCRAFT_API_TOKEN=TOKEN,
        ALTCRAFT_DB_ID="1",
        ALTCRAFT_MAX_RPS=1000,
        COURIER_RETRY_BASE_SECONDS=0,
    )


def prepared(method: Method, record: dict[str, Any]) -> dict[str, Any]:
    body, errors = make_altcraft_preparer(method)(settings(), time.time())(record)
    assert errors == []
    assert body is not None
    return body


def batch_of(method: Method, records: list[dict[str, Any]]) -> AltcraftBatch:
    """The records as the driver groups them: one batch per batch key (these tests give records sharing one)."""
    bodies = [prepared(method, record) for record in records]
    [key] = {batch_key(method, body) for body in bodies}
    batch = AltcraftBatch(key, method)
    for index, (body, record) in enumerate(zip(bodies, records, strict=True)):
        batch.add(body, index, record)
    return batch


def send(stub: Stub, method: Method, records: list[dict[str, Any]]) -> tuple[AltcraftSender, SendResult]:
    client = AltcraftSender(settings(stub), method)
    return client, client.send(batch_of(method, records), time.time() + 30)


def sent(stub: Stub) -> list[tuple[str, dict[str, Any]]]:
    return [(request.path, json.loads(request.body)) for request in stub.requests]


# --- every matching mode: which endpoint a record takes, and the exact body -----------------------------------------

A, B = "a@example.com", "b@example.com"
P1, P2, P3 = "+79000000001", "+79000000002", "+79000000003"

# (method, matching mode, two records, alone?, the items of the batch request or the bodies of the single requests)
CASES: list[tuple[Method, str, list[dict[str, Any]], bool, list[dict[str, Any]]]] = [
    (
        IMPORT,
        "email",
        [{"email": A, "data": {"_fname": "A"}}, {"email": B, "data": {"email": B, "_fname": "B"}}],
        False,
        [{"_fname": "A", "email": A}, {"email": B, "_fname": "B"}],
    ),
    (
        UPDATE,
        "email_profile",
        [{"matching": "email_profile", "email": A, "data": {"_fname": "A"}}] * 2,
        False,
        [{"_fname": "A", "email": A}] * 2,
    ),
    (
        IMPORT,
        "email_sub",
        [{"matching": "email_sub", "email": A, "data": {"_fname": "A"}}],
        True,
        [{"db_id": 1, "matching": "email_sub", "email": A, "data": {"_fname": "A"}}],
    ),
    (
        IMPORT,
        "phone",
        [
            {"matching": "phone", "data": {"phones": [P1, P2]}},
            {"matching": "phone", "phone": P3, "data": {"phones": P3}},
        ],
        False,
        [{"phones": [P1, P2]}, {"phones": [P3]}],
    ),
    (
        UPDATE,
        "phone (a number that is not the first of data.phones)",
        [{"matching": "phone", "phone": P2, "data": {"phones": [P1, P2]}}],
        True,
        [{"db_id": 1, "matching": "phone", "phone": P2, "data": {"phones": [P1, P2]}}],
    ),
    (
        UPDATE,
        "phone (the number only as a key)",
        [{"matching": "phone", "phone": P1, "data": {"_fname": "P"}}],
        True,
        [{"db_id": 1, "matching": "phone", "phone": P1, "data": {"_fname": "P"}}],
    ),
    (
        IMPORT,
        "phone_sub",
        [{"matching": "phone_sub", "phone": P1, "data": {"_fname": "P"}}],
        True,
        [{"db_id": 1, "matching": "phone_sub", "phone": P1, "data": {"_fname": "P"}}],
    ),
    (
        UPDATE,
        "profile_id",
        [{"profile_id": "5f4fa1a5ce9448665fef548e", "data": {"_fname": "I"}}],
        True,
        [{"db_id": 1, "matching": "profile_id", "profile_id": "5f4fa1a5ce9448665fef548e", "data": {"_fname": "I"}}],
    ),
    (
        IMPORT,
        "push_sub",
        [{"matching": "push_sub", "provider": "android-firebase", "subscription_id": "tok", "data": {"_fname": "D"}}],
        True,
        [
            {
                "db_id": 1,
                "matching": "push_sub",
                "provider": "android-firebase",
                "subscription_id": "tok",
                "data": {"_fname": "D"},
            }
        ],
    ),
    (
        IMPORT,
        "custom",
        [
            {"matching": "custom", "field_name": "CRM_ID", "field_value": "123420", "data": {"_fname": "C"}},
            {"matching": "custom", "field_name": "CRM_ID", "data": {"CRM_ID": 7, "_fname": "D"}},
        ],
        False,
        [{"_fname": "C", "CRM_ID": "123420"}, {"CRM_ID": 7, "_fname": "D"}],
    ),
    (
        UPDATE,
        "custom (data holding only functions)",
        [{"matching": "custom", "field_name": "CRM_ID", "field_value": "1", "data": {"tier": {"action": "unset"}}}] * 2,
        False,
        [{"tier": {"action": "unset"}, "CRM_ID": "1"}] * 2,
    ),
    (
        UPDATE,
        "custom (its field changed by a function)",
        [
            {
                "matching": "custom",
                "field_name": "CRM_ID",
                "field_value": "1",
                "data": {"CRM_ID": {"action": "set", "value": "2"}},
            }
        ],
        True,
        [
            {
                "db_id": 1,
                "matching": "custom",
                "field_name": "CRM_ID",
                "field_value": "1",
                "data": {"CRM_ID": {"action": "set", "value": "2"}},
            }
        ],
    ),
    (
        IMPORT,
        "custom_sub",
        [{"matching": "custom_sub", "field_name": "chan", "field_value": "x1", "data": {"_fname": "S"}}],
        True,
        [{"db_id": 1, "matching": "custom_sub", "field_name": "chan", "field_value": "x1", "data": {"_fname": "S"}}],
    ),
    (
        IMPORT,
        "email_phone",
        [
            {"matching": "email_phone", "data": {"email": A, "phones": [P1]}},
            {"matching": "email_phone", "email": B, "data": {"_fname": "B"}},
        ],
        False,
        [{"email": A, "phones": [P1]}, {"_fname": "B", "email": B}],
    ),
    (
        IMPORT,
        "email_phone_sub",
        [{"matching": "email_phone_sub", "phone": P1, "data": {"_fname": "S"}}],
        True,
        [{"db_id": 1, "matching": "email_phone_sub", "phone": P1, "data": {"_fname": "S"}}],
    ),
    (
        IMPORT,
        "email (a lookup address that differs from data.email)",
        [{"email": A, "data": {"email": B}}],
        True,
        [{"db_id": 1, "matching": "email", "email": A, "data": {"email": B}}],
    ),
]


@pytest.mark.parametrize(("method", "mode", "records", "alone", "expected"), CASES, ids=[c[1] for c in CASES])
def test_each_matching_mode_takes_the_documented_endpoint_with_the_exact_body(
    stub: Stub,
    method: Method,
    mode: str,
    records: list[dict[str, Any]],
    alone: bool,
    expected: list[dict[str, Any]],
) -> None:
    # Given two records of one matching mode (a lone record would take the single path anyway)
    if len(records) == 1:
        records, expected = records * 2, expected * 2
    # When the sender sends them
    _, result = send(stub, method, records)
    # Then they took the batch endpoint, each item only the profile's data with its key as one of its own fields,
    # or each went alone, its keys the documented top-level parameters
    if alone:
        assert batch_key(method, prepared(method, records[0])) == SINGLE
        assert sent(stub) == [(PATHS[method, True], {"token": TOKEN, **body}) for body in expected]
    else:
        head = prepared(method, records[0])
        root = {name: head[name] for name in method.batch_params if name in head}
        assert sent(stub) == [(PATHS[method, False], {"token": TOKEN, **root, "data": expected})]
    # And every record is delivered once
    assert result.items is not None
    assert [item.status for item in result.items] == [Status.DELIVERED] * len(records)


def test_no_profile_batch_item_carries_a_key_that_is_not_a_profile_field(stub: Stub) -> None:
    # Given every batchable case
    for method, _, records, alone, _ in CASES:
        if alone:
            continue
        stub.reset()
        send(stub, method, records)
        [(_, body)] = sent(stub)
        # Then no item carries Courier's former per-item keys
        for item in body["data"]:
            assert not {"phone", "profile_id", "field_value", "provider", "subscription_id"} & set(item)


@pytest.mark.parametrize(
    ("option", "value"),
    [("skip_triggers", True), ("detect_geo", True), ("resource_id", 3)],
)
def test_options_update_batch_does_not_list_go_alone_but_import_batch_carries_them(
    stub: Stub, option: str, value: Any
) -> None:
    records = [{"email": email, option: value, "data": {"_fname": "X"}} for email in (A, B)]
    # Given the same two records with an option import_batch's page lists and update_batch's does not
    # When they are sent as an import, then as an update
    send(stub, IMPORT, records)
    send(stub, UPDATE, records)
    # Then the import is one batch with the option at its root; the update goes one record a request
    assert sent(stub) == [
        (
            PATHS[IMPORT, False],
            {
                "token": TOKEN,
                "db_id": 1,
                "matching": "email",
                option: value,
                "data": [{"_fname": "X", "email": A}, {"_fname": "X", "email": B}],
            },
        ),
        *(
            (
                PATHS[UPDATE, True],
                {
                    "token": TOKEN,
                    "db_id": 1,
                    "matching": "email",
                    "email": email,
                    option: value,
                    "data": {"_fname": "X"},
                },
            )
            for email in (A, B)
        ),
    ]


def test_the_table_names_a_page_for_every_row_and_only_known_places() -> None:
    # Given the one table of what the profile batches carry
    # Then every row says where it comes from, and places are the root, a profile field, or nothing
    for row, (on_import, on_update, source) in PROFILE_BATCHES.items():
        assert source, row
        for place in (on_import, on_update):
            assert place in (None, ROOT, "email", "phones", "email|phones", "<field_name>"), row
    # And the methods' batch-level parameters are read from it
    assert all(batch_place(IMPORT, name) == ROOT for name in IMPORT.batch_params)
    assert all(batch_place(UPDATE, name) == ROOT for name in UPDATE.batch_params)
    assert batch_key(UPDATE, prepared(UPDATE, {"email": A, "skip_triggers": True, "data": {}})) == SINGLE


# --- a batch answer that does not map one-to-one -------------------------------------------------------------------


def shorter(items: list[dict[str, Any]], results: list[dict[str, Any]]) -> list[Any]:
    return results[:-1]


def reversed_with_keys(items: list[dict[str, Any]], results: list[dict[str, Any]]) -> list[Any]:
    keyed = [{**result, "email": item.get("email")} for item, result in zip(items, results, strict=True)]
    return keyed[::-1]


def test_a_short_result_sends_plain_records_again_alone_each_delivered_once(stub: Stub) -> None:
    # Given an answer whose result is one short (without keys: no result can be tied to a record)
    stub.shape = shorter
    client, result = send(stub, IMPORT, [{"email": e, "data": {"_fname": "X"}} for e in (A, B)])
    # Then both plain records went again alone, and each has the answer of its own single request
    assert [path for path, _ in sent(stub)] == [PATHS[IMPORT, False], PATHS[IMPORT, True], PATHS[IMPORT, True]]
    assert [body["email"] for _, body in sent(stub)[1:]] == [A, B]
    assert result.items is not None
    assert [(i.status, i.destination_id) for i in result.items] == [(Status.DELIVERED, "p2"), (Status.DELIVERED, "p3")]
    assert result.requests == 3
    # And the sender's later batches go one profile a request
    assert client.one_by_one


def test_a_short_result_never_resends_an_increment(stub: Stub) -> None:
    # Given an update batch of a plain record and an increment, answered one result short
    stub.shape = shorter
    records = [
        {"email": A, "data": {"_fname": "X"}},
        {"email": B, "data": {"loyalty": {"action": "incr", "value": 5}}},
    ]
    _, result = send(stub, UPDATE, records)
    # Then only the plain record went again; the increment is refused with the lost-answer reason
    assert [(path, body.get("email")) for path, body in sent(stub)] == [
        (PATHS[UPDATE, False], None),
        (PATHS[UPDATE, True], A),
    ]
    assert result.items is not None
    assert [i.status for i in result.items] == [Status.DELIVERED, Status.REJECTED]
    assert result.items[1].reason == (
        "sent, but no clear answer came back (1 results for 2 records); the record has incr/add/delete functions, "
        "so it was not sent again: check the profile in Altcraft before sending it once more"
    )


def test_a_reordered_result_carrying_keys_maps_each_answer_to_its_record(stub: Stub) -> None:
    # Given a batch answer in the reverse order, each result naming its record's e-mail
    stub.shape = reversed_with_keys
    _, result = send(stub, IMPORT, [{"email": e, "data": {"_fname": "X"}} for e in (A, B)])
    # Then nothing went again, and each record has its own result (p0 was made for A, p1 for B)
    assert len(stub.requests) == 1
    assert result.items is not None
    assert [(i.status, i.destination_id) for i in result.items] == [(Status.DELIVERED, "p0"), (Status.DELIVERED, "p1")]


def test_a_result_whose_keys_name_records_in_part_settles_the_rest_alone(stub: Stub) -> None:
    # Given three records; the answer names B and A by e-mail (reordered) and says nothing of C
    c = "c@example.com"

    def two_keyed(items: list[dict[str, Any]], results: list[dict[str, Any]]) -> list[Any]:
        return [{**results[1], "email": B}, {**results[0], "email": A}]

    stub.shape = two_keyed
    _, result = send(stub, IMPORT, [{"email": e, "data": {"_fname": "X"}} for e in (A, B, c)])
    # Then only C went again, alone; A and B keep the results that named them
    assert [(path, body.get("email")) for path, body in sent(stub)] == [
        (PATHS[IMPORT, False], None),
        (PATHS[IMPORT, True], c),
    ]
    assert result.items is not None
    assert [(i.status, i.destination_id) for i in result.items] == [
        (Status.DELIVERED, "p0"),
        (Status.DELIVERED, "p1"),
        (Status.DELIVERED, "p3"),
    ]


def test_a_trigger_batch_answered_in_part_is_never_sent_again(stub: Stub) -> None:
    # Given the trigger method, and an answer naming only the second record (by its Data-array key)
    def only_second(items: list[dict[str, Any]], results: list[dict[str, Any]]) -> list[Any]:
        return [{**results[1], "email": items[1]["email"]}]

    stub.shape = only_second
    records = [{"trigger_id": 13, "email": e, "data": {"_fname": "X"}} for e in (A, B)]
    _, result = send(stub, IMPORT_AND_START, records)
    # Then nothing went again: B is delivered, A refused with the reason (its trigger may have started)
    assert [r.path for r in stub.requests] == ["/api/v1.1/campaigns/triggers/import_and_start_batch"]
    assert result.items is not None
    assert [(i.status, i.destination_id) for i in result.items] == [(Status.REJECTED, ""), (Status.DELIVERED, "p1")]
    assert result.items[0].reason.startswith(
        "sent in a batch whose answer does not say which records started the trigger (1 results for 2 records)"
    )


def test_a_trigger_batch_reordered_with_keys_maps_back(stub: Stub) -> None:
    stub.shape = reversed_with_keys
    records = [{"trigger_id": 13, "email": e, "data": {"_fname": "X"}} for e in (A, B)]
    _, result = send(stub, IMPORT_AND_START, records)
    assert len(stub.requests) == 1
    assert result.items is not None
    assert [(i.status, i.destination_id) for i in result.items] == [(Status.DELIVERED, "p0"), (Status.DELIVERED, "p1")]


def test_through_the_driver_a_short_answer_settles_every_record_and_nothing_is_left_to_retry(stub: Stub) -> None:
    # Given the update function's driver, three records (one an increment) and an Altcraft answering batches short
    stub.shape = shorter
    records = [
        {"email": A, "data": {"_fname": "A"}},
        {"email": B, "data": {"loyalty": {"action": "incr", "value": 1}}},
        {"email": "c@example.com", "data": {"_fname": "C"}},
    ]
    rejected: list[tuple[int, list[str]]] = []
    delivered: list[tuple[int, str]] = []
    destination = ALTCRAFT_PROFILE_UPDATE
    Delivery(
        destination,
        destination.make_preparer(settings(stub), time.time()),
        AltcraftSender(settings(stub), UPDATE),
        Budget(deadline=time.time() + 30, hard_end=time.time() + 40),
        MemoryLedger(),
        "sqs:m1",
        lambda index, record, errors: rejected.append((index, errors)),
        lambda index, profile_id: delivered.append((index, profile_id)),
    ).run(RecordsSource(list(as_rows(records))))
    # Then every record ended once: the plain two delivered from their own requests, the increment refused
    assert sorted(delivered) == [(0, "p3"), (2, "p4")]
    assert [(index, len(errors)) for index, errors in rejected] == [(1, 1)]
    assert "not sent again" in rejected[0][1][0]
    assert len(stub.requests) == 3  # the batch, then the two plain records alone: nothing loops


# --- subscription status / priority -1 ------------------------------------------------------------------------------


@pytest.mark.parametrize("method", [IMPORT, UPDATE], ids=["import", "update"])
def test_status_and_priority_minus_one_leave_a_subscription_as_it_is(stub: Stub, method: Method) -> None:
    # Given a subscription whose status and priority are -1 ("leave unchanged")
    sub = {"channel": "email", "email": A, "resource_id": 1, "status": -1, "priority": -1}
    # When it is sent with its profile
    send(stub, method, [{"email": A, "data": {"subscriptions": [sub]}}])
    # Then it is accepted and goes as it is
    assert sent(stub) == [
        (
            PATHS[method, True],
            {"token": TOKEN, "db_id": 1, "matching": "email", "email": A, "data": {"subscriptions": [sub]}},
        )
    ]


@pytest.mark.parametrize(
    ("method", "status", "reason"),
    [
        (IMPORT, -2, "or -1 to 6"),
        (UPDATE, 7, "or -1 to 6"),
        (IMPORT_AND_START, -1, "or 0 to 6"),
    ],
)
def test_other_statuses_stay_refused(method: Method, status: int, reason: str) -> None:
    record = {
        "trigger_id": 13,
        "email": A,
        "data": {"subscriptions": [{"channel": "email", "email": A, "status": status}]},
    }
    if method is not IMPORT_AND_START:
        del record["trigger_id"]
    body, errors = make_altcraft_preparer(method)(settings(), time.time())(record)
    assert body is None
    assert any(error.startswith("data.subscriptions[0].status: must be one of") and reason in error for error in errors)
