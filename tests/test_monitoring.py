"""template.yaml's dashboard and alarms, checked against the endpoint registry and against the metrics the code
declares (courier.observability.METRICS): every function has its graphs and its alarms, and no graph or alarm reads
a metric the functions never write."""

from __future__ import annotations

import json
from typing import Any

import pytest

from courier import observability as seen
from courier.destinations.registry import ENDPOINTS, Endpoint
from infra.template import load_template

ALARMS = ("DeadLetterAlarm", "OldestMessageAlarm", "UnauthorizedAlarm", "RejectedShareAlarm", "ErrorsAlarm")
Line = tuple[str, str, dict[str, Any]]  # (namespace, metric name, dimensions: text, or a Ref or GetAtt)


@pytest.fixture(scope="module")
def template() -> dict[str, Any]:
    return load_template()


def of_type(template: dict[str, Any], kind: str) -> dict[str, dict[str, Any]]:
    return {name: r for name, r in template["Resources"].items() if r["Type"] == kind}


def dashboard_lines(template: dict[str, Any]) -> list[Line]:
    """Every metric every graph of the dashboard reads."""
    [dashboard] = of_type(template, "AWS::CloudWatch::Dashboard").values()
    body = json.loads(dashboard["Properties"]["DashboardBody"]["Fn::Sub"])
    lines = []
    for widget in body["widgets"]:
        for line in widget["properties"].get("metrics", []):
            parts = [part for part in line if isinstance(part, str)]
            lines.append((parts[0], parts[1], dict(zip(parts[2::2], parts[3::2], strict=True))))
    return lines


def alarm_lines(alarm: dict[str, Any]) -> list[Line]:
    """The metrics one alarm reads: its own, or those of its metric math."""
    props = alarm["Properties"]
    stats = (
        [props] if "MetricName" in props else [m["MetricStat"]["Metric"] for m in props["Metrics"] if "MetricStat" in m]
    )
    return [(s["Namespace"], s["MetricName"], {d["Name"]: d["Value"] for d in s.get("Dimensions", [])}) for s in stats]


def all_lines(template: dict[str, Any]) -> list[Line]:
    alarms = of_type(template, "AWS::CloudWatch::Alarm").values()
    return dashboard_lines(template) + [line for alarm in alarms for line in alarm_lines(alarm)]


def own(e: Endpoint) -> dict[str, str]:
    return {seen.FUNCTION_DIMENSION: e.name, "service": seen.SERVICE}


def test_every_metric_of_couriers_namespace_in_the_dashboard_and_alarms_is_one_the_code_emits(
    template: dict[str, Any],
) -> None:
    # Given every metric the dashboard's graphs and the alarms read
    lines = all_lines(template)
    # Then those outside AWS's own namespaces are Courier's, named as the code declares them, with its dimensions
    courier = [line for line in lines if not line[0].startswith("AWS/")]
    assert courier
    assert {namespace for namespace, _, _ in courier} == {seen.NAMESPACE}
    assert {name for _, name, _ in courier} <= {metric.name for metric in seen.METRICS}
    assert all(set(dimensions) == {seen.FUNCTION_DIMENSION, "service"} for _, _, dimensions in courier)


@pytest.mark.parametrize("e", ENDPOINTS, ids=lambda e: e.name)
def test_every_function_has_its_graphs(template: dict[str, Any], e: Endpoint) -> None:
    # Given the dashboard's metrics
    lines = dashboard_lines(template)
    mine = {name for namespace, name, dims in lines if namespace == seen.NAMESPACE and dims == own(e)}

    def aws(namespace: str, dimension: str, value: str) -> set[str]:
        return {name for ns, name, dims in lines if ns == namespace and dims.get(dimension) == value}

    # Then the function's records, destination answers by class and latency are graphed
    wanted = {seen.RECORDS_DELIVERED, seen.RECORDS_REJECTED, seen.RECORDS_PENDING, seen.REQUEST_LATENCY}
    assert {metric.name for metric in (*wanted, *seen.ANSWER_CLASSES)} <= mine
    # And its queue's depth and oldest message, its dead-letter queue's depth
    queue = aws("AWS/SQS", "QueueName", f"${{{e.resource}Queue.QueueName}}")
    assert {"ApproximateNumberOfMessagesVisible", "ApproximateAgeOfOldestMessage"} <= queue
    assert "ApproximateNumberOfMessagesVisible" in aws(
        "AWS/SQS", "QueueName", f"${{{e.resource}DeadLetterQueue.QueueName}}"
    )
    # And its Lambda's errors, throttles and duration, and its route's 4xx and 5xx
    assert {"Errors", "Throttles", "Duration"} <= aws("AWS/Lambda", "FunctionName", f"${{{e.resource}Function}}")
    assert {"4XXError", "5XXError"} <= aws("AWS/ApiGateway", "Resource", e.destination.route)


@pytest.mark.parametrize("e", ENDPOINTS, ids=lambda e: e.name)
def test_every_function_has_its_alarms_each_saying_what_to_do(template: dict[str, Any], e: Endpoint) -> None:
    # Given the function's alarms
    alarms = of_type(template, "AWS::CloudWatch::Alarm")
    mine = {suffix: alarms.get(f"{e.resource}{suffix}") for suffix in ALARMS}
    # Then it has each of them, notifying the alarm topic, and each description names it and says what to do
    assert all(alarm is not None for alarm in mine.values()), [s for s, alarm in mine.items() if alarm is None]
    for alarm in filter(None, mine.values()):
        props = alarm["Properties"]
        assert props["AlarmActions"] == [{"Ref": "AlarmTopic"}]
        assert props["AlarmDescription"].startswith(f"{e.name}: ")
        assert "Runbook" in props["AlarmDescription"]
    # And each reads what it is about: the dead-letter queue, the queue's oldest message, 401/403 answers, the
    # rejected share (of delivered + rejected), the Lambda's errors
    lines = {suffix: alarm_lines(alarm) for suffix, alarm in mine.items() if alarm is not None}
    assert lines["DeadLetterAlarm"][0][2] == {
        "QueueName": {"Fn::GetAtt": [f"{e.resource}DeadLetterQueue", "QueueName"]}
    }
    assert lines["OldestMessageAlarm"][0][1] == "ApproximateAgeOfOldestMessage"
    assert lines["UnauthorizedAlarm"] == [(seen.NAMESPACE, seen.ANSWERS_UNAUTHORIZED.name, own(e))]
    assert sorted(name for _, name, _ in lines["RejectedShareAlarm"]) == sorted(
        [seen.RECORDS_DELIVERED.name, seen.RECORDS_REJECTED.name]
    )
    assert lines["ErrorsAlarm"] == [("AWS/Lambda", "Errors", {"FunctionName": {"Ref": f"{e.resource}Function"}})]


def test_the_thresholds_are_parameters(template: dict[str, Any]) -> None:
    alarms = of_type(template, "AWS::CloudWatch::Alarm")
    for e in ENDPOINTS:
        assert alarms[f"{e.resource}OldestMessageAlarm"]["Properties"]["Threshold"] == {
            "Ref": "OldestMessageAlarmSeconds"
        }
        assert alarms[f"{e.resource}RejectedShareAlarm"]["Properties"]["Threshold"] == {
            "Ref": "RejectedShareAlarmPercent"
        }
    assert {"OldestMessageAlarmSeconds", "RejectedShareAlarmPercent", "AlarmEmail"} <= set(template["Parameters"])


def test_an_email_is_subscribed_to_the_alarms_only_when_one_is_given(template: dict[str, Any]) -> None:
    # Given the alarm topic's subscriptions
    [subscription] = of_type(template, "AWS::SNS::Subscription").values()
    # Then the e-mail one exists only under a condition that the AlarmEmail parameter is not empty
    assert subscription["Properties"]["TopicArn"] == {"Ref": "AlarmTopic"}
    assert subscription["Properties"]["Endpoint"] == {"Ref": "AlarmEmail"}
    condition = template["Conditions"][subscription["Condition"]]
    assert condition == {"Fn::Not": [{"Fn::Equals": [{"Ref": "AlarmEmail"}, ""]}]}
    assert template["Parameters"]["AlarmEmail"]["Default"] == ""


def test_one_dashboard_whose_graphs_do_not_overlap(template: dict[str, Any]) -> None:
    [dashboard] = of_type(template, "AWS::CloudWatch::Dashboard").values()
    widgets = json.loads(dashboard["Properties"]["DashboardBody"]["Fn::Sub"])["widgets"]
    cells = [(w["x"] + dx, w["y"] + dy) for w in widgets for dx in range(w["width"]) for dy in range(w["height"])]
    assert len(cells) == len(set(cells))
    assert all(w["x"] + w["width"] <= 24 for w in widgets)
