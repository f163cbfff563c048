"""IAM as AWS would apply it, for moto (which checks none): each function's role as template.yaml declares it, with
its references resolved to the names the tests' stack uses, and every AWS call the function makes checked against
it. A call its role does not allow fails as in AWS (AccessDenied) and is recorded, so the test fails even where the
code handles the refusal.

A client belongs to the function whose `handle` (or `services_for`) is on the stack when the client is made; clients
made by the tests themselves (setting up, reading results) are not checked."""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass, field
from fnmatch import fnmatchcase
from typing import Any
from urllib.parse import urlsplit

from infra.template import function_wirings, load_template

PARTITION, REGION, ACCOUNT = "aws", "us-east-1", "123456789012"  # moto's defaults
BUCKET, TABLE = "courier-sandbox-data", "courier-sandbox-idempotency"  # sandbox.stack's names


@dataclass
class Denial:
    function: str
    action: str
    resource: str

    def __str__(self) -> str:
        return f"{self.function} may not {self.action} on {self.resource}"


@dataclass
class Roles:
    """Each function's allowed (action pattern, resource pattern) pairs, from the template."""

    allowed: dict[str, list[tuple[str, str]]] = field(default_factory=dict)
    denials: list[Denial] = field(default_factory=list)

    def allows(self, function: str, action: str, resource: str) -> bool:
        return any(
            fnmatchcase(action.lower(), pattern_action.lower()) and _resource_matches(resource, pattern_resource)
            for pattern_action, pattern_resource in self.allowed[function]
        )


def _resource_matches(resource: str, pattern: str) -> bool:
    """IAM's wildcards: `*` any run of characters, `?` one character; nothing else is special."""
    regex = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)
    return re.fullmatch(regex, resource) is not None


def load_roles(**parameters: str) -> Roles:
    """The roles under the template's default parameters, or the ones given."""
    template = load_template()
    resources = template["Resources"]
    names = {wiring.queue_id: wiring.name for wiring in function_wirings(template).values()}
    names |= {wiring.dlq_id: f"{wiring.name}-dlq" for wiring in function_wirings(template).values()}
    context = TemplateValues(template, names, **parameters)
    roles = Roles()
    for wiring in function_wirings(template).values():
        role_ref = resources[wiring.logical_id]["Properties"]["Role"]
        role = resources[role_ref["Fn::GetAtt"][0]]["Properties"]
        pairs: list[tuple[str, str]] = []
        for policy in role.get("Policies", []):
            for statement in context.resolve(policy["PolicyDocument"]["Statement"]):
                if statement is None or statement.get("Effect") != "Allow":
                    continue
                for action in _listed(statement["Action"]):
                    pairs += [(action, resource) for resource in _listed(statement["Resource"])]
        roles.allowed[wiring.name] = pairs
    return roles


def _listed(value: Any) -> list[str]:
    return [str(item) for item in value] if isinstance(value, list) else [str(value)]


class TemplateValues:
    """The template's values under given parameters (defaults otherwise): conditions and intrinsic functions
    resolved; resources to the tests' physical names when `queue_names` is given, else left as references."""

    def __init__(self, template: dict[str, Any], queue_names: dict[str, str] | None = None, **parameters: str) -> None:
        self.template = template
        self.queue_names = queue_names
        defaults = {name: str(p.get("Default", "")) for name, p in template["Parameters"].items()}
        self.parameters = {**defaults, **parameters}

    def ref(self, name: str) -> Any:
        pseudo = {"AWS::Partition": PARTITION, "AWS::Region": REGION, "AWS::AccountId": ACCOUNT}
        if name in pseudo:
            return pseudo[name]
        if name in self.parameters:
            return self.parameters[name]
        if self.queue_names is None:
            return {"Ref": name}
        kind = self.template["Resources"][name]["Type"]
        if kind == "AWS::S3::Bucket":
            return BUCKET
        if kind == "AWS::DynamoDB::Table":
            return TABLE
        if kind == "AWS::SQS::Queue":
            return f"https://sqs.{REGION}.amazonaws.com/{ACCOUNT}/{self.queue_names[name]}"
        if kind == "AWS::SecretsManager::Secret":
            return f"arn:{PARTITION}:secretsmanager:{REGION}:{ACCOUNT}:secret:{name}-??????"
        raise KeyError(f"no physical name for {name} ({kind})")

    def get_att(self, name: str, attribute: str) -> Any:
        kind = self.template["Resources"][name]["Type"]
        if self.queue_names is None:
            return {"Fn::GetAtt": [name, attribute]}
        if kind == "AWS::SQS::Queue" and attribute == "Arn":
            return f"arn:{PARTITION}:sqs:{REGION}:{ACCOUNT}:{self.queue_names[name]}"
        if kind == "AWS::DynamoDB::Table" and attribute == "Arn":
            return f"arn:{PARTITION}:dynamodb:{REGION}:{ACCOUNT}:table/{TABLE}"
        if kind == "AWS::S3::Bucket" and attribute == "Arn":
            return f"arn:{PARTITION}:s3:::{BUCKET}"
        raise KeyError(f"no {attribute} for {name} ({kind})")

    def condition(self, name: str) -> bool:
        return bool(self.resolve(self.template["Conditions"][name]))

    def exists(self, resource: str) -> bool:
        condition = self.template["Resources"][resource].get("Condition")
        return condition is None or self.condition(condition)

    def resolve(self, value: Any) -> Any:
        if isinstance(value, list):
            return [item for item in (self.resolve(v) for v in value) if item is not NO_VALUE]
        if not isinstance(value, dict):
            return value
        if len(value) == 1:
            [(key, argument)] = value.items()
            if key == "Ref":
                return NO_VALUE if argument == "AWS::NoValue" else self.ref(argument)
            if key == "Fn::GetAtt":
                return self.get_att(*argument)
            if key == "Fn::Sub":
                text, names = (argument, {}) if isinstance(argument, str) else (argument[0], self.resolve(argument[1]))
                return re.sub(
                    r"\$\{([^}]+)\}",
                    lambda m: str(names[m[1]]) if m[1] in names else self._sub(m[0], m[1]),
                    text,
                )
            if key == "Fn::Select":
                index, items = argument
                return self.resolve(items)[int(index)]  # out of range fails here as it fails the stack in AWS
            if key == "Fn::Split":
                delimiter, text = argument
                return str(self.resolve(text)).split(delimiter)
            if key == "Fn::If":
                condition, then, otherwise = argument
                return self.resolve(then if self.condition(condition) else otherwise)
            if key == "Fn::Equals":
                first, second = (self.resolve(v) for v in argument)
                return first == second
            if key == "Fn::Not":
                return not self.resolve(argument[0])
            if key == "Fn::And":
                return all(self.resolve(v) for v in argument)
            if key == "Fn::Or":
                return any(self.resolve(v) for v in argument)
            if key in ("Condition", "Fn::Condition"):
                return self.condition(argument)
            if key.startswith("Fn::"):
                raise KeyError(f"tests/iam.py does not resolve {key}")
        return {k: self.resolve(v) for k, v in value.items()}

    def _sub(self, whole: str, name: str) -> str:
        """A `${…}` of a Sub: its value, or itself where it names a resource left as a reference."""
        found = self.get_att(*name.split(".", 1)) if "." in name else self.ref(name)
        return found if isinstance(found, str) else whole


NO_VALUE: Any = object()


def permissions(service: str, operation: str, params: dict[str, Any]) -> list[tuple[str, str]]:
    """The (IAM action, resource ARN) pairs a call needs, as AWS's service authorization reference lists them."""
    if service == "s3":
        bucket, key = params.get("Bucket", ""), params.get("Key", "")
        obj = f"arn:{PARTITION}:s3:::{bucket}/{key}"
        if operation in ("GetObject", "HeadObject"):
            return [("s3:GetObjectVersion" if params.get("VersionId") else "s3:GetObject", obj)]
        if operation in ("PutObject", "CreateMultipartUpload", "UploadPart", "CompleteMultipartUpload"):
            return [("s3:PutObject", obj)]
        if operation == "AbortMultipartUpload":
            return [("s3:AbortMultipartUpload", obj)]
        if operation in ("ListObjectsV2", "ListObjects"):
            return [("s3:ListBucket", f"arn:{PARTITION}:s3:::{bucket}")]
    if service == "sqs":
        path = urlsplit(params.get("QueueUrl", "")).path.strip("/").split("/")
        queue = f"arn:{PARTITION}:sqs:{REGION}:{path[0] if len(path) == 2 else ACCOUNT}:{path[-1]}"
        action = {
            "SendMessageBatch": "SendMessage",
            "ChangeMessageVisibilityBatch": "ChangeMessageVisibility",
            "DeleteMessageBatch": "DeleteMessage",
        }.get(operation, operation)  # a batch call is allowed by its single action
        return [(f"sqs:{action}", queue)]
    if service == "dynamodb":
        table = f"arn:{PARTITION}:dynamodb:{REGION}:{ACCOUNT}:table/"
        if operation == "TransactWriteItems":
            kinds = {
                "Put": "PutItem",
                "Update": "UpdateItem",
                "Delete": "DeleteItem",
                "ConditionCheck": "ConditionCheckItem",
            }
            return [
                (f"dynamodb:{kinds[kind]}", table + request["TableName"])
                for item in params["TransactItems"]
                for kind, request in item.items()
            ]
        if operation in ("BatchGetItem", "BatchWriteItem"):
            return [(f"dynamodb:{operation}", table + name) for name in params["RequestItems"]]
        return [(f"dynamodb:{operation}", table + params.get("TableName", ""))]
    if service == "secretsmanager" and operation == "GetSecretValue":
        secret = params["SecretId"]
        arn = (
            secret
            if secret.startswith("arn:")
            else f"arn:{PARTITION}:secretsmanager:{REGION}:{ACCOUNT}:secret:{secret}-AbCdEf"
        )
        return [("secretsmanager:GetSecretValue", arn)]
    if service == "ssm" and operation == "GetParameter":
        name = params["Name"]
        return [("ssm:GetParameter", f"arn:{PARTITION}:ssm:{REGION}:{ACCOUNT}:parameter/{name.lstrip('/')}")]
    return [(f"{service}:{operation}", "*")]  # not mapped here: a role grants it only if it grants it everywhere


def function_on_stack() -> str | None:
    """The function whose code is running in this thread: the `destination` of a frame of courier.doors."""
    frame: Any = sys._getframe(1)
    while frame is not None:
        destination = frame.f_locals.get("destination")
        if destination is not None and type(destination).__name__ == "Destination":
            return str(destination.name)
        frame = frame.f_back
    return None
