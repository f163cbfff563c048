"""The four endpoints added from the registry (revenue, ad revenue, e-commerce, Altcraft import + trigger), each
through its three doors against its strict emulator route: the valid records land in the API's own store, the
refused ones in rejected/ with a reason, and the report of the file adds up."""

from __future__ import annotations

import importlib
import json
import time
from collections.abc import Callable
from typing import Any

import pytest

from demo.play import Samples
from sandbox.altcraft_emulator import AltcraftEmulator
from sandbox.appmetrica_emulator import AppMetricaEmulator
from sandbox.lambda_runtime import LambdaContext, api_gateway_event, drain
from tests.conftest import APPLICATION_ID, Aws
from tests.support import csv_records

TRIGGER = 13  # the emulator's documented default trigger (docs/contracts/index.md#golden-cases)
NEW_ENDPOINTS = ["appmetrica_revenue", "appmetrica_ad_revenue", "appmetrica_ecommerce", "altcraft_import_trigger"]


def stored(function: str, appmetrica: AppMetricaEmulator, altcraft: AltcraftEmulator) -> Callable[[], int]:
    """How many records the destination holds for this endpoint (its own store, not a shared counter)."""
    stores: dict[str, Callable[[], int]] = {
        "appmetrica_revenue": lambda: len(appmetrica.revenue(APPLICATION_ID)),
        "appmetrica_ad_revenue": lambda: len(appmetrica.ad_revenue(APPLICATION_ID)),
        "appmetrica_ecommerce": lambda: len(appmetrica.ecommerce(APPLICATION_ID)),
        "altcraft_import_trigger": lambda: len(altcraft.started(TRIGGER)),
    }
    return stores[function]


def rejected_reasons(aws: Aws, prefix: str) -> list[str]:
    return [row["error"] for key in aws.keys(prefix) for row in csv_records(aws.object_text(key))]


@pytest.mark.parametrize("function", NEW_ENDPOINTS)
def test_each_new_endpoint_delivers_through_its_three_doors(
    aws: Aws, appmetrica: AppMetricaEmulator, altcraft: AltcraftEmulator, function: str
) -> None:
    # Given the endpoint's function serving its own queue, and its sample file, message and HTTPS call
    aws.serve(function)
    handler: Any = importlib.import_module(f"functions.{function}.app").lambda_handler
    samples = Samples.of(function, int(time.time()))
    count = stored(function, appmetrica, altcraft)

    def run_queue() -> None:
        drain(aws.sqs, aws.queue_url(function), handler)

    # When the sample file is dropped in the bucket
    key = f"{function}/{samples.file_name}"
    aws.s3.put_object(Bucket=aws.stack.bucket, Key=key, Body=samples.file_body)
    run_queue()
    # Then two rows arrive and one is refused with a reason, as the report says
    report = json.loads(aws.object_text(f"reports/{key}.json"))
    assert (report["read"], report["delivered"], report["rejected"], report["status"]) == (3, 2, 1, "complete")
    assert count() == 2
    [file_reason] = [row["error"] for row in csv_records(aws.object_text(report["rejected_file"].split("/", 3)[3]))]
    assert file_reason
    # When the sample message is put on the queue
    aws.sqs.send_message(QueueUrl=aws.queue_url(function), MessageBody=json.dumps(samples.message))
    run_queue()
    # Then its valid record arrives and the other is in rejected/sqs/ with its reason
    assert count() == 3
    assert len(rejected_reasons(aws, f"rejected/sqs/{function}/")) == 1
    # When the HTTPS call is made (the asynchronous door: accepted records go through the queue)
    route = aws.stack.functions[function].routes[0]
    answer = handler(api_gateway_event(route, json.dumps(samples.request)), LambdaContext())
    body = json.loads(answer["body"])
    run_queue()
    # Then one record is accepted and delivered, the other refused in the answer and in rejected/https/
    assert answer["statusCode"] == 202
    assert (body["accepted"], [item["index"] for item in body["rejected"]]) == (1, [1])
    assert count() == 4
    assert rejected_reasons(aws, f"rejected/https/{function}/") == ["; ".join(body["rejected"][0]["errors"])]
