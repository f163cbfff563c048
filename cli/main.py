"""`courier`: one file through exactly the code path a dropped file takes, and dead letters back to their queue.

courier send FUNCTION FILE            on the embedded sandbox (moto + emulators): the file is dropped in the
                                      sandbox bucket and the function's queue is processed
courier send FUNCTION FILE --dry-run  validate and build, print counts, the first built rows and every refused
                                      row with its reason; nothing is sent
courier send FUNCTION FILE --live     to the real API, keys and settings from the environment
courier send … --mapping MAPPING.yaml the file's records go through the mapping first (in every mode)
courier replay FUNCTION               dead-letter messages back to the function's queue (receive → send → delete)
courier status [--stack NAME]         each function's health: queues, dead letters, the last hours' delivered,
                                      rejected and pending, and a verdict (the running sandbox, or a stack on AWS)
courier fields FUNCTION               the record format the function takes: its declared fields and rules
courier mapping check FUNCTION MAPPING.yaml [SAMPLE]
                                      validate a mapping (every problem with its line; exit code 2 when any); with
                                      a sample file, print its first mapped records and every refusal
courier mapping put FUNCTION MAPPING.yaml --stack NAME | --bucket NAME
                                      check a mapping, then upload it to mappings/FUNCTION/<its name>.yaml
"""

from __future__ import annotations

import argparse
import importlib
import io
import json
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
LOCAL_SECONDS = 24 * 3600.0  # a local send has no invocation limit: a day
SANDBOX_LOG = ROOT / "out" / "sandbox" / "functions.log"  # where `make sandbox` writes the functions' output
for _path in (ROOT / "layers" / "common", ROOT):  # as in Lambda: the layer and the function folders importable
    if str(_path) not in sys.path:
        sys.path.insert(0, str(_path))


def functions() -> list[str]:
    """The functions template.yaml declares."""
    from infra.template import function_wirings, load_template

    return list(function_wirings(load_template()))


def destination_of(function: str) -> Any:
    from courier.model import Destination

    module = importlib.import_module(f"functions.{function}.app")
    return next(value for value in vars(module).values() if isinstance(value, Destination))


class Progress(io.RawIOBase):
    """A file that moves a progress bar (bytes read) as it is read."""

    def __init__(self, path: Path, offset: int = 0) -> None:
        from tqdm import tqdm

        self._file = path.open("rb")
        self._file.seek(offset)
        size = path.stat().st_size
        self._bar = tqdm(total=size, initial=offset, unit="B", unit_scale=True, desc=path.name, file=sys.stderr)

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        count = self._file.readinto(buffer)
        self._bar.update(count)
        return count

    def close(self) -> None:
        self._bar.close()
        self._file.close()
        super().close()


@dataclass
class DryRunSender:
    """Builds every request and keeps the first rows; sends nothing."""

    max_rows: int
    max_chars: int
    show: int
    requests: int = 0
    built: list[str] = field(default_factory=list)

    def may_resend(self, batch: Any) -> bool:
        return False

    def send(self, batch: Any, deadline: float) -> Any:
        from courier.model import SendResult, Status

        self.requests += 1
        if len(self.built) < self.show:
            self.built += batch.sample(self.show - len(self.built) + 1)
        return SendResult(Status.DELIVERED)


def load_mapping(function: str, path: Path) -> Any:
    """The mapping file compiled for the function; MappingError (every problem with its line) when it is invalid."""
    from courier.mappings import check_name
    from courier.mappings.rules import parse

    return parse(path.read_text(encoding="utf-8-sig"), destination_of(function), check_name(path.stem))


def send_local(
    function: str, path: Path, dry_run: bool, show: int, out: Callable[[str], None], mapping: Any = None
) -> dict[str, Any]:
    """The file read and delivered here, with the code a dropped file runs (dry run: built, not sent); through
    `mapping` (a compiled one) when given."""
    from courier.delivery.driver import Budget
    from courier.delivery.ledger import MemoryLedger
    from courier.delivery.preparation import preparation
    from courier.delivery.tally import Tally
    from courier.doors.files import FileRun, deliver_file
    from courier.settings import get_settings
    from courier.sources.files import UnreadableFileError

    destination = destination_of(function)
    settings = get_settings()
    real = destination.make_sender(settings)
    sender = DryRunSender(real.max_rows, real.max_chars, show) if dry_run else real
    refused: list[tuple[int, list[str]]] = []
    streams: list[Progress] = []

    def open_at(offset: int) -> io.BufferedReader:
        streams.append(Progress(path, offset))
        return io.BufferedReader(streams[-1], 1 << 20)

    problem = ""
    now = time.time()
    budget = Budget(deadline=now + LOCAL_SECONDS, hard_end=now + LOCAL_SECONDS + 60)
    run = FileRun(on_reject=lambda index, errors: refused.append((index, errors)))
    try:
        setup = preparation(destination, settings, mapping)
        deliver_file(run, open_at, path.name, None, destination, setup, sender, budget, MemoryLedger(), f"file:{path}")
    except UnreadableFileError as error:
        problem = str(error)
    finally:
        for stream in streams:
            stream.close()
    tally = run.delivery.tally if run.delivery is not None else Tally()
    if isinstance(sender, DryRunSender):
        out(f"would send {sender.requests} request(s); the first rows as built:")
        for line in sender.built[: show + 1]:
            out(f"  {line}")
    for index, errors in refused:
        out(f"refused row {index}: {'; '.join(errors)}")
    summary = tally.as_dict()
    if dry_run and summary:
        summary["would_send"] = summary.pop("delivered")
    return {"function": function, "file": str(path), "dry_run": dry_run, "problem": problem, **summary}


def send_on_sandbox(
    function: str, path: Path, out: Callable[[str], None], mapping: Path | None = None
) -> dict[str, Any] | None:
    """The file dropped in the embedded sandbox's bucket and processed by the function's queue, as in AWS (with a
    mapping: checked, put at mappings/<function>/<name>.yaml, the file dropped under <function>/<name>/; None,
    nothing sent, when it is invalid). The functions' own JSON logs go to out/send/functions.log."""
    from sandbox.runner import functions_output

    log = ROOT / "out" / "send" / "functions.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    notes: list[str] = []
    with log.open("w", encoding="utf-8") as handle, functions_output(handle):
        if mapping is not None and check_mapping(function, mapping, None, 0, notes.append):
            report, rejected = None, ""
        else:
            report, rejected = _send_on_sandbox(function, path, mapping)
    for note in notes:
        out(note)
    if rejected:
        out("refused rows (rejected file):")
        out(rejected)
    out(f"the functions' logs: {log}")
    return report


def _send_on_sandbox(function: str, path: Path, mapping: Path | None) -> tuple[dict[str, Any], str]:
    from courier.mappings.store import mapping_key
    from sandbox.runner import QUICK_WINDOW, Sandbox

    with Sandbox(batching_window=QUICK_WINDOW) as sandbox:
        key = f"{function}/{path.name}"
        if mapping is not None:
            sandbox.s3.upload_file(str(mapping), sandbox.bucket, mapping_key(function, mapping.stem))
            key = f"{function}/{mapping.stem}/{path.name}"
        sandbox.s3.upload_file(str(path), sandbox.bucket, key)
        sandbox.settle(timeout=3600)
        report: dict[str, Any] = json.loads(
            sandbox.s3.get_object(Bucket=sandbox.bucket, Key=f"reports/{key}.json")["Body"].read()
        )
        rejected = ""
        if report.get("rejected_file"):
            body = sandbox.s3.get_object(Bucket=sandbox.bucket, Key=f"rejected/{key}.csv")["Body"].read()
            rejected = body.decode("utf-8").rstrip()
        return report, rejected


def replay(sqs: Any, dlq_url: str, queue_url: str, limit: int | None = None) -> int:
    """Dead-letter messages back to the queue: receive → send → delete, so none is lost on the way."""
    from courier.doors.messages import ORIGIN_ATTRIBUTE

    moved = 0
    while limit is None or moved < limit:
        messages = sqs.receive_message(
            QueueUrl=dlq_url, MaxNumberOfMessages=10, WaitTimeSeconds=0, MessageAttributeNames=["All"]
        ).get("Messages", [])
        if not messages:
            break
        for message in messages[: None if limit is None else limit - moved]:
            # The copy keeps the original's attributes and identity, so the ledger knows what of it went out already
            attributes = {
                name: {"DataType": value["DataType"], "StringValue": value["StringValue"]}
                for name, value in message.get("MessageAttributes", {}).items()
                if "StringValue" in value
            }
            attributes.setdefault(ORIGIN_ATTRIBUTE, {"DataType": "String", "StringValue": message["MessageId"]})
            sqs.send_message(QueueUrl=queue_url, MessageBody=message["Body"], MessageAttributes=attributes)
            sqs.delete_message(QueueUrl=dlq_url, ReceiptHandle=message["ReceiptHandle"])
            moved += 1
    return moved


def stack_outputs(stack: str) -> dict[str, str]:
    import boto3

    outputs = boto3.client("cloudformation").describe_stacks(StackName=stack)["Stacks"][0]["Outputs"]
    return {output["OutputKey"]: output["OutputValue"] for output in outputs}


def stack_queues(function: str, stack: str) -> tuple[str, str]:
    """The function's queue and dead-letter queue from the deployed stack's outputs."""
    from infra.template import function_wirings, load_template

    wiring = function_wirings(load_template())[function]
    values = stack_outputs(stack)
    return values[f"{wiring.queue_id}Url"], values[f"{wiring.dlq_id}Url"]


def status(stack: str | None, hours: float, log: Path, out: Callable[[str], None]) -> int:
    """Prints each function's health; 1 when one needs something done."""
    import os

    import boto3

    from cli.status import CALM, on_sandbox, on_stack, render

    if stack:
        healths, limits = on_stack(stack, hours)
    else:  # the running sandbox (`make sandbox`), any credentials
        port = os.environ.get("SANDBOX_AWS_PORT", "4566")
        endpoint = os.environ.get("AWS_ENDPOINT_URL") or f"http://127.0.0.1:{port}"
        sqs = boto3.client(
            "sqs",
            endpoint_url=endpoint,
            region_name="us-east-1",
            aws_access_key_id="sandbox",
            aws_secret_access_key="sandbox",  # noqa: S106  (the sandbox takes any credentials)
        )
        healths, limits = on_sandbox(sqs, log, hours)
    for line in render(healths, limits, hours, f"stack {stack}" if stack else "sandbox"):
        out(line)
    return 0 if all(health.verdict(limits) in CALM for health in healths) else 1


def check_mapping(function: str, path: Path, sample: Path | None, show: int, out: Callable[[str], None]) -> int:
    """0 when the mapping is valid (and, with a sample, its records are mapped and checked as a dry run); 2 with
    every problem of the document, each with its line."""
    from courier.mappings.rules import MappingError

    try:
        mapping = load_mapping(function, path)
    except (MappingError, ValueError) as error:
        for problem in getattr(error, "problems", [str(error)]):
            out(f"{path}: {problem}")
        return 2
    out(f"{path}: a valid mapping for {function} (mapping {mapping.name})")
    if sample is None:
        return 0
    summary = send_local(function, sample, True, show, out, mapping)
    out(json.dumps(summary, indent=2, ensure_ascii=False))
    return 1 if summary.get("problem") else 0


def put_mapping(function: str, path: Path, bucket: str, out: Callable[[str], None]) -> int:
    """Checks the mapping, then uploads it where the function reads it; 2 (nothing uploaded) when it is invalid."""
    import boto3

    from courier.mappings.store import mapping_key

    if check_mapping(function, path, None, 0, out):
        return 2
    key = mapping_key(function, path.stem)
    boto3.client("s3").upload_file(str(path), bucket, key)
    out(
        f"uploaded to s3://{bucket}/{key}: {function} uses it for files under {function}/{path.stem}/, messages "
        f"with the attribute mapping={path.stem} and calls with ?mapping={path.stem}"
    )
    return 0


def record_format(destination: Any) -> str:
    """The function's declared fields, one a line, and its rules between fields."""
    width = max((len(declared.name) for declared in destination.declared), default=0)
    lines = [f"{destination.name}: {destination.summary}", ""]
    for declared in destination.declared:
        required = "required; " if declared.required else ""
        lines.append(f"  {declared.name:<{width}}  {required}{declared.kind}: {declared.description}")
    lines += ["", *(f"- {rule}" for rule in destination.rules)] if destination.rules else []
    return "\n".join(lines)


def build_parser() -> argparse.ArgumentParser:
    """The command's arguments (docs/reference/cli.md is generated from them)."""
    from cli.status import DEFAULT_HOURS

    parser = argparse.ArgumentParser(prog="courier", description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True)
    send = commands.add_parser("send", help="push one local file through a function")
    send.add_argument(
        "function", choices=functions(), metavar="FUNCTION", help="the function (its folder under functions/)"
    )
    send.add_argument("file", type=Path, help="a .csv, .jsonl, .ndjson or .json file, optionally .gz")
    where = send.add_mutually_exclusive_group()
    where.add_argument("--dry-run", action="store_true", help="validate and build only; send nothing")
    where.add_argument("--live", action="store_true", help="send to the real API (settings from the environment)")
    send.add_argument("--show", type=int, default=5, help="built rows to print with --dry-run")
    send.add_argument("--mapping", type=Path, help="a mapping file (MAPPING.yaml) the records go through first")
    again = commands.add_parser("replay", help="move dead-letter messages back to the function's queue")
    again.add_argument(
        "function", choices=functions(), metavar="FUNCTION", help="the function (its folder under functions/)"
    )
    again.add_argument("--stack", help="a deployed stack's name (its outputs name the queues)")
    again.add_argument("--queue-url", help="the function's queue (without --stack)")
    again.add_argument("--dlq-url", help="its dead-letter queue (without --stack)")
    again.add_argument("--limit", type=int, help="move at most this many messages")
    fields = commands.add_parser("fields", help="the record format a function takes")
    fields.add_argument(
        "function", choices=functions(), metavar="FUNCTION", help="the function (its folder under functions/)"
    )
    health = commands.add_parser("status", help="each function's health: queues, dead letters, records, a verdict")
    health.add_argument("--stack", help="a deployed stack's name (default: the running sandbox, `make sandbox`)")
    health.add_argument("--hours", type=float, default=DEFAULT_HOURS, help="how far back the counts go (default 3)")
    health.add_argument("--log", type=Path, default=SANDBOX_LOG, help="the sandbox: the functions' log (EMF lines)")
    mappings = commands.add_parser("mapping", help="check a mapping, or put it in a stack's bucket")
    mapping_commands = mappings.add_subparsers(dest="mapping_command", required=True)
    check = mapping_commands.add_parser("check", help="validate a mapping; with a sample, map and check its records")
    check.add_argument(
        "function", choices=functions(), metavar="FUNCTION", help="the function (its folder under functions/)"
    )
    check.add_argument("mapping", type=Path, help="the mapping document (MAPPING.yaml)")
    check.add_argument("sample", type=Path, nargs="?", help="a sample file whose first records are mapped and checked")
    check.add_argument("--show", type=int, default=5, help="mapped records to print")
    put = mapping_commands.add_parser("put", help="check a mapping, then upload it to mappings/FUNCTION/")
    put.add_argument(
        "function", choices=functions(), metavar="FUNCTION", help="the function (its folder under functions/)"
    )
    put.add_argument("mapping", type=Path, help="the mapping document (MAPPING.yaml)")
    bucket = put.add_mutually_exclusive_group(required=True)
    bucket.add_argument("--stack", help="a deployed stack's name (its output DataBucketName names the bucket)")
    bucket.add_argument("--bucket", help="the data bucket itself (a running sandbox's, with AWS_ENDPOINT_URL)")
    return parser


def main(argv: Sequence[str] | None = None, out: Callable[[str], None] = print) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command == "status":
        return status(args.stack, args.hours, args.log, out)
    if args.command == "fields":
        out(record_format(destination_of(args.function)))
        return 0
    if args.command == "mapping":
        for path in (args.mapping, getattr(args, "sample", None)):
            if path is not None and not path.is_file():
                parser.error(f"no such file: {path}")
        if args.mapping_command == "check":
            return check_mapping(args.function, args.mapping, args.sample, args.show, out)
        bucket_name = args.bucket or stack_outputs(args.stack)["DataBucketName"]
        return put_mapping(args.function, args.mapping, bucket_name, out)
    if args.command == "send":
        for path in (args.file, args.mapping):
            if path is not None and not path.is_file():
                parser.error(f"no such file: {path}")
        if args.dry_run or args.live:
            if args.mapping is not None and check_mapping(args.function, args.mapping, None, 0, out):
                return 2
            mapping = load_mapping(args.function, args.mapping) if args.mapping is not None else None
            summary = send_local(args.function, args.file, args.dry_run, args.show, out, mapping)
        else:
            sent = send_on_sandbox(args.function, args.file, out, args.mapping)
            if sent is None:
                return 2
            summary = sent
        out(json.dumps(summary, indent=2, ensure_ascii=False))
        return 1 if summary.get("problem") or summary.get("pending") else 0
    import boto3

    if args.stack:
        queue_url, dlq_url = stack_queues(args.function, args.stack)
    elif args.queue_url and args.dlq_url:
        queue_url, dlq_url = args.queue_url, args.dlq_url
    else:
        parser.error("name the queues: --stack NAME, or --queue-url and --dlq-url")
    moved = replay(boto3.client("sqs"), dlq_url, queue_url, args.limit)
    out(f"moved {moved} message(s) from the dead-letter queue back to {args.function}'s queue")
    return 0


if __name__ == "__main__":
    sys.exit(main())
