"""`courier status`: the verdicts, the reading of EMF lines, and a deployed stack read through its resources, SQS
and CloudWatch (here, stand-ins that answer as those APIs do)."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest

from cli.status import Health, Thresholds, emf_counts, stack_health
from courier import observability as seen
from infra.template import function_wirings, load_template

LIMITS = Thresholds(oldest_seconds=1800, rejected_percent=10)


@pytest.mark.parametrize(
    ("health", "verdict"),
    [
        (Health("f", 0, 0, None, delivered=9, rejected=1), "ok"),
        (Health("f", 0, 0, None), "idle"),
        (Health("f", 0, 2, 60.0, delivered=9), "stuck: 2 in dead-letter queue (fix the cause, then courier replay f)"),
        (
            Health("f", 3, 0, None, pending=5, unauthorized=4),
            "refused: destination answered 401/403 4 time(s) (check the key or token)",
        ),
        (Health("f", 0, 0, None, delivered=5, pending=5, unauthorized=1), "ok"),  # the key was fixed: all went out
        (Health("f", 3, 0, 3600.0, pending=5), "behind: oldest message 3600 s old"),
        (Health("f", 3, 0, 10.0, pending=5), "retrying: 3 message(s) back on the queue"),
        (Health("f", 0, 0, None, delivered=8, rejected=2), "rejecting: 20% of records rejected (see rejected/)"),
    ],
)
def test_the_verdict_names_the_most_urgent_thing(health: Health, verdict: str) -> None:
    assert health.verdict(LIMITS) == verdict


def emf(function: str, at_ms: float, **values: float) -> str:
    metrics = [{"Name": name, "Unit": "Count"} for name in values]
    declared = {"Namespace": seen.NAMESPACE, "Dimensions": [[seen.FUNCTION_DIMENSION, "service"]], "Metrics": metrics}
    line = {"_aws": {"Timestamp": at_ms, "CloudWatchMetrics": [declared]}, seen.FUNCTION_DIMENSION: function}
    return json.dumps({**line, "service": seen.SERVICE, **values})


def test_emf_lines_are_summed_per_function_within_the_window() -> None:
    # Given a log with EMF lines of two functions, one line too old, and a log line that is not EMF
    now = time.time() * 1000
    lines = [
        emf("a", now, RecordsDelivered=3, RecordsRejected=1),
        emf("a", now, RecordsDelivered=2),
        emf("b", now, RecordsPending=4),
        emf("a", now - 5 * 3600 * 1000, RecordsDelivered=100),
        json.dumps({"level": "INFO", "message": "messages processed", "delivered": 7}),
        "not json",
    ]
    # When they are read for the last 3 hours
    counts = emf_counts(lines, now - 3 * 3600 * 1000)
    # Then each function's sums are those of its lines in the window
    assert counts == {"a": {"RecordsDelivered": 5, "RecordsRejected": 1}, "b": {"RecordsPending": 4}}


class FakeAws:
    """CloudFormation, SQS and CloudWatch as a deployed stack would answer (one client for all three)."""

    def __init__(self, physical: dict[str, str], depths: dict[str, int], values: dict[str, list[float]]) -> None:
        self.physical, self.depths, self.values = physical, depths, values
        self.queries: list[dict[str, Any]] = []

    def describe_stacks(self, StackName: str) -> dict[str, Any]:  # noqa: N803 (boto3's argument names)
        parameters = {"OldestMessageAlarmSeconds": "600", "RejectedShareAlarmPercent": "50"}
        return {"Stacks": [{"Parameters": [{"ParameterKey": k, "ParameterValue": v} for k, v in parameters.items()]}]}

    def describe_stack_resources(self, StackName: str) -> dict[str, Any]:  # noqa: N803
        return {"StackResources": [{"LogicalResourceId": k, "PhysicalResourceId": v} for k, v in self.physical.items()]}

    def get_queue_attributes(self, QueueUrl: str, AttributeNames: list[str]) -> dict[str, Any]:  # noqa: N803
        return {"Attributes": {"ApproximateNumberOfMessages": str(self.depths.get(QueueUrl, 0))}}

    def get_paginator(self, name: str) -> FakeAws:
        assert name == "get_metric_data"
        return self

    def paginate(self, MetricDataQueries: list[dict[str, Any]], **_: Any) -> list[dict[str, Any]]:  # noqa: N803
        self.queries += MetricDataQueries
        found = [{"Id": q["Id"], "Values": self.values.get(q["Id"], [])} for q in MetricDataQueries]
        return [{"MetricDataResults": found}]


def test_a_deployed_stack_is_read_from_its_resources_sqs_and_cloudwatch() -> None:
    # Given a stack whose appmetrica_events has 2 dead letters and delivered 7 + 3 records, rejected 1, the oldest
    # message in its queue 900 s old; its parameters set the thresholds
    wirings = list(function_wirings(load_template()).values())
    physical = {}
    for wiring in wirings:
        physical[wiring.queue_id] = f"https://sqs/123/stack-{wiring.queue_id}"
        physical[wiring.dlq_id] = f"https://sqs/123/stack-{wiring.dlq_id}"
    events = next(number for number, wiring in enumerate(wirings) if wiring.name == "appmetrica_events")
    dlq = physical[wirings[events].dlq_id]
    values = {
        f"f{events}_{seen.RECORDS_DELIVERED.name}": [7.0, 3.0],
        f"f{events}_{seen.RECORDS_REJECTED.name}": [1.0],
        f"f{events}_queue": [900.0, 20.0],
    }
    aws = FakeAws(physical, {dlq: 2}, values)
    # When its health is read
    healths, parameters = stack_health(aws, aws, aws, "courier", wirings, hours=3)
    # Then the thresholds are the stack's, the events function is stuck with its counts, the others idle
    limits = Thresholds.of(parameters)
    assert limits == Thresholds(600, 50)
    [mine] = [h for h in healths if h.function == "appmetrica_events"]
    assert (mine.delivered, mine.rejected, mine.dead_letters, mine.oldest_seconds) == (10, 1, 2, 900.0)
    assert mine.verdict(limits).startswith("stuck: 2 in dead-letter queue")
    assert {h.verdict(limits) for h in healths if h is not mine} == {"idle"}
    # And the metrics were asked by the names and dimensions the functions write
    own = [q for q in aws.queries if q["MetricStat"]["Metric"]["Namespace"] == seen.NAMESPACE]
    assert {q["MetricStat"]["Metric"]["MetricName"] for q in own} <= {m.name for m in seen.METRICS}
    dimensions = {d["Name"]: d["Value"] for d in own[0]["MetricStat"]["Metric"]["Dimensions"]}
    assert dimensions == {seen.FUNCTION_DIMENSION: wirings[0].name, "service": seen.SERVICE}
