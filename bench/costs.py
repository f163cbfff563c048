"""What a measured path costs on AWS per million records, from the calls the bench counted: AWS's published on-demand
prices in one region on one date, free tiers ignored (they are per account, not per record). Pure: numbers in,
dollars out."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

REGION = "us-east-1"
# The date the prices below were checked. AWS's pricing pages draw their tables with scripts, so the stored copies
# show no numbers: each was checked against pages quoting it (DynamoDB's after the halving of November 2024).
PRICES_CHECKED = "2026-12-07"


@dataclass(frozen=True)
class Price:
    dollars: float
    per: int  # how many units the price is for
    source: str

    def of(self, units: float) -> float:
        return units * self.dollars / self.per


LAMBDA_PRICES = "https://aws.amazon.com/lambda/pricing/"
DYNAMODB_PRICES = "https://aws.amazon.com/dynamodb/pricing/on-demand/"
SQS_PRICES = "https://aws.amazon.com/sqs/pricing/"
S3_PRICES = "https://aws.amazon.com/s3/pricing/"
API_GATEWAY_PRICES = "https://aws.amazon.com/api-gateway/pricing/"

LAMBDA_GB_SECOND = Price(0.0000133334, 1, LAMBDA_PRICES)  # arm64, the first 7.5 billion GB-seconds a month
LAMBDA_REQUEST = Price(0.20, 1_000_000, LAMBDA_PRICES)
DYNAMODB_WRITE_UNIT = Price(0.625, 1_000_000, DYNAMODB_PRICES)  # on-demand, since the cut of November 2024
DYNAMODB_READ_UNIT = Price(0.125, 1_000_000, DYNAMODB_PRICES)
SQS_REQUEST = Price(0.40, 1_000_000, SQS_PRICES)  # standard queue, the first 100 billion a month
S3_PUT = Price(0.005, 1_000, S3_PRICES)  # S3 Standard: PUT, COPY and POST requests
S3_LIST = Price(0.005, 1_000, S3_PRICES)  # S3 Standard: LIST requests (PUT's price, its own line on the page)
S3_GET = Price(0.0004, 1_000, S3_PRICES)  # S3 Standard: GET, SELECT and every other request (HEAD)
API_GATEWAY_REST = Price(3.50, 1_000_000, API_GATEWAY_PRICES)  # REST API, the first 333 million a month
API_GATEWAY_HTTP = Price(1.00, 1_000_000, API_GATEWAY_PRICES)  # HTTP API, the first 300 million a month

SQS_CHUNK = 64 * 1024  # SQS bills each 64 KB chunk of a request's payload as a request

# S3 operations by price: PUT, COPY, POST and LIST at one price, DELETE and aborts free, everything else at GET's
S3_PUTS = frozenset(
    {
        "PutObject",
        "CopyObject",
        "PostObject",
        "CreateMultipartUpload",
        "UploadPart",
        "UploadPartCopy",
        "CompleteMultipartUpload",
    }
)
S3_LISTS = frozenset({"ListObjects", "ListObjectsV2", "ListObjectVersions", "ListMultipartUploads", "ListParts"})
S3_FREE = frozenset({"DeleteObject", "DeleteObjects", "AbortMultipartUpload"})

SERVICES = ("Lambda", "DynamoDB", "SQS", "S3", "API Gateway")


def sqs_requests(payload_bytes: int) -> int:
    """The requests SQS bills for one call: one per 64 KB chunk of its payload, at least one."""
    return max(1, -(-payload_bytes // SQS_CHUNK))


@dataclass(frozen=True)
class S3Requests:
    puts: int = 0  # PUT, COPY, POST
    lists: int = 0
    gets: int = 0  # GET, HEAD and the rest


def s3_requests(calls: Mapping[str, int]) -> S3Requests:
    """S3 calls by operation name, sorted by the price they are billed at."""
    return S3Requests(
        puts=sum(n for name, n in calls.items() if name in S3_PUTS),
        lists=sum(n for name, n in calls.items() if name in S3_LISTS),
        gets=sum(n for name, n in calls.items() if name not in S3_PUTS | S3_LISTS | S3_FREE),
    )


@dataclass(frozen=True)
class Usage:
    """What one measured path made AWS do, for `records` records."""

    records: int
    lambda_requests: int = 0
    lambda_seconds: float = 0.0  # billed duration: each invocation's rounded up to the millisecond
    memory_mb: int = 0  # the function's MemorySize
    write_units: int = 0
    read_units: int = 0
    sqs_requests: int = 0  # as billed: 64 KB chunks
    s3: S3Requests = S3Requests()
    api_requests: int = 0

    @property
    def gb_seconds(self) -> float:
        return self.lambda_seconds * self.memory_mb / 1024


def per_million(usage: Usage, api: Price = API_GATEWAY_REST) -> dict[str, float]:
    """Dollars per million records, by service (SERVICES' order), at the given API Gateway price."""
    scale = 1_000_000 / usage.records
    dollars = {
        "Lambda": LAMBDA_REQUEST.of(usage.lambda_requests) + LAMBDA_GB_SECOND.of(usage.gb_seconds),
        "DynamoDB": DYNAMODB_WRITE_UNIT.of(usage.write_units) + DYNAMODB_READ_UNIT.of(usage.read_units),
        "SQS": SQS_REQUEST.of(usage.sqs_requests),
        "S3": S3_PUT.of(usage.s3.puts) + S3_LIST.of(usage.s3.lists) + S3_GET.of(usage.s3.gets),
        "API Gateway": api.of(usage.api_requests),
    }
    return {service: value * scale for service, value in dollars.items()}


def dominant(breakdown: Mapping[str, float]) -> str:
    """The service that costs most, with its share of the total ('' when nothing costs anything)."""
    total = sum(breakdown.values())
    if not total:
        return ""
    service = max(breakdown, key=lambda name: breakdown[name])
    return f"{service} ({breakdown[service] / total:.0%})"
