"""`python -m infra.generate` (`make generate`): writes what repeats per endpoint from the one registry
(courier.destinations.registry) into template.yaml, README.md and the docs, between their `generated:` markers, and
the docs' reference tables from what they describe: template.yaml's Parameters, the settings' declaration
(courier.settings), the `courier` command's argument parser and the declared metrics. The rest of each file is
written by hand. `--check` writes nothing and fails when a file is out of date (a test runs it)."""

from __future__ import annotations

import argparse
import json
import re
import sys
import textwrap
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

from cli.main import build_parser
from courier import observability as seen
from courier.destinations.registry import ENDPOINTS, Endpoint
from courier.doors.entry import required_environment
from courier.settings import Settings
from infra.template import load_template

ROOT = Path(__file__).resolve().parent.parent
BUCKET_ARN = "arn:${AWS::Partition}:s3:::${AWS::StackName}-data-${AWS::AccountId}-${AWS::Region}"
SECRET_ARN = "arn:${AWS::Partition}:secretsmanager:${AWS::Region}:${AWS::AccountId}:secret:${%s}-??????"  # noqa: S105  (a secret's ARN, not a secret)
PARAMETER_ARN = "arn:${AWS::Partition}:ssm:${AWS::Region}:${AWS::AccountId}:parameter"
SKIP_SSE = """\
    Metadata:
      checkov:
        skip:
          - id: CKV_AWS_27
            comment: Encrypted at rest with SSE-SQS; S3 cannot send notifications to a queue under the AWS-managed KMS key.
"""
FUNCTION_SKIPS = """\
    Metadata:
      checkov:
        skip:
          - id: CKV_AWS_116
            comment: Triggered by SQS; failed messages go to the queue's dead-letter queue (RedrivePolicy), which a function DLQ would not see.
          - id: CKV_AWS_115
            comment: Concurrency is bounded per queue by the event source's MaximumConcurrency.
          - id: CKV_AWS_117
            comment: The functions call public APIs (AppMetrica, Altcraft) and AWS services only; no private resources to reach.
          - id: CKV_AWS_173
            comment: The environment holds names (secret names, URLs, ids), never a secret; keys come from Secrets Manager.
"""


def notifications() -> str:
    return "".join(
        f"""\
          - Event: s3:ObjectCreated:*
            Queue: !GetAtt {e.resource}Queue.Arn
            Filter:
              S3Key:
                Rules:
                  - Name: prefix
                    Value: {e.name}/
"""
        for e in ENDPOINTS
    )


def queue_policy() -> str:
    queues = "".join(f"        - !Ref {e.resource}Queue\n" for e in ENDPOINTS)
    arns = "".join(f"              - !GetAtt {e.resource}Queue.Arn\n" for e in ENDPOINTS)
    return f"""\
  DataBucketQueuePolicy:
    Type: AWS::SQS::QueuePolicy
    Properties:
      Queues:
{queues}      PolicyDocument:
        Version: "2012-10-17"
        Statement:
          - Sid: DataBucketNotifications
            Effect: Allow
            Principal: {{Service: s3.amazonaws.com}}
            Action: sqs:SendMessage
            Resource:
{arns}            Condition:
              ArnEquals:
                aws:SourceArn: !Sub "{BUCKET_ARN}"
              StringEquals:
                aws:SourceAccount: !Ref AWS::AccountId
"""


def function_resources(e: Endpoint) -> str:
    r = e.resource
    environment = "".join(f"          {variable}: !Ref {parameter}\n" for variable, parameter in e.environment)
    return f"""\
  # --- {e.name} {"-" * (94 - len(e.name))}
  {r}DeadLetterQueue:
    Type: AWS::SQS::Queue
{SKIP_SSE}    Properties:
      MessageRetentionPeriod: 1209600  # 14 days
      SqsManagedSseEnabled: true

  {r}Queue:
    Type: AWS::SQS::Queue
{SKIP_SSE}    Properties:
      VisibilityTimeout: 2100  # ≥ 6 × the function timeout (at most 300 s) + the batching window (at most 300 s)
      MessageRetentionPeriod: 1209600
      SqsManagedSseEnabled: true
      RedrivePolicy:
        deadLetterTargetArn: !GetAtt {r}DeadLetterQueue.Arn
        maxReceiveCount: 5

  {r}Role:  # exactly what the function calls, on its own resources (a test runs the suite's calls against it)
    Type: AWS::IAM::Role
    Properties:
      AssumeRolePolicyDocument:
        Version: "2012-10-17"
        Statement:
          - Effect: Allow
            Principal: {{Service: lambda.amazonaws.com}}
            Action: sts:AssumeRole
      ManagedPolicyArns:
        - !Sub "arn:${{AWS::Partition}}:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole"  # its logs
        - !Sub "arn:${{AWS::Partition}}:iam::aws:policy/AWSXRayDaemonWriteAccess"  # its traces (X-Ray has no resources)
      Policies:
        - PolicyName: {e.name}
          PolicyDocument:
            Version: "2012-10-17"
            Statement:
              - Sid: OwnQueue  # the event source polls it; the SQS door backs off on it, the HTTPS door queues on it
                Effect: Allow
                Action: [sqs:ReceiveMessage, sqs:DeleteMessage, sqs:GetQueueAttributes, sqs:ChangeMessageVisibility, sqs:SendMessage]
                Resource: !GetAtt {r}Queue.Arn
              - Sid: ReadDroppedFiles
                Effect: Allow
                Action: [s3:GetObject, s3:GetObjectVersion]
                Resource: !Sub "arn:${{AWS::Partition}}:s3:::${{DataBucket}}/{e.name}/*"
              - Sid: ReadOwnMappings  # mappings/<function>/<name>.yaml: its own, never another function's
                Effect: Allow
                Action: s3:GetObject
                Resource: !Sub "arn:${{AWS::Partition}}:s3:::${{DataBucket}}/mappings/{e.name}/*"
              - Sid: WriteReportsAndRejectedRows
                Effect: Allow
                Action: [s3:PutObject, s3:AbortMultipartUpload]
                Resource:
                  - !Sub "arn:${{AWS::Partition}}:s3:::${{DataBucket}}/reports/*"
                  - !Sub "arn:${{AWS::Partition}}:s3:::${{DataBucket}}/rejected/*"
              - Sid: Ledger
                Effect: Allow
                Action: [dynamodb:GetItem, dynamodb:PutItem, dynamodb:DeleteItem, dynamodb:BatchGetItem, dynamodb:ConditionCheckItem]
                Resource: !GetAtt IdempotencyTable.Arn
              - !If
                - {e.api.secret_parameter}InSsm
                - Sid: ReadOwnParameter  # the secret is an SSM SecureString, named ssm:<parameter>
                  Effect: Allow
                  Action: ssm:GetParameter
                  Resource:  # the parameter's ARN whether its name starts with / or not; the other form names nothing
                    - !Sub ["{PARAMETER_ARN}${{Name}}", {{Name: {ssm_name(e)}}}]
                    - !Sub ["{PARAMETER_ARN}/${{Name}}", {{Name: {ssm_name(e)}}}]
                - Sid: ReadOwnSecret
                  Effect: Allow
                  Action: secretsmanager:GetSecretValue
                  Resource: !Sub "{SECRET_ARN % e.api.secret_parameter}"
              - !If
                - SignedWebhooks
                - Sid: ReadWebhookSigningSecret
                  Effect: Allow
                  Action: secretsmanager:GetSecretValue
                  Resource: !If
                    - WebhookSecretNamed
                    - !Sub "{SECRET_ARN % "WebhookSigningSecretName"}"
                    - !Ref WebhookSigningSecret  # the stack's generated secret
                - !Ref AWS::NoValue

  {r}LogGroup:
    Type: AWS::Logs::LogGroup
    Metadata:
      checkov:
        skip:
          - id: CKV_AWS_158
            comment: Encrypted by CloudWatch Logs' own key; the logs hold counts and reasons, never a record's values or a secret.
    Properties:
      LogGroupName: !Sub "/aws/lambda/${{{r}Function}}"
      RetentionInDays: !Ref LogRetentionDays

  {r}Function:
    Type: AWS::Serverless::Function
{FUNCTION_SKIPS}    Properties:
      CodeUri: functions/{e.name}/
      Handler: app.lambda_handler
      Description: {json.dumps(e.destination.summary, ensure_ascii=False)}
      Environment:
        Variables:
{environment}          INGEST_QUEUE_URL: !Ref {r}Queue
      Role: !GetAtt {r}Role.Arn
      Events:
        Queue:
          Type: SQS
          Properties:
            Queue: !GetAtt {r}Queue.Arn
            BatchSize: !Ref QueueBatchSize
            MaximumBatchingWindowInSeconds: !Ref QueueBatchingWindowSeconds
            FunctionResponseTypes: [ReportBatchItemFailures]
            ScalingConfig:
              MaximumConcurrency: !Ref MaximumConcurrency
        Https:
          Type: Api
          Properties:
            RestApiId: !Ref IngestApi
            Path: {e.destination.route}
            Method: post
            Auth:
              ApiKeyRequired: true
"""


def ssm_name(e: Endpoint) -> str:
    """The parameter's name after `ssm:`; empty (a valid Select in either branch of an If) when there is no `ssm:`."""
    return f'!Select [1, !Split ["ssm:", !Sub "${{{e.api.secret_parameter}}}ssm:"]]'


def secret_conditions() -> str:
    """Per API: is its secret an SSM parameter (`ssm:<name>`) rather than a Secrets Manager secret?"""
    parameters = dict.fromkeys(e.api.secret_parameter for e in ENDPOINTS)
    return "".join(f'  {p}InSsm: !Equals [!Select [0, !Split [":", !Ref {p}]], "ssm"]\n' for p in parameters)


def functions() -> str:
    return "\n".join(function_resources(e) for e in ENDPOINTS)


def outputs() -> str:
    return "".join(
        f"""\
  {e.resource}QueueUrl:
    Value: !Ref {e.resource}Queue
  {e.resource}DeadLetterQueueUrl:
    Value: !Ref {e.resource}DeadLetterQueue
"""
        for e in ENDPOINTS
    )


# --- monitoring: the dashboard and the alarms -------------------------------------------------------------------
API_NAME, API_STAGE = "${AWS::StackName}", "v1"  # the IngestApi's Name and StageName in template.yaml
TITLE_HEIGHT = 2
PERIOD = 300  # seconds: the dashboard's and the alarms' granularity
RUNBOOK = "README, Runbook"
WIDTH, HEIGHT = 8, 6  # three widgets across the dashboard's 24 columns


def courier_metric(e: Endpoint, metric: seen.Declared, **options: Any) -> list[Any]:
    """A dashboard line of one of Courier's own metrics, for one function (the dimensions the functions write)."""
    line: list[Any] = [seen.NAMESPACE, metric.name, seen.FUNCTION_DIMENSION, e.name, "service", seen.SERVICE]
    return [*line, {"label": metric.name, **options}]


def _widget(title: str, lines: list[list[Any]], stat: str = "Sum", **extra: Any) -> dict[str, Any]:
    properties = {"title": title, "region": "${AWS::Region}", "view": "timeSeries", "stat": stat, "period": PERIOD}
    return {"type": "metric", "properties": {**properties, "metrics": lines, **extra}}


def function_widgets(e: Endpoint) -> list[dict[str, Any]]:
    """One function's six graphs: its records, why records were rejected, the destination's answers and latency,
    its queue and dead-letter queue, and its Lambda and API route."""
    r, right = e.resource, {"yAxis": "right"}
    queue = ["AWS/SQS", "{name}", "QueueName", f"${{{r}Queue.QueueName}}"]
    dead = ["AWS/SQS", "{name}", "QueueName", f"${{{r}DeadLetterQueue.QueueName}}"]
    function = ["AWS/Lambda", "{name}", "FunctionName", f"${{{r}Function}}"]
    route = ["ApiName", API_NAME, "Method", "POST", "Resource", e.destination.route, "Stage", API_STAGE]
    api = ["AWS/ApiGateway", "{name}", *route]

    def aws(line: list[str], name: str, **options: Any) -> list[Any]:
        return [*(name if part == "{name}" else part for part in line), {"label": name, **options}]

    return [
        _widget(
            f"{e.name}: records",
            [
                courier_metric(e, metric)
                for metric in (
                    seen.RECORDS_DELIVERED,
                    seen.RECORDS_REJECTED,
                    seen.RECORDS_PENDING,
                    seen.DUPLICATES_SKIPPED,
                )
            ],
        ),
        _widget(
            f"{e.name}: rejected, by reason",
            [
                courier_metric(e, metric)
                for metric in (seen.REJECTED_INVALID, seen.REJECTED_BY_DESTINATION, seen.REJECTED_LOST_ANSWER)
            ],
        ),
        _widget(
            f"{e.name}: destination answers",
            [courier_metric(e, metric) for metric in (*seen.ANSWER_CLASSES, seen.ANSWERS_UNAUTHORIZED, seen.RETRIES)],
        ),
        _widget(
            f"{e.name}: destination latency (ms)",
            [courier_metric(e, seen.REQUEST_LATENCY, stat=stat, label=stat) for stat in ("p50", "p99", "Maximum")],
            stat="p50",
        ),
        _widget(
            f"{e.name}: queue",
            [
                aws(queue, "ApproximateNumberOfMessagesVisible", stat="Maximum"),
                aws(dead, "ApproximateNumberOfMessagesVisible", stat="Maximum", label="in the dead-letter queue"),
                aws(queue, "ApproximateAgeOfOldestMessage", stat="Maximum", **right),
            ],
        ),
        _widget(
            f"{e.name}: Lambda and API",
            [
                aws(function, "Errors"),
                aws(function, "Throttles"),
                aws(api, "4XXError"),
                aws(api, "5XXError"),
                aws(function, "Duration", stat="p99", **right),
            ],
        ),
    ]


def dashboard_body() -> dict[str, Any]:
    """Per function, a title and its widgets, three across."""
    widgets: list[dict[str, Any]] = []
    y = 0
    for e in ENDPOINTS:
        text = f"## {e.name}\n{e.destination.summary}; route POST {e.destination.route}"
        title = {"type": "text", "x": 0, "y": y, "width": 24, "height": TITLE_HEIGHT, "properties": {"markdown": text}}
        widgets.append(title)
        y += TITLE_HEIGHT
        for number, widget in enumerate(function_widgets(e)):
            widgets.append({**widget, "x": number % 3 * WIDTH, "y": y + number // 3 * HEIGHT})
            widgets[-1].update(width=WIDTH, height=HEIGHT)
        y += 2 * HEIGHT
    return {"widgets": widgets}


def dashboard() -> str:
    widgets = ",\n".join(f"  {json.dumps(widget, ensure_ascii=False)}" for widget in dashboard_body()["widgets"])
    body = f'{{"widgets": [\n{widgets}\n]}}'  # a widget a line: readable, and the template stays small
    return f"""\
  Dashboard:  # one per stack: per function, its records, the destination's answers, its queues, Lambda and API
    Type: AWS::CloudWatch::Dashboard
    Properties:
      DashboardName: !Sub "${{AWS::StackName}}-courier"
      DashboardBody: !Sub |
{textwrap.indent(body, " " * 8)}
"""


@dataclass(frozen=True)
class Alarm:
    suffix: str  # of the alarm's logical id, after the function's resource prefix
    description: str  # what it means and what to do ({name}: the function)
    properties: str  # the alarm's metric (or metric math) and threshold, as YAML at the Properties' indentation


def courier_dimensions(e: Endpoint, indent: int) -> str:
    """The dimensions of one function's own metrics, as YAML."""
    pad = " " * indent
    return (
        f"{pad}Dimensions:\n{pad}  - {{Name: {seen.FUNCTION_DIMENSION}, Value: {e.name}}}\n"
        f"{pad}  - {{Name: service, Value: {seen.SERVICE}}}\n"
    )


def one_metric(
    namespace: str, metric: str, dimensions: str, statistic: str, threshold: str, above: bool = False
) -> str:
    """An alarm's properties on one metric: it fires when a period's statistic reaches the threshold (or, `above`,
    passes it)."""
    operator = "GreaterThanThreshold" if above else "GreaterThanOrEqualToThreshold"
    return f"""\
      Namespace: {namespace}
      MetricName: {metric}
{dimensions}\
      Statistic: {statistic}
      Period: {PERIOD}
      EvaluationPeriods: 1
      Threshold: {threshold}
      ComparisonOperator: {operator}
"""


def aws_dimension(name: str, value: str) -> str:
    """One dimension of an AWS namespace's metric, as YAML at an alarm's Properties' indentation."""
    return f"      Dimensions:\n        - Name: {name}\n          Value: {value}\n"


def alarms_of(e: Endpoint) -> list[Alarm]:
    r = e.resource

    def share_metric(name: str, metric: seen.Declared) -> str:
        return f"""\
        - Id: {name}
          ReturnData: false
          MetricStat:
            Period: {PERIOD}
            Stat: Sum
            Metric:
              Namespace: {seen.NAMESPACE}
              MetricName: {metric.name}
{courier_dimensions(e, 14)}"""

    return [
        Alarm(
            "DeadLetterAlarm",
            "{name}: a message is in its dead-letter queue: its records were not delivered after 5 tries. Find the "
            "cause in the function's log (retry_reason), fix it, then run courier replay {name} --stack <stack>.",
            one_metric(
                "AWS/SQS",
                "ApproximateNumberOfMessagesVisible",
                aws_dimension("QueueName", f"!GetAtt {r}DeadLetterQueue.QueueName"),
                "Maximum",
                "1",
            ),
        ),
        Alarm(
            "OldestMessageAlarm",
            "{name}: the oldest message in its queue is older than OldestMessageAlarmSeconds: records are waiting "
            "(destination down or throttling, a refused key, too little concurrency). See the function's log and "
            "the dashboard's destination answers.",
            one_metric(
                "AWS/SQS",
                "ApproximateAgeOfOldestMessage",
                aws_dimension("QueueName", f"!GetAtt {r}Queue.QueueName"),
                "Maximum",
                "!Ref OldestMessageAlarmSeconds",
                above=True,
            ),
        ),
        Alarm(
            "UnauthorizedAlarm",
            "{name}: the destination answered 401 or 403: the key or token is wrong or lacks rights. Records stay "
            "queued; fix the secret (AppMetricaPostApiKeySecretName or AltcraftApiTokenSecretName) and they go out.",
            one_metric(seen.NAMESPACE, seen.ANSWERS_UNAUTHORIZED.name, courier_dimensions(e, 6), "Sum", "1"),
        ),
        Alarm(
            "RejectedShareAlarm",
            "{name}: more than RejectedShareAlarmPercent of its records were rejected. Read the reasons in "
            "s3://<DataBucket>/rejected/ and the reports, fix the data at its source (or the mapping) and send it "
            "again.",
            f"""\
      EvaluationPeriods: 1
      Threshold: !Ref RejectedShareAlarmPercent
      ComparisonOperator: GreaterThanThreshold
      Metrics:
        - Id: share
          Label: rejected, % of records settled
          Expression: IF(delivered + rejected > 0, 100 * rejected / (delivered + rejected), 0)
          ReturnData: true
{share_metric("delivered", seen.RECORDS_DELIVERED)}{share_metric("rejected", seen.RECORDS_REJECTED)}""",
        ),
        Alarm(
            "ErrorsAlarm",
            "{name}: the function failed (an error it did not handle; its messages come back and may reach the "
            "dead-letter queue). Read the error in its log group, fix it, then replay any dead letters.",
            one_metric("AWS/Lambda", "Errors", aws_dimension("FunctionName", f"!Ref {r}Function"), "Sum", "1"),
        ),
    ]


def alarms() -> str:
    return "".join(
        f"""\
  {e.resource}{alarm.suffix}:
    Type: AWS::CloudWatch::Alarm
    Properties:
      AlarmDescription: {json.dumps(alarm.description.format(name=e.name) + f" ({RUNBOOK})", ensure_ascii=False)}
      AlarmActions: [!Ref AlarmTopic]
      OKActions: [!Ref AlarmTopic]
      TreatMissingData: notBreaching
{alarm.properties}
"""
        for e in ENDPOINTS
        for alarm in alarms_of(e)
    )


def monitoring() -> str:
    return dashboard() + "\n" + alarms()


TEMPLATE_PARTS: dict[str, Callable[[], str]] = {
    "secret conditions": secret_conditions,
    "notifications": notifications,
    "queue policy": queue_policy,
    "functions": functions,
    "outputs": outputs,
    "monitoring": monitoring,
}


def fill(text: str, parts: dict[str, Callable[[], str]], comment: str) -> str:
    """Replaces what stands between each `<comment> generated: <part>` line and its `<comment> end: <part>` line."""
    for part, make in parts.items():
        start, end = (re.escape(f"{comment} {word}: {part}") for word in ("generated", "end"))
        pattern = re.compile(rf"(^[ \t]*{start}\b[^\n]*\n)(.*?)(^[ \t]*{end}\b)", re.S | re.M)
        match = pattern.search(text)
        if match is None:
            raise SystemExit(f"the markers of '{part}' are missing")
        text = text[: match.end(1)] + make() + text[match.start(3) :]
    return text


def template_text(current: str) -> str:
    return fill(current, TEMPLATE_PARTS, "#")


def _cell(text: str) -> str:
    return text.replace("|", "\\|")


def _row(*cells: str) -> str:
    return "| " + " | ".join(cells) + " |"


def _table(headings: tuple[str, ...], rows: Iterable[tuple[str, ...]]) -> str:
    """A Markdown table: its heading row, the rule under it, then a line per row (cells already escaped)."""
    lines = [_row(*headings), "|" + "---|" * len(headings), *(_row(*cells) for cells in rows)]
    return "\n".join(lines) + "\n"


def function_table() -> str:
    rows = (
        (f"`{e.name}`", _cell(e.destination.summary), f"`{e.name}/`", f"`POST {e.destination.route}`")
        for e in ENDPOINTS
    )
    return _table(("function", "what it does", "S3 prefix", "HTTPS route"), rows)


def metric_table() -> str:
    """Courier's own metrics, from their declarations."""
    rows = ((f"`{m.name}`", m.unit, _cell(m.meaning)) for m in seen.METRICS)
    return _table(("metric", "unit", "what it counts"), rows)


def alarm_table() -> str:
    """The alarms each function has, with what their descriptions tell the person they wake."""
    rows = (
        (f"`<Function>{alarm.suffix}`", _cell(alarm.description.format(name="<function>")).replace("<", "&lt;"))
        for alarm in alarms_of(ENDPOINTS[0])
    )
    return _table(("alarm", "what it means, what to do (its description)"), rows)


README_PARTS: dict[str, Callable[[], str]] = {"functions": function_table}


def readme_text(current: str) -> str:
    return fill(current, README_PARTS, "<!--")


# --- the documentation site (docs/) --------------------------------------------------------------------------------


def endpoint_page(e: Endpoint) -> str:
    """An endpoint's page: its record format, generated; what follows the markers is written by hand."""
    return f"# `{e.name}`\n\n<!-- generated: record format -->\n<!-- end: record format -->\n"


def record_format(e: Endpoint) -> str:
    lines = [
        e.destination.summary,
        "",
        f"Files under `s3://<DataBucket>/{e.name}/`, messages on its queue (`{e.resource}QueueUrl`), calls to "
        f"`POST {e.destination.route}`.",
        "",
        _table(
            ("field", "value", "required", "meaning"),
            (
                (f"`{f.name}`", _cell(f.kind), "yes" if f.required else "", _cell(f.description))
                for f in e.destination.declared
            ),
        ).removesuffix("\n"),
    ]
    if e.destination.rules:
        lines += ["", "Rules between fields:", "", *(f"- {rule}" for rule in e.destination.rules)]
    return "\n".join(lines) + "\n"


def docs_function_table() -> str:
    rows = (
        (f"[`{e.name}`](endpoints/{e.name}.md)", _cell(e.destination.summary), f"`POST {e.destination.route}`")
        for e in ENDPOINTS
    )
    return _table(("function", "what it does", "HTTPS route"), rows)


def endpoint_list() -> str:
    return "".join(f"- [`{e.name}`]({e.name}.md): {e.destination.summary}\n" for e in ENDPOINTS)


def _value(value: Any) -> str:
    if value is None or value == "":
        return "—"
    if isinstance(value, list):
        return ", ".join(f"`{item}`" for item in value)
    return f"`{str(value).lower() if isinstance(value, bool) else value}`"


def parameter_table() -> str:
    """Every parameter of template.yaml, with its default, allowed values and description."""
    rows = (
        (
            f"`{name}`",
            spec["Type"],
            _value(spec.get("Default")),
            _cell(_value(spec.get("AllowedValues"))),
            _cell(spec.get("Description", "")),
        )
        for name, spec in load_template()["Parameters"].items()
    )
    return _table(("parameter", "type", "default", "allowed", "what it sets"), rows)


# Variables the template sets that no Courier code reads (the runtime and Powertools do), said here once.
TEMPLATE_ONLY = {
    "POWERTOOLS_SERVICE_NAME": "the service name in every log line and metric (Powertools)",
    "POWERTOOLS_METRICS_NAMESPACE": "the CloudWatch namespace of the metrics (Powertools)",
    "POWERTOOLS_LOG_LEVEL": "the functions' log level (Powertools)",
    "GLIBC_TUNABLES": "glibc's mmap threshold, fixed so that sent request bodies go back to the OS (flat memory)",
}


def template_environment() -> dict[str, str]:
    """Each variable the template gives a function, and what sets it there."""
    template = load_template()
    parameters = template["Parameters"]
    bodies = [template["Globals"]["Function"]["Environment"]["Variables"]] + [
        resource["Properties"].get("Environment", {}).get("Variables", {})
        for resource in template["Resources"].values()
        if resource["Type"] == "AWS::Serverless::Function"
    ]
    found: dict[str, str] = {}
    for variables in bodies:
        for variable, value in variables.items():
            if isinstance(value, dict) and value.get("Ref") in parameters:
                found[variable] = f"parameter `{value['Ref']}`"
            elif isinstance(value, str):
                found[variable] = f"`{value}`"
            else:
                found[variable] = "the stack (its own resource)"
    return found


def configuration_table() -> str:
    """Every variable the functions read (the settings' declaration) and every other one the template sets."""
    set_by = template_environment()
    rows = []
    for field in Settings.model_fields.values():
        if not (field.alias and field.description):
            raise SystemExit(f"the setting {field.alias or field} needs a variable (alias) and a description")
        default = _value(field.default)
        rows.append((f"`{field.alias}`", _cell(field.description), default, set_by.get(field.alias, "—")))
    declared = {field.alias for field in Settings.model_fields.values()}
    for variable in sorted(set(set_by) - declared):
        if variable not in TEMPLATE_ONLY:
            raise SystemExit(f"template.yaml sets {variable}, which neither the settings nor TEMPLATE_ONLY describe")
        rows.append((f"`{variable}`", _cell(TEMPLATE_ONLY[variable]), "—", set_by[variable]))
    return _table(("variable", "meaning", "default (code)", "in the stack"), rows)


def required_table() -> str:
    """What each function cannot start without (courier.doors.entry), and what sets it."""
    rows = []
    for e in ENDPOINTS:
        required = ", ".join(
            f"`{variable}` ({source})" for variable, source in required_environment(e.destination).items()
        )
        rows.append((f"`{e.name}`", required))
    return _table(("function", "required at cold start"), rows)


def _commands(parser: argparse.ArgumentParser, prefix: str) -> list[str]:
    """One section per command, nested commands after their parent, each argument in a row."""
    sections: list[str] = []
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            helps = {choice.dest: choice.help for choice in action._choices_actions}
            for name, sub in action.choices.items():
                sections += _command(sub, f"{prefix} {name}", helps.get(name) or "")
    return sections


def _command(parser: argparse.ArgumentParser, name: str, help_text: str) -> list[str]:
    rows = []
    for action in parser._actions:
        if isinstance(action, argparse._HelpAction | argparse._SubParsersAction):
            continue
        spelled = ", ".join(action.option_strings) or action.dest.upper()
        detail = action.help or ""
        if action.choices and not action.option_strings:
            detail += ": " + ", ".join(f"`{choice}`" for choice in action.choices)
        if action.default not in (None, False, argparse.SUPPRESS) and action.option_strings:
            detail += f" (default `{action.default}`)" if not isinstance(action.default, Path) else ""
        optional = "" if action.required or not action.option_strings else "optional"
        if not action.option_strings and action.nargs == "?":
            optional = "optional"
        rows.append(_row(f"`{spelled}`", optional, _cell(detail)))
    usage = parser.format_usage().replace("usage: ", "").strip()
    usage = re.sub(r"\s+", " ", usage)
    section = [f"## `{name}`", "", f"{help_text[:1].upper()}{help_text[1:]}.", "", "```", usage, "```", ""]
    if rows:
        section += ["| argument | | what it is |", "|---|---|---|", *rows, ""]
    return ["\n".join(section), *_commands(parser, name)]


def command_reference() -> str:
    return "\n".join(_commands(build_parser(), "courier"))


DOCS_PARTS: dict[str, dict[str, Callable[[], str]]] = {
    "docs/index.md": {"functions": docs_function_table},
    "docs/endpoints/index.md": {"endpoints": endpoint_list},
    "docs/deploy.md": {"parameters": parameter_table},
    "docs/reference/configuration.md": {"configuration": configuration_table, "required": required_table},
    "docs/reference/cli.md": {"commands": command_reference},
    "docs/reference/metrics.md": {"metrics": metric_table, "alarms": alarm_table},
}


def nav_endpoints() -> str:
    return "".join(f"      - endpoints/{e.name}.md\n" for e in ENDPOINTS)


def _filler(parts: dict[str, Callable[[], str]]) -> Callable[[str], str]:
    return lambda current: fill(current, parts, "<!--")


def generators() -> dict[str, tuple[Callable[[str], str], Callable[[], str] | None]]:
    """Each generated file: how its text is made from what it holds now, and (pages made per endpoint) what a new
    one starts as."""
    made: dict[str, tuple[Callable[[str], str], Callable[[], str] | None]] = {
        "template.yaml": (template_text, None),
        "README.md": (readme_text, None),
        "mkdocs.yml": (lambda current: fill(current, {"endpoint pages": nav_endpoints}, "#"), None),
    }
    made |= {name: (_filler(parts), None) for name, parts in DOCS_PARTS.items()}
    for e in ENDPOINTS:
        made[f"docs/endpoints/{e.name}.md"] = (
            _filler({"record format": partial(record_format, e)}),
            partial(endpoint_page, e),
        )
    return made


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m infra.generate", description=__doc__)
    parser.add_argument("--check", action="store_true", help="fail if a file is out of date; write nothing")
    args = parser.parse_args(argv)
    stale = []
    for name, (make, start) in generators().items():
        path = ROOT / name
        current = path.read_text(encoding="utf-8") if path.exists() or start is None else start()
        wanted = make(current)
        if not path.exists() or wanted != current:
            stale.append(name)
            if not args.check:
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_text(wanted, encoding="utf-8")
    if stale and args.check:
        sys.exit(f"out of date: {', '.join(stale)} (run `make generate`)")
    print(f"rewrote {', '.join(stale)}" if stale else "up to date")


if __name__ == "__main__":
    main()
