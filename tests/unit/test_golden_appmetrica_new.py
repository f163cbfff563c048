"""The AppMetrica golden cases (docs/contracts/index.md#golden-cases), byte for byte: the client cases' records go
through each destination's preparer,
its CsvBatch and its sender, and the request is the spec's (path, query, Content-Type, Content-Length, body); the
documentation's own samples are parsed as the HTTPS door reads CSV and go the same way.

The cases (their inputs, bodies and Content-Length, copied from the spec) come from tests/golden_cases.py. The clock
is frozen at 1689984000 (2023-07-22T00:00:00Z) as C.0 says: the samples' event_timestamp 1689943892 is inside the
window."""

from __future__ import annotations

import io
import time
from collections.abc import Mapping, Sequence
from typing import Any

import pytest
import requests

from courier.destinations.appmetrica.ad_revenue import APPMETRICA_AD_REVENUE
from courier.destinations.appmetrica.ecommerce import APPMETRICA_ECOMMERCE
from courier.destinations.appmetrica.revenue import APPMETRICA_REVENUE
from courier.http import retrying
from courier.model import Batch, Destination, Status
from courier.settings import Settings
from courier.sources.api_bodies import body_rows
from tests.golden_cases import (
    AM_ADR_CSV_CLIENT,
    AM_ADR_CSV_DOC,
    AM_ECO_CSV_CLIENT,
    AM_ECO_CSV_DOC,
    AM_ECO_CSV_FIX,
    AM_REV_CSV_CLIENT,
    AM_REV_CSV_DOC,
    NOW,
    POST_API_KEY,
    GoldenRequest,
)

SETTINGS = Settings(APPMETRICA_API_URL="https://api.appmetrica.yandex.ru", APPMETRICA_POST_API_KEY=POST_API_KEY)
BOTH_IDS = "profile_id: send exactly one of profile_id and appmetrica_device_id, not both"
CLIENT_CASES = [
    pytest.param(APPMETRICA_REVENUE, AM_REV_CSV_CLIENT, id=AM_REV_CSV_CLIENT.case_id),
    pytest.param(APPMETRICA_AD_REVENUE, AM_ADR_CSV_CLIENT, id=AM_ADR_CSV_CLIENT.case_id),
    pytest.param(APPMETRICA_ECOMMERCE, AM_ECO_CSV_CLIENT, id=AM_ECO_CSV_CLIENT.case_id),
]


def as_json(record: Mapping[str, Any]) -> dict[str, Any]:
    """The same record as a JSON body would carry it: numbers as numbers, objects and arrays as such."""
    numbers = {"application_id", "appmetrica_device_id", "event_timestamp", "mcc", "mnc", "quantity"}
    numbers |= {"cart_item_quantity", "order_id" if record.get("order_id", "").isdigit() else ""}
    decimals = {"price", "revenue", *(name for name in record if name.endswith(("_value", "_internal_value")))}
    typed: dict[str, Any] = {}
    for name, value in record.items():
        if name in numbers:
            typed[name] = int(value)
        elif name in decimals:
            typed[name] = float(value) if "." in value else int(value)
        elif name.endswith("payload"):
            typed[name] = {"key": "value_1"}
        elif name == "product_promo_codes":
            typed[name] = ["promo_code_1", "promo_code_2"]
        else:
            typed[name] = value
    return typed


def client_batch(destination: Destination, records: Sequence[Mapping[str, Any]]) -> Batch:
    """Records → the destination's preparer → its new_batch, as the delivery driver does."""
    prepare = destination.make_preparer(SETTINGS, NOW)
    batch: Batch | None = None
    for index, record in enumerate(records):
        fields, errors = prepare(record)
        assert errors == []
        assert isinstance(fields, dict)  # a dict record gives a dict
        batch = batch or destination.new_batch(destination.batch_key(fields))
        batch.add(fields, index, record)
    assert batch is not None
    return batch


def body_of(batch: Batch) -> bytes:
    return bytes(batch.body())  # type: ignore[attr-defined]  # a CsvBatch: the Post API's body


def doc_records(body: str) -> list[dict[str, str]]:
    """A documented CSV body read as the HTTPS door reads text/csv (blank lines skipped, every row complete)."""
    rows = body_rows(body, "text/csv")
    assert [error for _, _, error in rows] == [""] * len(rows)
    return [record for _, record, _ in rows]


class Recorder(requests.Session):
    """A session that answers 200 itself and keeps the request it would have sent."""

    def __init__(self) -> None:
        super().__init__()
        self.sent: list[requests.PreparedRequest] = []

    def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:
        self.sent.append(request)
        answer = requests.Response()
        answer.status_code, answer.raw, answer.request = 200, io.BytesIO(b""), request
        return answer


@pytest.fixture
def recorder(monkeypatch: pytest.MonkeyPatch) -> Recorder:
    session = Recorder()
    monkeypatch.setattr(retrying, "new_session", lambda: session)
    return session


@pytest.mark.parametrize(("destination", "case"), CLIENT_CASES)
def test_the_client_cases_body_is_the_specs_byte_for_byte(destination: Destination, case: GoldenRequest) -> None:
    # Given the case's records, as CSV cells, in the sample's column order
    # When they go through the destination's preparer into its batch
    body = body_of(client_batch(destination, case.records))
    # Then the body is the spec's, byte for byte (header in first-seen order, minimal quoting, LF after every line)
    assert len(case.body) == case.content_length
    assert body == case.body


@pytest.mark.parametrize(("destination", "case"), CLIENT_CASES)
def test_the_same_records_from_json_give_the_same_bytes(destination: Destination, case: GoldenRequest) -> None:
    # Given the same records as a JSON body carries them (numbers, a payload object, a promo-code array)
    typed = [as_json(record) for record in case.records]
    assert typed != list(case.records)
    # When they are prepared and batched
    body = body_of(client_batch(destination, typed))
    # Then the body is still the spec's
    assert body == case.body


@pytest.mark.parametrize(("destination", "case"), CLIENT_CASES)
def test_the_client_cases_request_is_the_specs(
    destination: Destination, case: GoldenRequest, recorder: Recorder
) -> None:
    # Given the case's batch and the destination's own sender, pointed at the samples' host
    batch = client_batch(destination, case.records)
    sender = destination.make_sender(SETTINGS)
    # When it is sent (the session answers 200 without a network)
    result = sender.send(batch, time.time() + 30)
    # Then one POST went to the .csv path with the key in the query, and the CSV body and its length are the spec's
    assert result.status is Status.DELIVERED
    (request,) = recorder.sent
    assert request.method == "POST"
    assert request.path_url == case.target
    assert request.url == f"https://api.appmetrica.yandex.ru{request.path_url}"
    assert request.headers["Content-Type"] == "text/csv; charset=utf-8"
    assert request.headers["Content-Length"] == str(case.content_length)
    assert bytes(request.body) == case.body  # type: ignore[arg-type]


def test_g_am_rev_csv_doc_is_read_and_sent_without_account_id() -> None:
    # Given the documented revenue sample as printed: the undocumented account_id column and a trailing blank line
    assert len(AM_REV_CSV_DOC.body) == AM_REV_CSV_DOC.content_length
    records = doc_records(AM_REV_CSV_DOC.text)
    assert [record["account_id"] for record in records] == ["1234567890123456789", "9876543210987654321"]
    # When its two rows go through the revenue preparer and batch
    body = body_of(client_batch(APPMETRICA_REVENUE, records))
    # Then account_id is not a field of the endpoint and is not sent: the body is G-AM-REV-CSV-CLIENT's
    assert not APPMETRICA_REVENUE.knows("account_id")
    assert body == AM_REV_CSV_CLIENT.body


@pytest.mark.parametrize(
    ("destination", "sample", "client"),
    [
        # the documented ad revenue sample
        pytest.param(APPMETRICA_AD_REVENUE, AM_ADR_CSV_DOC, AM_ADR_CSV_CLIENT, id=AM_ADR_CSV_DOC.case_id),
        # the corrected e-commerce sample (an emulator case, not a client output)
        pytest.param(APPMETRICA_ECOMMERCE, AM_ECO_CSV_FIX, AM_ECO_CSV_CLIENT, id=AM_ECO_CSV_FIX.case_id),
    ],
)
def test_a_sample_with_both_ids_is_refused_and_sent_with_profile_id_only(
    destination: Destination, sample: GoldenRequest, client: GoldenRequest
) -> None:
    # Given a sample that sends both profile_id and appmetrica_device_id
    assert len(sample.body) == sample.content_length
    (record,) = doc_records(sample.text)
    assert record["appmetrica_device_id"] == "1757762239877245682"
    # When it is prepared as printed
    fields, errors = destination.make_preparer(SETTINGS, NOW)(record)
    # Then it is refused for the one-id rule, and nothing else
    assert fields is None
    assert errors == [BOTH_IDS]
    # And without appmetrica_device_id (C.0: the client keeps profile_id) it is the client case's body, byte for byte
    without_device = {name: value for name, value in record.items() if name != "appmetrica_device_id"}
    assert (without_device,) == client.records
    assert body_of(client_batch(destination, [without_device])) == client.body


def test_g_am_eco_csv_doc_is_not_repaired_its_rows_do_not_match_the_header() -> None:
    # Given the documented e-commerce sample as printed: the header broken after 11 names, a 63-value row
    assert len(AM_ECO_CSV_DOC.body) == AM_ECO_CSV_DOC.content_length
    # When the HTTPS door reads it as text/csv
    rows = body_rows(AM_ECO_CSV_DOC.text, "text/csv")
    # Then the 11-name first line is the header and both other lines are refused as rows of the wrong width
    assert [error for _, _, error in rows] == ["row: has 53 cells, the header 11", "row: has 63 cells, the header 11"]
    # And even under the joined 64-name header the printed row is one value short (a duplicate in, two out)
    header, _, row = AM_ECO_CSV_DOC.text.partition("\n")[2].partition("\n")
    joined = AM_ECO_CSV_DOC.text.partition("\n")[0] + "," + header
    assert len(joined.split(",")) == 64
    assert [error for _, _, error in body_rows(joined + "\n" + row, "text/csv")] == ["row: has 63 cells, the header 64"]


def test_with_a_real_clock_the_samples_are_outside_the_window() -> None:
    # Given the revenue client case's first record and today's clock
    prepare = APPMETRICA_REVENUE.make_preparer(SETTINGS, time.time())
    # When it is prepared
    fields, errors = prepare(AM_REV_CSV_CLIENT.records[0])
    # Then it is refused before AppMetrica could drop it silently (why C.0 freezes the clock)
    assert fields is None
    assert len(errors) == 1
    assert errors[0].startswith("event_timestamp: is older than the Post API's 14-day window")
