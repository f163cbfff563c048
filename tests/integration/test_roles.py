"""Each function's AWS calls run against its role in template.yaml (tests/iam.py, for the whole suite): a call the
role does not allow fails as AWS would fail it, and the test that made it fails."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest

from functions.appmetrica_events.app import lambda_handler
from sandbox.lambda_runtime import LambdaContext, api_gateway_event
from tests.conftest import Aws
from tests.iam import Denial, Roles, load_roles, permissions


@pytest.mark.denied_by_role
def test_a_function_cannot_queue_on_another_functions_queue(aws: Aws, roles: Roles) -> None:
    # Given the events function misconfigured to queue its HTTPS records on the profiles function's queue
    aws.serve("appmetrica_events")
    aws.monkeypatch.setenv("INGEST_QUEUE_URL", aws.queue_url("appmetrica_profiles"))
    record = {"application_id": 1111, "profile_id": "u1", "event_name": "open", "event_timestamp": int(time.time())}
    # When an HTTPS call hands it a record (the door queues it, as it does with every accepted record)
    with pytest.raises(Exception, match="AccessDenied"):
        lambda_handler(api_gateway_event("/appmetrica/events", json.dumps(record)), LambdaContext())
    # Then the role refused the SendMessage, naming the other queue, and nothing reached that queue
    [denial] = roles.denials
    assert denial == Denial(
        "appmetrica_events", "sqs:SendMessage", "arn:aws:sqs:us-east-1:123456789012:appmetrica_profiles"
    )
    received = aws.sqs.receive_message(QueueUrl=aws.queue_url("appmetrica_profiles"), MaxNumberOfMessages=10)
    assert [m["Body"] for m in received.get("Messages", []) if "s3:TestEvent" not in m["Body"]] == []


def test_every_call_the_doors_make_is_mapped_to_an_action_and_a_resource() -> None:
    # Given the calls the functions make (reads, writes, queue calls, ledger calls, secrets)
    calls: list[tuple[str, str, dict[str, Any]]] = [
        ("s3", "GetObject", {"Bucket": "b", "Key": "appmetrica_events/x.csv", "VersionId": "v1"}),
        ("s3", "PutObject", {"Bucket": "b", "Key": "rejected/x.csv"}),
        ("sqs", "ChangeMessageVisibilityBatch", {"QueueUrl": "https://sqs.us-east-1.amazonaws.com/123456789012/q"}),
        ("dynamodb", "TransactWriteItems", {"TransactItems": [{"Put": {"TableName": "t"}}]}),
        ("dynamodb", "BatchGetItem", {"RequestItems": {"t": {"Keys": []}}}),
        ("secretsmanager", "GetSecretValue", {"SecretId": "courier/appmetrica/post-api-key"}),
    ]
    # When each is mapped as AWS's service authorization reference says
    mapped = [permissions(*call) for call in calls]
    # Then each names its IAM action and exact resource (a batch call by its single action)
    assert mapped == [
        [("s3:GetObjectVersion", "arn:aws:s3:::b/appmetrica_events/x.csv")],
        [("s3:PutObject", "arn:aws:s3:::b/rejected/x.csv")],
        [("sqs:ChangeMessageVisibility", "arn:aws:sqs:us-east-1:123456789012:q")],
        [("dynamodb:PutItem", "arn:aws:dynamodb:us-east-1:123456789012:table/t")],
        [("dynamodb:BatchGetItem", "arn:aws:dynamodb:us-east-1:123456789012:table/t")],
        [
            (
                "secretsmanager:GetSecretValue",
                "arn:aws:secretsmanager:us-east-1:123456789012:secret:courier/appmetrica/post-api-key-AbCdEf",
            )
        ],
    ]


def test_theroles_allow_their_own_secret_and_no_other(roles: Roles) -> None:
    # Given the events function's role
    secret = "arn:aws:secretsmanager:us-east-1:123456789012:secret:courier/appmetrica/post-api-key-AbCdEf"
    longer = "arn:aws:secretsmanager:us-east-1:123456789012:secret:courier/appmetrica/post-api-key-prod-AbCdEf"
    # Then its own secret is allowed, a secret whose name only starts the same is not
    assert roles.allows("appmetrica_events", "secretsmanager:GetSecretValue", secret)
    assert not roles.allows("appmetrica_events", "secretsmanager:GetSecretValue", longer)
    # And its own prefix may be read, another function's may not
    assert roles.allows("appmetrica_events", "s3:GetObject", "arn:aws:s3:::courier-sandbox-data/appmetrica_events/a")
    assert not roles.allows(
        "appmetrica_events", "s3:GetObject", "arn:aws:s3:::courier-sandbox-data/altcraft_profile_import/a"
    )
    # And its own mappings may be read, another function's may not
    bucket = "arn:aws:s3:::courier-sandbox-data"
    assert roles.allows("appmetrica_events", "s3:GetObject", f"{bucket}/mappings/appmetrica_events/crm.yaml")
    assert not roles.allows("appmetrica_events", "s3:GetObject", f"{bucket}/mappings/appmetrica_profiles/crm.yaml")
    assert not roles.allows("appmetrica_events", "s3:PutObject", f"{bucket}/mappings/appmetrica_events/crm.yaml")


@pytest.mark.parametrize("name", ["/courier/appmetrica-key", "courier/appmetrica-key"])
def test_a_secret_named_ssm_parameter_is_read_by_ssm_get_parameter_and_nothing_else(name: str) -> None:
    # Given a stack whose Post API key is an SSM SecureString (with or without a leading /)
    roles = load_roles(AppMetricaPostApiKeySecretName=f"ssm:{name}")
    [(action, parameter)] = permissions("ssm", "GetParameter", {"Name": name})
    other = parameter.replace("appmetrica-key", "altcraft-token")
    # Then the AppMetrica functions may read that parameter and no other, and no Secrets Manager secret of that name
    assert roles.allows("appmetrica_events", action, parameter)
    assert roles.allows("appmetrica_revenue", action, parameter)
    assert not roles.allows("appmetrica_events", action, other)
    assert not roles.allows("altcraft_profile_import", action, parameter)
    secret = permissions("secretsmanager", "GetSecretValue", {"SecretId": f"ssm:{name}"})[0][1]
    assert not roles.allows("appmetrica_events", "secretsmanager:GetSecretValue", secret)


def test_by_default_no_function_may_read_ssm_parameters() -> None:
    roles = load_roles()
    parameter = permissions("ssm", "GetParameter", {"Name": "/courier/appmetrica-key"})[0][1]
    assert not any(roles.allows(function, "ssm:GetParameter", parameter) for function in roles.allowed)
