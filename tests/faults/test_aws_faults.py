"""AWS misbehaving under the function: the delivery ledger's writes failing, an S3 read cut mid-file."""

from __future__ import annotations

import pytest

from tests.faults.harness import EVENTS, World, event_blocks, ids, recent
from tests.faults.proxy import DynamoWriteFaults, S3ReadFault


@pytest.mark.slow
def test_ledger_writes_failing_half_the_time_send_nothing_twice(world: World) -> None:
    # Given a file of 45,000 events and five SQS messages of 200 records each
    key = f"{EVENTS}/ledger-faults.csv"
    world.put_file(key, event_blocks("ledger", 45_000, recent()))
    stamp = recent()
    for message in range(5):
        batch = ids(f"msg{message}", 200)
        world.send_records([{"profile_id": i, "event_name": "open", "event_timestamp": stamp} for i in batch])
    # And half of the ledger's DynamoDB writes fail: a throttle (nothing written), or a 500 (written or not)
    world.proxy.dynamo = DynamoWriteFaults(rate=0.5, applied_share=0.5, seed=7)
    # When the function delivers everything, retried messages coming back quickly
    world.drain(timeout=6, batch_size=3, budget=90)
    # And once DynamoDB is well again, what reached the dead-letter queue is replayed (as `courier replay` does)
    world.proxy.dynamo = None
    world.replay_dead_letters()
    world.drain(timeout=6, batch_size=3, budget=60)
    # Then each record arrived once or was rejected with a reason, and the file's report matches
    expected = ids("ledger", 45_000) + [i for m in range(5) for i in ids(f"msg{m}", 200)]
    world.assert_sound(expected, files={key: ids("ledger", 45_000)})


@pytest.mark.parametrize("mode", ["reset", "stall"])
def test_an_s3_read_cut_mid_file_is_read_again_and_sends_nothing_twice(world: World, mode: str) -> None:
    # Given a file of 100,000 events (about 2.6 MB)
    key = f"{EVENTS}/cut-{mode}.csv"
    world.put_file(key, event_blocks(f"cut{mode}", 100_000, recent()))
    # And its first read breaks after 1 MB: the connection reset, or stalled for 20 s and then closed (once)
    world.proxy.s3_faults.append(S3ReadFault(key, after_bytes=1_000_000, mode=mode, stall_seconds=20.0))
    # When the function (10 s timeout) delivers it
    world.drain(timeout=10, budget=90)
    # Then no invocation outlived its time, every row arrived once, and the report says so
    world.assert_sound(ids(f"cut{mode}", 100_000), files={key: ids(f"cut{mode}", 100_000)})
