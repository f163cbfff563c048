"""The bench's cost per million records (bench/costs.py): counted calls and GB-seconds in, dollars out, each service
at its published price."""

from __future__ import annotations

import pytest

from bench.costs import (
    API_GATEWAY_HTTP,
    S3Requests,
    Usage,
    dominant,
    per_million,
    s3_requests,
    sqs_requests,
)


def test_lambda_is_its_requests_and_its_gb_seconds_at_the_functions_memory() -> None:
    # Given a million records in 1,000 invocations of 2 s billed each, at 512 MB
    usage = Usage(records=1_000_000, lambda_requests=1_000, lambda_seconds=2_000.0, memory_mb=512)
    # When priced
    dollars = per_million(usage)
    # Then 1,000 GB-seconds at $0.0000133334 and 1,000 requests at $0.20 a million, nothing else
    assert usage.gb_seconds == 1_000.0
    assert dollars["Lambda"] == pytest.approx(1_000 * 0.0000133334 + 1_000 * 0.20 / 1e6)
    assert sum(dollars.values()) == pytest.approx(dollars["Lambda"])


def test_dynamodb_is_write_units_and_read_units_on_demand() -> None:
    # Given 1,000 single-record messages' ledger: 2,000 write units and 1,000 read units
    usage = Usage(records=1_000, write_units=2_000, read_units=1_000)
    # When priced per million records
    dollars = per_million(usage)
    # Then $0.625 a million write units and $0.125 a million read units, scaled to a million records
    assert dollars["DynamoDB"] == pytest.approx((2_000 * 0.625 + 1_000 * 0.125) / 1e6 * 1_000)
    assert dollars["DynamoDB"] == pytest.approx(1.375)


def test_sqs_is_its_billed_requests() -> None:
    # Given 1,000 records that made 1,200 billed SQS requests
    dollars = per_million(Usage(records=1_000, sqs_requests=1_200))
    # Then $0.40 a million requests, per million records
    assert dollars["SQS"] == pytest.approx(0.48)


@pytest.mark.parametrize(
    ("payload", "billed"), [(0, 1), (100, 1), (65_536, 1), (65_537, 2), (200_000, 4), (262_144, 4)]
)
def test_an_sqs_call_is_billed_a_request_per_64_kb_chunk_of_its_payload(payload: int, billed: int) -> None:
    # Given a call carrying `payload` bytes
    # Then it is billed a request for each 64 KB begun, and at least one
    assert sqs_requests(payload) == billed


def test_s3_gets_puts_and_lists_each_at_their_own_price() -> None:
    # Given a file of 10,000 rows that took 4 GETs, 1 PUT and 2 LISTs
    usage = Usage(records=10_000, s3=S3Requests(puts=1, lists=2, gets=4))
    # When priced per million records (100 such files)
    dollars = per_million(usage)
    # Then PUT and LIST at $0.005 a thousand and GET at $0.0004 a thousand, 100 times over
    assert dollars["S3"] == pytest.approx(100 * (1 * 0.005 + 2 * 0.005 + 4 * 0.0004) / 1_000)


def test_s3_operations_are_sorted_by_the_price_they_are_billed_at() -> None:
    # Given the S3 calls of a file, by operation
    calls = {"GetObject": 3, "HeadObject": 1, "PutObject": 2, "ListObjectsV2": 1, "DeleteObject": 5}
    # When sorted
    requests = s3_requests(calls)
    # Then HEAD is billed as a GET, DELETE is free
    assert requests == S3Requests(puts=2, lists=1, gets=4)


def test_api_gateway_is_a_request_a_call_rest_by_default_http_when_asked() -> None:
    # Given 200 HTTPS calls of one record each
    usage = Usage(records=200, api_requests=200)
    # When priced at the REST API's price and at the HTTP API's
    rest, http = per_million(usage)["API Gateway"], per_million(usage, API_GATEWAY_HTTP)["API Gateway"]
    # Then $3.50 and $1.00 per million records
    assert rest == pytest.approx(3.50)
    assert http == pytest.approx(1.00)


def test_every_service_is_in_the_breakdown_and_the_largest_is_named_with_its_share() -> None:
    # Given a path whose DynamoDB costs three times its SQS
    breakdown = per_million(Usage(records=1_000_000, write_units=1_920_000, sqs_requests=1_000_000))
    # Then every service is there, and DynamoDB is named as the largest, with its share
    assert list(breakdown) == ["Lambda", "DynamoDB", "SQS", "S3", "API Gateway"]
    assert breakdown["DynamoDB"] == pytest.approx(1.20)
    assert dominant(breakdown) == "DynamoDB (75%)"


def test_nothing_counted_costs_nothing_and_names_no_service() -> None:
    # Given a path that made AWS do nothing
    breakdown = per_million(Usage(records=10))
    # Then every service costs nothing and none is the largest
    assert set(breakdown.values()) == {0.0}
    assert dominant(breakdown) == ""
