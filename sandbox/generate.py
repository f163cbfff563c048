"""`python -m sandbox.generate` (`make generate`): writes what repeats per endpoint from the one registry
(courier.destinations.registry) into template.yaml and README.md, between their `generated:` markers; the rest of
both files is written by hand. `--check` writes nothing and fails when either file is out of date (CI runs it)."""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections.abc import Callable
from pathlib import Path

from courier.destinations.registry import ENDPOINTS, Endpoint

ROOT = Path(__file__).resolve().parent.parent
BUCKET_ARN = "arn:${AWS::Partition}:s3:::${AWS::StackName}-data-${AWS::AccountId}-${AWS::Region}"
SECRET_ARN = "arn:${AWS::Partition}:secretsmanager:${AWS::Region}:${AWS::AccountId}:secret:${%s}-??????"  # noqa: S105  (a secret's ARN, not a secret)
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


TEMPLATE_PARTS: dict[str, Callable[[], str]] = {
    "notifications": notifications,
    "queue policy": queue_policy,
    "functions": functions,
    "outputs": outputs,
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


README_PARTS: dict[str, Callable[[], str]] = {"functions": function_table, "record formats": record_formats}


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
