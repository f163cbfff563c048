"""template.yaml read as data: CloudFormation's short tags in their long forms, and each function as the template wires
it (queues, routes, S3 prefixes, event source settings). The sandbox, the command line, the tests and the bench read
the stack's shape from here, so none of them can drift from the template."""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

if TYPE_CHECKING:
    _SafeLoader = yaml.SafeLoader
else:  # libyaml's parser where PyYAML's wheel has it: the template is thousands of lines, read by every test's stack
    _SafeLoader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

TEMPLATE = Path(__file__).resolve().parent.parent / "template.yaml"


class _CfnLoader(_SafeLoader):
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
    """The template as data: a copy of the file's parse, read again when the file changes."""
    status = path.stat()
    return copy.deepcopy(_parsed(path, status.st_mtime_ns, status.st_size))


@lru_cache(maxsize=8)
def _parsed(path: Path, mtime_ns: int, size: int) -> dict[str, Any]:
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
