"""`courier status`: a stack's health in one table. Per function: messages on its queue, dead letters, the oldest
message's age, and what the last hours' metrics say was delivered, rejected and left pending; then a one-line verdict.

On the sandbox the counts come from the functions' own EMF lines (the log their output goes to) and the queues from
the sandbox's SQS; on AWS (`--stack NAME`) from the stack's resources, SQS and CloudWatch (GetMetricData)."""

from __future__ import annotations

import json
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from courier import observability as seen
from infra.template import FunctionWiring, function_wirings, load_template

COUNTED = (seen.RECORDS_DELIVERED, seen.RECORDS_REJECTED, seen.RECORDS_PENDING, seen.ANSWERS_UNAUTHORIZED)
DEFAULT_HOURS = 3.0  # how far back the counts go, unless told
CALM = ("ok", "idle")  # verdicts that need nothing done
DEPTH = ("ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible", "ApproximateNumberOfMessagesDelayed")


@dataclass(frozen=True)
class Thresholds:
    """The alarms' thresholds (the template's parameters): the verdicts agree with the alarms."""

    oldest_seconds: float
    rejected_percent: float

    @classmethod
    def of(cls, parameters: dict[str, Any]) -> Thresholds:
        return cls(float(parameters["OldestMessageAlarmSeconds"]), float(parameters["RejectedShareAlarmPercent"]))


@dataclass
class Health:
    function: str
    queued: int  # messages on its queue: waiting, in an invocation or backing off
    dead_letters: int
    oldest_seconds: float | None  # the oldest message's age (None: nothing to measure)
    delivered: int = 0
    rejected: int = 0
    pending: int = 0  # records left to retry (each retry counts again)
    unauthorized: int = 0  # destination answers 401/403

    def verdict(self, limits: Thresholds) -> str:
        """The most urgent thing to know, in the order the runbook treats them."""
        if self.dead_letters:
            return (
                f"stuck: {self.dead_letters} in dead-letter queue (fix the cause, then courier replay {self.function})"
            )
        if self.unauthorized and self.queued:  # once the key is fixed the queue drains, and this verdict goes
            return f"refused: destination answered 401/403 {self.unauthorized} time(s) (check the key or token)"
        if self.oldest_seconds is not None and self.oldest_seconds > limits.oldest_seconds:
            return f"behind: oldest message {self.oldest_seconds:.0f} s old"
        if self.queued and self.pending:
            return f"retrying: {self.queued} message(s) back on the queue"
        settled = self.delivered + self.rejected
        if settled and 100 * self.rejected / settled > limits.rejected_percent:
            return f"rejecting: {100 * self.rejected / settled:.0f}% of records rejected (see rejected/)"
        return "ok" if settled or self.queued else "idle"


def emf_counts(lines: Iterable[str], since_ms: float) -> dict[str, dict[str, float]]:
    """Per function, each metric's sum over the EMF lines written since `since_ms` (epoch milliseconds)."""
    counts: dict[str, dict[str, float]] = {}
    for line in lines:
        if '"_aws"' not in line:
            continue
        try:
            emf = json.loads(line)
            declared = emf["_aws"]["CloudWatchMetrics"][0]
            if declared["Namespace"] != seen.NAMESPACE or emf["_aws"]["Timestamp"] < since_ms:
                continue
            summed = counts.setdefault(str(emf[seen.FUNCTION_DIMENSION]), {})
        except (ValueError, KeyError, IndexError, TypeError):
            continue  # not an EMF line of Courier's
        for metric in declared["Metrics"]:
            values = emf.get(metric["Name"], 0)
            summed[metric["Name"]] = summed.get(metric["Name"], 0) + sum(
                values if isinstance(values, list) else [values]
            )
    return counts


def _depth(sqs: Any, url: str) -> int:
    attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=list(DEPTH))["Attributes"]
    return sum(int(attributes.get(name, 0)) for name in DEPTH)


def _oldest_dead_letter(sqs: Any, dlq_url: str, now: float) -> float | None:
    """The oldest dead letter's age, looked at without taking it (a dead-letter queue has no redrive to count
    towards). A function's own queue is not looked at this way: each look would count as a receive."""
    messages = sqs.receive_message(  # SQS hands a sample: the oldest of up to ten
        QueueUrl=dlq_url, MaxNumberOfMessages=10, VisibilityTimeout=0, AttributeNames=["SentTimestamp"]
    ).get("Messages", [])
    sent = [int(m["Attributes"]["SentTimestamp"]) / 1000 for m in messages]
    return now - min(sent) if sent else None


def _with_counts(health: Health, counts: dict[str, float]) -> Health:
    health.delivered, health.rejected, health.pending, health.unauthorized = (
        int(counts.get(metric.name, 0)) for metric in COUNTED
    )
    return health


def on_sandbox(sqs: Any, log: Path, hours: float) -> tuple[list[Health], Thresholds]:
    """The sandbox's functions, as template.yaml declares them; the thresholds are its parameters' defaults."""
    template = load_template()
    return sandbox_health(sqs, function_wirings(template).values(), log, hours), Thresholds.of(defaults(template))


def on_stack(stack: str, hours: float) -> tuple[list[Health], Thresholds]:
    """A deployed stack's functions (the credentials and region of the environment)."""
    import boto3

    template = load_template()
    cloudformation, sqs, cloudwatch = (boto3.client(name) for name in ("cloudformation", "sqs", "cloudwatch"))
    healths, given = stack_health(cloudformation, sqs, cloudwatch, stack, function_wirings(template).values(), hours)
    return healths, Thresholds.of({**defaults(template), **given})


def defaults(template: dict[str, Any]) -> dict[str, Any]:
    """The template's parameters as they are when not given."""
    return {name: parameter.get("Default") for name, parameter in template["Parameters"].items()}


def sandbox_health(sqs: Any, wirings: Iterable[FunctionWiring], log: Path, hours: float) -> list[Health]:
    """The sandbox's functions: queues from its SQS (by the names the sandbox gives them), counts from the EMF lines
    in the functions' log."""
    now = time.time()
    with log.open(encoding="utf-8", errors="replace") as lines:
        counts = emf_counts(lines, (now - hours * 3600) * 1000)
    healths = []
    for wiring in wirings:
        queue = sqs.get_queue_url(QueueName=wiring.name)["QueueUrl"]
        dlq = sqs.get_queue_url(QueueName=wiring.dlq_name)["QueueUrl"]
        dead = _depth(sqs, dlq)
        oldest = _oldest_dead_letter(sqs, dlq, now) if dead else None
        healths.append(_with_counts(Health(wiring.name, _depth(sqs, queue), dead, oldest), counts.get(wiring.name, {})))
    return healths


def stack_health(
    cloudformation: Any, sqs: Any, cloudwatch: Any, stack: str, wirings: Iterable[FunctionWiring], hours: float
) -> tuple[list[Health], dict[str, str]]:
    """A deployed stack's functions: its resources name the queues; CloudWatch has the counts and the oldest
    message's age (the functions' metrics, SQS's own). Also the stack's parameters (the alarms' thresholds)."""
    described = cloudformation.describe_stacks(StackName=stack)["Stacks"][0]
    parameters = {p["ParameterKey"]: p["ParameterValue"] for p in described.get("Parameters", [])}
    physical = {
        r["LogicalResourceId"]: r["PhysicalResourceId"]
        for r in cloudformation.describe_stack_resources(StackName=stack)["StackResources"]
    }
    wirings = list(wirings)
    queries = []
    for number, wiring in enumerate(wirings):
        dimensions = [
            {"Name": seen.FUNCTION_DIMENSION, "Value": wiring.name},
            {"Name": "service", "Value": seen.SERVICE},
        ]
        for metric in COUNTED:
            queries.append(_query(f"f{number}_{metric.name}", seen.NAMESPACE, metric.name, dimensions, hours, "Sum"))
        for kind, queue in (("queue", wiring.queue_id), ("dlq", wiring.dlq_id)):
            name = [{"Name": "QueueName", "Value": physical[queue].rsplit("/", 1)[-1]}]
            queries.append(
                _query(f"f{number}_{kind}", "AWS/SQS", "ApproximateAgeOfOldestMessage", name, 0.25, "Maximum")
            )
    values = _metric_values(cloudwatch, queries, hours)
    healths = []
    for number, wiring in enumerate(wirings):
        ages = [values[f"f{number}_{kind}"] for kind in ("queue", "dlq") if f"f{number}_{kind}" in values]
        health = Health(
            wiring.name,
            _depth(sqs, physical[wiring.queue_id]),
            _depth(sqs, physical[wiring.dlq_id]),
            max(ages) if ages else None,
        )
        counts = {metric.name: values.get(f"f{number}_{metric.name}", 0) for metric in COUNTED}
        healths.append(_with_counts(health, counts))
    return healths, parameters


def _query(key: str, namespace: str, name: str, dimensions: list[dict[str, str]], hours: float, stat: str) -> Any:
    """One GetMetricData query (its id: a letter, then letters, digits, _), in periods of `hours`."""
    metric = {"Namespace": namespace, "MetricName": name, "Dimensions": dimensions}
    period = max(60, int(hours * 3600) // 60 * 60)
    return {"Id": key, "MetricStat": {"Metric": metric, "Period": period, "Stat": stat}, "ReturnData": True}


def _metric_values(cloudwatch: Any, queries: list[Any], hours: float) -> dict[str, float]:
    """Each query's value: the sum over the window, or the latest maximum (CloudWatch gives the newest first)."""
    now = time.time()
    stats = {query["Id"]: query["MetricStat"]["Stat"] for query in queries}
    values: dict[str, float] = {}
    for start in range(0, len(queries), 500):  # GetMetricData takes at most 500 queries
        pages = cloudwatch.get_paginator("get_metric_data").paginate(
            MetricDataQueries=queries[start : start + 500], StartTime=now - hours * 3600, EndTime=now
        )
        for page in pages:
            for result in page["MetricDataResults"]:
                if result["Values"]:
                    found = result["Values"]
                    values[result["Id"]] = sum(found) if stats[result["Id"]] == "Sum" else found[0]
    return values


def render(healths: list[Health], limits: Thresholds, hours: float, where: str) -> list[str]:
    headers = ("function", "queued", "dead letters", "oldest", "delivered", "rejected", "pending", "verdict")
    rows = [
        (
            h.function,
            str(h.queued),
            str(h.dead_letters),
            "-" if h.oldest_seconds is None else f"{h.oldest_seconds:.0f} s",
            str(h.delivered),
            str(h.rejected),
            str(h.pending),
            h.verdict(limits),
        )
        for h in healths
    ]
    widths = [max(len(line[i]) for line in (headers, *rows)) for i in range(len(headers))]
    lines = [f"{where}: records in the last {hours:g} h, queues now"]
    for n, line in enumerate((headers, *rows)):
        lines.append("  ".join(cell.ljust(width) for cell, width in zip(line, widths, strict=True)).rstrip())
        if n == 0:
            lines.append("  ".join("-" * width for width in widths))
    return lines
