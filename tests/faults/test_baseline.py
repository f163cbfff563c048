"""The control: with no fault injected, the harness finds nothing wrong. A failure here is the harness's or a plain
regression, not a fault-handling one."""

from __future__ import annotations

from tests.faults.harness import EVENTS, World, event_blocks, ids, recent


def test_without_faults_every_row_arrives_once_and_the_report_matches(world: World) -> None:
    # Given a file of 25,000 events and two SQS messages of 100 records
    key = f"{EVENTS}/plain.csv"
    world.put_file(key, event_blocks("plain", 25_000, recent()))
    stamp = recent()
    for message in range(2):
        world.send_records(
            [{"profile_id": i, "event_name": "open", "event_timestamp": stamp} for i in ids(f"plain{message}m", 100)]
        )
    # When the function delivers everything, two messages at a time
    world.drain(timeout=10, batch_size=2)
    # Then each record arrived exactly once, the report is complete and matches, no invocation overran
    expected = ids("plain", 25_000) + ids("plain0m", 100) + ids("plain1m", 100)
    world.assert_sound(expected, files={key: ids("plain", 25_000)})
    assert len(world.standin.requests()) == 4, world.timeline()
