"""`courier replay` against moto: dead letters back to their queue, none lost on the way."""

from __future__ import annotations

import json

from sandbox.cli import main
from tests.conftest import Aws


def test_courier_replay_moves_dead_letters_back(aws: Aws) -> None:
    # Given two messages in a function's dead-letter queue
    queue, dlq = aws.queue_url("appmetrica_profiles"), aws.dlq_url("appmetrica_profiles")
    aws.sqs.purge_queue(QueueUrl=queue)
    for n in range(2):
        aws.sqs.send_message(QueueUrl=dlq, MessageBody=json.dumps({"profile_id": f"r{n}"}))
    lines: list[str] = []
    # When `courier replay` runs
    assert main(["replay", "appmetrica_profiles", "--queue-url", queue, "--dlq-url", dlq], out=lines.append) == 0
    # Then both are on the queue and none is left in the dead-letter queue
    moved = aws.sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10)["Messages"]
    assert sorted(json.loads(m["Body"])["profile_id"] for m in moved) == ["r0", "r1"]
    assert aws.sqs.receive_message(QueueUrl=dlq).get("Messages", []) == []
    assert lines == ["moved 2 message(s) from the dead-letter queue back to appmetrica_profiles's queue"]
