"""Time: a back-off that carries rows out of AppMetrica's window, many files in one short invocation, a file far
longer than one invocation, and a synchronous HTTPS call against a throttling destination."""

from __future__ import annotations

import json

import pytest

from sandbox.lambda_runtime import api_gateway_event
from tests.faults.harness import EVENTS, WINDOW_SECONDS, World, event_blocks, ids, recent, run_problems
from tests.faults.standin import not_taken


@pytest.mark.slow
def test_rows_a_back_off_moves_out_of_the_window_are_rejected_not_dropped(world: World) -> None:
    # Given a file of 500 events 14 days minus 20 seconds old: inside AppMetrica's window, for now
    key = f"{EVENTS}/window-edge.csv"
    world.put_file(key, event_blocks("edge", 500, recent(WINDOW_SECONDS - 20)))
    # And AppMetrica unavailable (503, nothing taken) for the first invocation, so the message is retried later
    world.standin.script_for(not_taken(503), seconds=10)
    # When the function delivers it, the message coming back when the function's own back-off (or a 30 s
    # visibility timeout) says, by which time the rows are outside the window
    world.drain(timeout=8, visibility=30, honour_backoff=True, budget=75)
    # Then no row was sent to be dropped silently: each arrived inside the window once, or was rejected with a reason
    world.assert_sound(ids("edge", 500), files={key: ids("edge", 500)})


def test_ten_files_in_one_batch_with_a_short_timeout(world: World) -> None:
    # Given ten files of 20,000 events each, announced together
    files = {f"{EVENTS}/batch/file-{n}.csv": ids(f"batch{n}", 20_000) for n in range(10)}
    stamp = recent()
    for n, key in enumerate(files):
        world.put_file(key, event_blocks(f"batch{n}", 20_000, stamp))
    # When the function (3 s timeout) receives all ten notifications in one batch, and whatever follows
    invocations = world.drain(timeout=3, batch_size=10, budget=120)
    assert len(invocations[0].messages) == 10, world.timeline()
    # Then no invocation outlived its time, and every row of every file arrived once, each report complete
    world.assert_sound([i for rows in files.values() for i in rows], files=files)


@pytest.mark.slow
def test_a_million_rows_in_two_second_invocations_continue_where_they_stopped(world: World) -> None:
    # Given a file of 1,000,000 events (about 30 MB)
    key = f"{EVENTS}/million.csv"
    world.put_file(key, event_blocks("million", 1_000_000, recent(), block_rows=50_000))
    # When the function, with 2 s invocations, works through it (continuation after continuation)
    world.drain(timeout=2, batch_size=1, budget=120, max_invocations=200)
    # Then every row arrived exactly once, in file order, each invocation taking up where the last stopped
    expected = ids("million", 1_000_000)
    problems = world.verdict(expected, files={key: expected})
    problems += run_problems(world.standin, "million-", 1_000_000)
    world.fail_if(problems)


@pytest.mark.slow
def test_a_sync_https_call_against_a_throttling_destination_answers_in_time_and_queues_the_rest(
    world: World,
) -> None:
    # Given 3,000 events posted with ?mode=sync, and AppMetrica throttling (429, Retry-After 3) for 30 s
    stamp = recent()
    records = [{"profile_id": i, "event_name": "open", "event_timestamp": stamp} for i in ids("sync", 3000)]
    world.standin.script_for(not_taken(429, retry_after=3), seconds=30)
    event = api_gateway_event(world.route(), json.dumps(records), query={"mode": "sync"})
    # When the call is handled (the function's own timeout is long; API Gateway gives up after 29 s)
    call = world.invoke(event, timeout=60)
    # Then the answer came in under 29 s, delivered + queued + rejected accounting for every record
    problems = []
    if not call.answered or call.seconds >= 29:
        problems.append(f"the sync call did not answer within API Gateway's 29 s: {call.describe().strip()}")
    else:
        answer = call.answer if isinstance(call.answer, dict) else {}
        body = json.loads(answer.get("body") or "{}")
        counted = int(body.get("delivered", 0)) + int(body.get("queued", 0)) + len(body.get("rejected", []))
        if answer.get("statusCode") not in (200, 202) or counted != len(records):
            problems.append(f"the answer does not account for {len(records)} records: {answer}")
    # And delivering the queue afterwards sends nothing twice
    world.drain(timeout=10, budget=90)
    problems += world.verdict(ids("sync", 3000))
    world.fail_if(problems)
