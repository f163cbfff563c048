"""The stack as template.yaml declares it, created in moto: bucket, queues with their dead-letter queues, the
bucket's notifications and the ledger's table. Tests and the sandbox both build their AWS from here, so they cannot
drift from the template."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from infra.template import FunctionWiring, function_wirings, load_template


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
