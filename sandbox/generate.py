"""`python -m sandbox.generate` (`make generate`): writes what repeats per endpoint from the one registry
(courier.destinations.registry) into template.yaml and README.md, between their `generated:` markers; the rest of
both files is written by hand. `--check` writes nothing and fails when either file is out of date (CI runs it)."""

from __future__ import annotations

import argparse
import json
import re
import sys
import textwrap
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from courier import observability as seen
from courier.destinations.registry import ENDPOINTS, Endpoint

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


def function_table() -> str:
    rows = "".join(
        f"| `{e.name}` | {_cell(e.destination.summary)} | `{e.name}/` | `POST {e.destination.route}` |\n"
        for e in ENDPOINTS
    )
    return "| function | what it does | S3 prefix | HTTPS route |\n|---|---|---|---|\n" + rows


def record_formats() -> str:
    """One table per endpoint, from its declared fields, and its rules between fields."""
    sections = []
    for e in ENDPOINTS:
        lines = [f"### `{e.name}`", "", e.destination.summary, "", "| field | value | required | meaning |"]
        lines.append("|---|---|---|---|")
        for field in e.destination.declared:
            required = "yes" if field.required else ""
            lines.append(f"| `{field.name}` | {_cell(field.kind)} | {required} | {_cell(field.description)} |")
        lines += ["", *(f"- {rule}" for rule in e.destination.rules)] if e.destination.rules else []
        sections.append("\n".join(lines) + "\n")
    return "\n".join(sections)


def metric_table() -> str:
    """Courier's own metrics, from their declarations."""
    rows = "".join(f"| `{m.name}` | {m.unit} | {_cell(m.meaning)} |\n" for m in seen.METRICS)
    return "| metric | unit | what it counts |\n|---|---|---|\n" + rows


def alarm_table() -> str:
    """The alarms each function has, with what their descriptions tell the person they wake."""
    rows = "".join(
        f"| `<Function>{alarm.suffix}` | {_cell(alarm.description.format(name='<function>')).replace('<', '&lt;')} |\n"
        for alarm in alarms_of(ENDPOINTS[0])
    )
    return "| alarm | what it means, what to do (its description) |\n|---|---|\n" + rows


README_PARTS: dict[str, Callable[[], str]] = {
    "functions": function_table,
    "record formats": record_formats,
    "metrics": metric_table,
    "alarms": alarm_table,
}


def readme_text(current: str) -> str:
    return fill(current, README_PARTS, "<!--")


GENERATORS: dict[str, Callable[[str], str]] = {"template.yaml": template_text, "README.md": readme_text}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m sandbox.generate", description=__doc__)
    parser.add_argument("--check", action="store_true", help="fail if a file is out of date; write nothing")
    args = parser.parse_args(argv)
    stale = []
    for name, make in GENERATORS.items():
        path = ROOT / name
        current = path.read_text(encoding="utf-8")
        wanted = make(current)
        if wanted != current:
            stale.append(path.name)
            if not args.check:
                path.write_text(wanted, encoding="utf-8")
    if stale and args.check:
        sys.exit(f"out of date: {', '.join(stale)} (run `make generate`)")
    print(f"rewrote {', '.join(stale)}" if stale else "up to date")


if __name__ == "__main__":
    main()
