"""The client for import_and_start over real HTTP against a canned server on 127.0.0.1: the paths and bytes it sends,
how it reads Altcraft's answers, and that a request that may have started the trigger is never sent again."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import pytest

from courier.delivery.driver import LOST_ANSWER, Budget, Delivery
from courier.delivery.ledger import SENDING, Entry, MemoryLedger
from courier.destinations.altcraft.batch import AltcraftBatch
from courier.destinations.altcraft.client import AltcraftSender
from courier.destinations.altcraft.methods import IMPORT, IMPORT_AND_START, Method
from courier.destinations.altcraft.profiles import ALTCRAFT_PROFILE_IMPORT
from courier.destinations.altcraft.records import make_altcraft_preparer
from courier.destinations.altcraft.triggers import ALTCRAFT_IMPORT_TRIGGER
from courier.http.retrying import said_of
from courier.model import Status
from courier.settings import Settings
from courier.sources.records import RecordsSource, as_rows
from sandbox.http_emulator import RESET, Handled, HttpEmulator
from tests.golden_cases import AC_IAS_MIN, AC_IASB_KEYS, ALTCRAFT_TOKEN

SINGLE = "/api/v1.1/campaigns/triggers/import_and_start"
BATCH = "/api/v1.1/campaigns/triggers/import_and_start_batch"
OK = {"error": 0, "error_text": "Successful operation", "profile_id": "0123456789abcdef01234567"}
LAUNCH_NOT_RESENT = "starting the trigger again would send its message twice, so it was not sent again"


class Canned(HttpEmulator):
    """Answers each request with the next scripted (status, payload), else a successful single answer. It is not an
    Altcraft emulator: it checks nothing, so the client's reading of each answer is what a test sees."""

    def __init__(self) -> None:
        super().__init__()
        self.answers: list[tuple[int, Any]] = []

    def handle(self, path: str, query: dict[str, str], headers: dict[str, str], body: bytes) -> Handled:
        status, payload = self.answers.pop(0) if self.answers else (200, OK)
        return status, {}, payload, 0, 0

    def clear(self) -> None:
        self.answers.clear()

    def state(self) -> dict[str, Any]:
        return {}


@pytest.fixture(scope="module")
def _canned() -> Iterator[Canned]:
    canned = Canned().start()
    yield canned
    canned.stop()


@pytest.fixture
def server(_canned: Canned) -> Canned:
    _canned.reset()  # no requests, answers or scripted failures left from another test
    return _canned


def sender(server: Canned, method: Method = IMPORT_AND_START) -> AltcraftSender:
    settings = Settings(
        ALTCRAFT_API_URL=server.url,
        ALTCRAFT_API_TOKEN=ALTCRAFT_TOKEN,
        ALTCRAFT_MAX_RPS=1000,
        COURIER_RETRY_BASE_SECONDS=0,
        ALTCRAFT_DB_ID="1",
    )
    return AltcraftSender(settings, method)


def batch_of(*emails: str, method: Method = IMPORT_AND_START, **fields: Any) -> AltcraftBatch:
    prepare = make_altcraft_preparer(method)(Settings(ALTCRAFT_DB_ID="1"), time.time())
    batch = AltcraftBatch("k", method)
    for index, email in enumerate(emails):
        record = {"trigger_id": 13, "email": email, "data": {"_fname": "John", "_lname": "Doe"}, **fields}
        body, errors = prepare(record)
        assert errors == []
        assert body is not None
        batch.add(body, index, record)
    return batch


def send(server: Canned, batch: AltcraftBatch, method: Method = IMPORT_AND_START) -> Any:
    return sender(server, method).send(batch, time.time() + 30)


def test_one_record_goes_to_the_single_path_as_the_golden_bytes(server: Canned) -> None:
    # Given the G-AC-IAS-MIN record and an Altcraft that answers with the profile id
    result = send(server, batch_of("john@example.com"))
    # Then one request went to import_and_start, as JSON, with G-AC-IAS-MIN's bytes
    [request] = server.requests
    assert (request.path, request.headers["content-type"], request.body) == (
        SINGLE,
        "application/json",
        AC_IAS_MIN.body,
    )
    assert request.headers["content-length"] == "138"
    # And the record is delivered with Altcraft's profile id
    assert result.status is Status.DELIVERED
    assert [(i.status, i.destination_id) for i in result.items] == [(Status.DELIVERED, OK["profile_id"])]


def test_several_records_go_to_the_batch_path_and_each_result_maps_back(server: Canned) -> None:
    # Given two records, and a batch answer with one result per item: the second refused (409)
    server.answers.append(
        (
            200,
            {
                "error": 0,
                "error_text": "Successful operation",
                "result": [
                    {"error": 0, "error_text": "Successful operation", "profile_id": "a" * 24},
                    {"error": 409, "error_text": "more than one profile matches"},
                ],
            },
        )
    )
    result = send(server, batch_of("profile4@example.com", "profile3@example.com"))
    # Then one request went to import_and_start_batch
    [request] = server.requests
    assert request.path == BATCH
    assert [item["email"] for item in json.loads(request.body)["data"]] == [
        "profile4@example.com",
        "profile3@example.com",
    ]
    # And each record has its own outcome, in order
    assert [(i.status, i.reason, i.destination_id) for i in result.items] == [
        (Status.DELIVERED, "", "a" * 24),
        (Status.REJECTED, "Altcraft error 409", ""),
    ]
    assert said_of(result.items[1]) == "more than one profile matches"  # Altcraft's text: for rejected/ only


def test_the_golden_batch_bytes_reach_the_server(server: Canned) -> None:
    # Given the documented data array as two records
    prepare = make_altcraft_preparer(IMPORT_AND_START)(Settings(), time.time())
    batch = AltcraftBatch("k", IMPORT_AND_START)
    for index, (name, last, email, phones) in enumerate(
        [
            ("John", "Lambert", "profile4@example.com", "+790000000000"),
            ("Tom", "Hard", "profile3@example.com", "+790000000001"),
        ]
    ):
        record = {"trigger_id": 13, "data": {"_fname": name, "_lname": last, "email": email, "phones": phones}}
        body, _ = prepare(record)
        assert body is not None
        batch.add(body, index, record)
    server.answers.append((200, {"error": 0, "result": [{"error": 0}, {"error": 0}]}))
    send(server, batch)
    # Then the bytes that arrived are G-AC-IASB-KEYS's
    [request] = server.requests
    assert (request.path, request.body, request.headers["content-length"]) == (BATCH, AC_IASB_KEYS.body, "342")


def test_altcrafts_error_in_a_200_answer_is_read(server: Canned) -> None:
    # Given Altcraft answers HTTP 200 with its own error (an unknown trigger, say)
    server.answers.append((200, {"error": 400, "error_text": "trigger not found"}))
    result = send(server, batch_of("a@example.com"))
    # Then the record is refused with Altcraft's code and text, after one request
    assert [(i.status, i.reason) for i in result.items] == [(Status.REJECTED, "Altcraft error 400")]
    assert said_of(result.items[0]) == "trigger not found"
    assert result.requests == 1


@pytest.mark.parametrize("status", [500, 502, 504, RESET])
def test_a_possibly_sent_request_is_never_sent_again(server: Canned, status: int) -> None:
    # Given an answer that may follow a request Altcraft applied (a 5xx of that kind, or a connection reset)
    server.fail_next(status)
    result = send(server, batch_of("a@example.com"))
    # Then it was sent once, and the record is refused with the lost-answer reason instead of being resent
    assert len(server.requests) == 1
    [item] = result.items
    assert item.status is Status.REJECTED
    assert item.reason.startswith("sent, but no clear answer came back (")
    assert LAUNCH_NOT_RESENT in item.reason


def test_a_possibly_sent_batch_is_never_sent_again_nor_split(server: Canned) -> None:
    server.fail_next(500)
    result = send(server, batch_of("a@example.com", "b@example.com"))
    assert len(server.requests) == 1
    assert (result.status, result.split) == (Status.REJECTED, False)
    assert LAUNCH_NOT_RESENT in result.reason


def test_a_200_without_altcrafts_json_is_not_resent(server: Canned) -> None:
    # Given a proxy's HTML page with status 200
    server.answers.append((200, b"<html>ok</html>"))
    result = send(server, batch_of("a@example.com"))
    [item] = result.items
    assert (item.status, len(server.requests)) == (Status.REJECTED, 1)
    assert "HTTP 200 without Altcraft's JSON answer" in item.reason
    assert LAUNCH_NOT_RESENT in item.reason


def test_an_answer_saying_not_processed_is_retried(server: Canned) -> None:
    # Given Altcraft says 503 once (the request was not processed)
    server.fail_next(503)
    result = send(server, batch_of("a@example.com"))
    # Then it is sent again and delivered
    assert [r.status for r in server.requests] == [503, 200]
    assert [i.status for i in result.items] == [Status.DELIVERED]


def test_a_refused_token_keeps_the_records_to_retry(server: Canned) -> None:
    server.answers.append((403, {"error": 403, "error_text": "invalid token"}))
    result = send(server, batch_of("a@example.com"))
    assert [(i.status, i.reason) for i in result.items] == [(Status.RETRY, "Altcraft error 403")]
    assert ALTCRAFT_TOKEN not in result.items[0].reason


def test_a_batch_refused_whole_with_a_clear_answer_is_split(server: Canned) -> None:
    # Given a batch Altcraft refuses whole (nothing started: a clear refusal, not a lost answer)
    server.answers.append((200, {"error": 400, "error_text": "bad request"}))
    result = send(server, batch_of("a@example.com", "b@example.com"))
    # Then halving may find the records it refuses
    assert (result.status, result.split, result.reason) == (Status.REJECTED, True, "Altcraft error 400")
    assert said_of(result) == "bad request"


def test_a_bare_id_list_per_record_delivers_them_and_later_batches_go_one_by_one(server: Canned) -> None:
    # Given an answer whose result is a bare list of profile ids, one per record (start_batch's documented shape)
    client = sender(server)
    server.answers.append((200, {"error": 0, "result": ["a" * 24, "b" * 24]}))
    first = client.send(batch_of("a@example.com", "b@example.com"), time.time() + 30)
    # Then both records are delivered (the ids are not tied to records: their order is undocumented)
    assert first.items is not None
    assert [(i.status, i.destination_id) for i in first.items] == [(Status.DELIVERED, ""), (Status.DELIVERED, "")]
    # When the next batch is sent
    second = client.send(batch_of("c@example.com", "d@example.com"), time.time() + 30)
    # Then it goes one profile a request, whose answers map back
    assert [r.path for r in server.requests] == [BATCH, SINGLE, SINGLE]
    assert second.items is not None
    assert [i.status for i in second.items] == [Status.DELIVERED, Status.DELIVERED]
    assert client.one_by_one


@pytest.mark.parametrize(
    "answer",
    [
        {"error": 0, "error_text": "Successful operation"},
        {"error": 0, "result": ["a" * 24]},
        {"error": 0, "result": [{"error": 0}]},
        {"error": 0, "result": "done"},
    ],
)
def test_a_batch_answer_that_cannot_be_mapped_back_is_not_resent(server: Canned, answer: dict[str, Any]) -> None:
    # Given a batch answer without one result per record
    client = sender(server)
    server.answers.append((200, answer))
    result = client.send(batch_of("a@example.com", "b@example.com"), time.time() + 30)
    # Then the records are refused, not resent and not split: some of their triggers may have started
    assert (result.status, result.split, result.items, len(server.requests)) == (Status.REJECTED, False, None, 1)
    assert result.reason.startswith("sent in a batch whose answer does not say which records started the trigger")
    # And the sender sends one profile a request from now on
    assert client.one_by_one


def test_profiles_send_again_alone_the_records_of_an_unmapped_batch_answer(server: Canned) -> None:
    # Given profiles/import, whose batch answer is documented, and an answer without results
    server.answers.append((200, {"error": 0}))
    client = sender(server, IMPORT)
    result = client.send(batch_of("a@example.com", "b@example.com", method=IMPORT), time.time() + 30)
    # Then the plain records went again, one a request, and each is delivered once with its own answer
    assert [r.path for r in server.requests] == [
        "/api/v1.1/profiles/import_batch",
        "/api/v1.1/profiles/import",
        "/api/v1.1/profiles/import",
    ]
    assert result.items is not None
    assert [(i.status, i.destination_id) for i in result.items] == [(Status.DELIVERED, OK["profile_id"])] * 2
    assert result.requests == 3
    # And later batches of this sender go one profile a request
    assert client.one_by_one


@pytest.mark.parametrize(("method", "resent"), [(IMPORT_AND_START, False), (IMPORT, True)])
def test_the_driver_never_resends_a_possibly_sent_trigger_chunk(server: Canned, method: Method, resent: bool) -> None:
    # Given a chunk an invocation that is over left *sending* (it may have reached Altcraft), for the trigger and,
    # as a contrast, for plain profile values
    destination = ALTCRAFT_IMPORT_TRIGGER if method is IMPORT_AND_START else ALTCRAFT_PROFILE_IMPORT
    ledger = MemoryLedger()
    ledger.begin("sqs:m1#-1", Entry(SENDING, lease=time.time() - 1, end=1, sent=b"\x03", attempt="dead"))
    records = [{"trigger_id": 13, "email": f"p{n}@example.com", "data": {"_fname": "P"}} for n in range(2)]
    rejected: list[tuple[int, list[str]]] = []
    client = sender(server, method)
    server.answers.append((200, {"error": 0, "result": [OK, OK]}))  # the batch's answer, if it is sent
    # When the message is delivered again through the driver
    Delivery(
        destination,
        destination.make_preparer(Settings(ALTCRAFT_DB_ID="1"), time.time()),
        client,
        Budget(deadline=time.time() + 30, hard_end=time.time() + 40),
        ledger,
        "sqs:m1",
        lambda index, record, errors: rejected.append((index, errors)),
        lambda index, destination_id: None,
    ).run(RecordsSource(list(as_rows(records))))
    # Then the trigger's rows are rejected with the lost-answer reason and nothing is sent; profiles go again
    if resent:
        assert (len(server.requests), rejected) == (1, [])
    else:
        reason = LOST_ANSWER.format(detail="killed, timed out or not recorded")
        assert (server.requests, rejected) == ([], [(0, [f"destination: {reason}"]), (1, [f"destination: {reason}"])])
