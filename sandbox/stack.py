"""The stack as template.yaml declares it, created in moto: bucket, queues with their dead-letter queues, and the
bucket's notifications. Tests and the sandbox both build their AWS from here, so they cannot drift from the template."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

TEMPLATE = Path(__file__).resolve().parent.parent / "template.yaml"


class _CfnLoader(yaml.SafeLoader):
    """Reads CloudFormation's short tags (!Ref, !GetAtt, !Sub, …) as their long forms."""


def _tag(loader: yaml.SafeLoader, suffix: str, node: yaml.Node) -> dict[str, Any]:
    name = "Ref" if suffix == "Ref" else f"Fn::{suffix}"
    if isinstance(node, yaml.ScalarNode):
        value: Any = loader.construct_scalar(node)
        if suffix == "GetAtt":
            value = str(value).split(".", 1)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)  # type: ignore[arg-type]
    return {name: value}


_CfnLoader.add_multi_constructor("!", _tag)


def load_template(path: Path = TEMPLATE) -> dict[str, Any]:
    with path.open(encoding="utf-8") as handle:
        loader = _CfnLoader(handle)  # a SafeLoader: plain data and the CloudFormation tags, nothing executable
        try:
            loaded: dict[str, Any] = loader.get_single_data()
        finally:
            loader.dispose()
    return loaded


@dataclass
class FunctionWiring:
    """One function as the template wires it."""

    name: str  # the folder under functions/
    logical_id: str
    queue_id: str
    dlq_id: str
    max_receive_count: int
    visibility_timeout: int
    timeout: int
    routes: list[str]
    batch_size: int = 10  # messages an invocation takes at most (the event source's BatchSize)
    batching_window: float = 0.0  # seconds the event source waits for a batch to fill
    prefixes: list[str] = field(default_factory=list)
    queue_url: str = ""
    dlq_url: str = ""

    @property
    def dlq_name(self) -> str:
        """The dead-letter queue's name in the sandbox (the queue's is the function's name)."""
        return f"{self.name}-dlq"


def _resolved(template: dict[str, Any], value: Any) -> Any:
    """A property's value: a parameter's default where it refers to one."""
    if isinstance(value, dict) and "Ref" in value:
        return template["Parameters"][value["Ref"]]["Default"]
    return value


def _getatt_id(value: Any) -> str:
    return str(value["Fn::GetAtt"][0])


def function_wirings(template: dict[str, Any]) -> dict[str, FunctionWiring]:
    resources = template["Resources"]
    default_timeout = template["Parameters"]["FunctionTimeoutSeconds"]["Default"]
    wirings: dict[str, FunctionWiring] = {}
    for logical_id, resource in resources.items():
        if resource["Type"] != "AWS::Serverless::Function":
            continue
        props = resource["Properties"]
        events = props.get("Events", {}).values()
        sqs = next(e["Properties"] for e in events if e["Type"] == "SQS")
        queue_id = _getatt_id(sqs["Queue"])
        queue_props = resources[queue_id]["Properties"]
        redrive = queue_props["RedrivePolicy"]
        timeout = props.get("Timeout", default_timeout)
        name = Path(props["CodeUri"]).name
        wirings[name] = FunctionWiring(
            name=name,
            logical_id=logical_id,
            queue_id=queue_id,
            dlq_id=_getatt_id(redrive["deadLetterTargetArn"]),
            max_receive_count=int(redrive["maxReceiveCount"]),
            visibility_timeout=int(queue_props["VisibilityTimeout"]),
            timeout=int(timeout) if not isinstance(timeout, dict) else int(default_timeout),
            routes=[e["Properties"]["Path"] for e in events if e["Type"] == "Api"],
            batch_size=int(_resolved(template, sqs["BatchSize"])),
            batching_window=float(_resolved(template, sqs.get("MaximumBatchingWindowInSeconds", 0))),
        )
    bucket = next(r for r in resources.values() if r["Type"] == "AWS::S3::Bucket")
    for config in bucket["Properties"]["NotificationConfiguration"]["QueueConfigurations"]:
        queue_id = _getatt_id(config["Queue"])
        prefix = next(rule["Value"] for rule in config["Filter"]["S3Key"]["Rules"] if rule["Name"] == "prefix")
        for wiring in wirings.values():
            if wiring.queue_id == queue_id:
                wiring.prefixes.append(prefix)
    return wirings


@dataclass
class Stack:
    bucket: str
    functions: dict[str, FunctionWiring]
    table: str = ""


def create_table(dynamodb: Any, template: dict[str, Any], name: str = "courier-sandbox-idempotency") -> str:
    """The template's DynamoDB table (the delivery ledger), with its key schema."""
    table = next(r["Properties"] for r in template["Resources"].values() if r["Type"] == "AWS::DynamoDB::Table")
    dynamodb.create_table(
        TableName=name,
        BillingMode=table["BillingMode"],
        AttributeDefinitions=table["AttributeDefinitions"],
        KeySchema=table["KeySchema"],
    )
    return name


def create_stack(s3: Any, sqs: Any, bucket: str = "courier-sandbox-data", dynamodb: Any = None) -> Stack:
    """Creates in moto (or any S3/SQS/DynamoDB endpoint) what the template declares."""
    template = load_template()
    wirings = function_wirings(template)
    s3.create_bucket(Bucket=bucket)
    queue_configs = []
    for wiring in wirings.values():
        dlq_url = sqs.create_queue(QueueName=wiring.dlq_name, Attributes={"MessageRetentionPeriod": "1209600"})[
            "QueueUrl"
        ]
        dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        redrive = {"deadLetterTargetArn": dlq_arn, "maxReceiveCount": str(wiring.max_receive_count)}
        queue_url = sqs.create_queue(
            QueueName=wiring.name,
            Attributes={"VisibilityTimeout": str(wiring.visibility_timeout), "RedrivePolicy": json.dumps(redrive)},
        )["QueueUrl"]
        queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        wiring.queue_url, wiring.dlq_url = queue_url, dlq_url
        for prefix in wiring.prefixes:
            queue_configs.append(
                {
                    "QueueArn": queue_arn,
                    "Events": ["s3:ObjectCreated:*"],
                    "Filter": {"Key": {"FilterRules": [{"Name": "prefix", "Value": prefix}]}},
                }
            )
    s3.put_bucket_notification_configuration(
        Bucket=bucket, NotificationConfiguration={"QueueConfigurations": queue_configs}
    )
    table = create_table(dynamodb, template) if dynamodb is not None else ""
    return Stack(bucket, wirings, table)
