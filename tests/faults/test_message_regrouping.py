"""Records of many messages share requests: SQS redelivering any subset in any grouping, now and then to two
invocations at once, while the destination fails some requests, must still deliver each record once."""

from __future__ import annotations

import json
import random
import threading
import uuid
from typing import Any

from sandbox.lambda_runtime import sqs_event
from tests.faults.harness import Invocation, World, ids, recent
from tests.faults.standin import after_taking, not_taken

MESSAGES = 120


def receive_all(world: World, count: int) -> list[dict[str, Any]]:
    """Every message once, hidden for long: the test hands them to invocations itself, as it pleases."""
    found: dict[str, dict[str, Any]] = {}
    while len(found) < count:
        for message in world.sqs.receive_message(
            QueueUrl=world.queue_url(),
            MaxNumberOfMessages=10,
            VisibilityTimeout=3600,
            AttributeNames=["All"],
            MessageAttributeNames=["All"],
        ).get("Messages", []):
            found.setdefault(message["MessageId"], message)
    return list(found.values())


def test_regrouped_redeliveries_and_double_handovers_send_each_record_once(world: World) -> None:
    # Given 120 messages of 1 to 5 events each
    rng = random.Random(12)
    stamp = recent()
    records: dict[str, list[str]] = {}
    expected: list[str] = []
    for n in range(MESSAGES):
        record_ids = ids(f"rg{n}-", rng.randint(1, 5))
        world.send_records([{"profile_id": i, "event_name": "open", "event_timestamp": stamp} for i in record_ids])
        expected += record_ids
    messages = receive_all(world, MESSAGES)
    for message in messages:
        records[message["MessageId"]] = [r["profile_id"] for r in json.loads(message["Body"])]
    arn = world.queue_arn()
    done: set[str] = set()
    problems: list[str] = []

    def run(batch: list[dict[str, Any]]) -> Invocation:
        invocation = world.invoke(sqs_event(batch, arn), timeout=15)
        invocation.messages = [m["MessageId"] for m in batch]
        if invocation.answered:
            failed = set(invocation.failed_messages())
            done.update(m["MessageId"] for m in batch if m["MessageId"] not in failed)
        return invocation

    def check_done() -> None:
        """A message reported done has every record delivered or rejected with a reason."""
        rejected = world.rejections().by_id
        for message_id in done:
            missing = [r for r in records[message_id] if not world.standin.delivered[r] and r not in rejected]
            if missing:
                problems.append(f"message {message_id} reported done with {missing} neither delivered nor rejected")

    # When the destination refuses one request (503, nothing taken) and answers another 502 after taking its rows
    world.standin.script(not_taken(503), times=1, after=1)
    world.standin.script(after_taking(502), times=1, after=1)
    # And SQS hands over random groups, some of them to two invocations at once, over several rounds
    for _ in range(4):
        shuffled = rng.sample(messages, k=len(messages) // 2)
        groups = [shuffled[i : i + 20] for i in range(0, len(shuffled), 20)]
        for first, second in zip(groups[::2], groups[1::2], strict=False):
            overlap = first[:5] + second  # five messages in both invocations at the same time
            threads = [threading.Thread(target=run, args=(batch,)) for batch in (first, overlap)]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
        if len(groups) % 2:
            run(groups[-1])
        check_done()
    # And at last every message is handed over until each reports done
    for _ in range(6):
        left = [m for m in messages if m["MessageId"] not in done]
        if not left:
            break
        for start in range(0, len(left), 50):
            run(left[start : start + 50])
    check_done()
    # Then every record arrived exactly once or was rejected with a reason, and every message ended done
    assert not problems, problems[:5]
    assert {m["MessageId"] for m in messages} == done, world.timeline()
    world.assert_sound(expected)


def test_a_thousand_single_event_messages_take_one_request_and_two_ledger_writes_each(world: World) -> None:
    # Given 1,000 messages of one event each in one invocation, as the event source mapping hands them over at the
    # template's default batch size (made here: receiving 1,000 messages from moto takes minutes)
    stamp = recent()
    messages: list[dict[str, Any]] = [
        {
            "MessageId": str(uuid.uuid4()),
            "ReceiptHandle": f"handle-{n}",
            "Body": json.dumps([{"profile_id": record_id, "event_name": "open", "event_timestamp": stamp}]),
            "Attributes": {"ApproximateReceiveCount": "1"},
        }
        for n, record_id in enumerate(ids("one", 1000))
    ]
    calls_before = dict(world.proxy.dynamo_calls)
    # When the function runs
    invocation = world.invoke(sqs_event(messages, world.queue_arn()), timeout=30)
    invocation.messages = [str(m["MessageId"]) for m in messages]
    # Then no message comes back, one request carried every event, and the ledger read the messages in batches of
    # 100 and wrote each twice (sending, done) with a plain conditional put: two write units, no transaction
    assert invocation.failed_messages() == [], world.timeline()
    assert [request.rows for request in world.standin.requests()] == [1000]
    made = {name: count - calls_before.get(name, 0) for name, count in world.proxy.dynamo_calls.items()}
    assert {name: count for name, count in made.items() if count} == {"BatchGetItem": 10, "PutItem": 2000}, made
    world.assert_sound(ids("one", 1000))
