"""Invocations that end before their work does: killed after the destination answered, out of time with a request
in flight, stuck on an answer that never finishes."""

from __future__ import annotations

from tests.faults.harness import EVENTS, World, event_blocks, ids, recent
from tests.faults.standin import Rule


def test_a_kill_right_after_the_destination_answered_sends_nothing_twice(world: World) -> None:
    # Given a file of 30,000 events (more than one request's worth)
    key = f"{EVENTS}/kill-after-answer.csv"
    world.put_file(key, event_blocks("kill", 30_000, recent()))
    # And the invocation is SIGKILLed the moment AppMetrica has answered its first request (rows taken, 200 sent)
    world.standin.after_answers(1, lambda: world.runner.kill_current("AppMetrica answered request 1"))
    # When the message is delivered, and redelivered after its visibility timeout
    world.drain(timeout=8)
    # Then every row is delivered once (or rejected as possibly sent), the report accounts for all of them
    assert any(i.killed.startswith("on purpose") for i in world.runner.invocations), world.timeline()
    world.assert_sound(ids("kill", 30_000), files={key: ids("kill", 30_000)})


def test_a_timeout_with_a_request_in_flight_sends_nothing_twice(world: World) -> None:
    # Given a file of 25,000 events, and AppMetrica slow to answer its first request (it took the rows at once)
    key = f"{EVENTS}/slow-answer.csv"
    world.put_file(key, event_blocks("slow", 25_000, recent()))
    world.standin.script(Rule(delay=20.0))
    # When the function (10 s timeout) delivers it, and the message comes back if the invocation dies
    world.drain(timeout=10)
    # Then no invocation outlived its time, and no row went twice
    world.assert_sound(ids("slow", 25_000), files={key: ids("slow", 25_000)})


def test_an_endless_trickling_answer_sends_nothing_twice(world: World) -> None:
    # Given a file of 25,000 events, and AppMetrica taking the first request's rows, then answering 200 with a body
    # that trickles a byte a second forever (each read succeeds, so no read timeout ever fires)
    key = f"{EVENTS}/trickle.csv"
    world.put_file(key, event_blocks("trickle", 25_000, recent()))
    world.standin.script(Rule(trickle=True, trickle_interval=1.0))
    # When the function (10 s timeout, 3 s read timeout) delivers it
    world.drain(timeout=10, env={"COURIER_HTTP_READ_TIMEOUT_SECONDS": "3"})
    # Then no invocation outlived its time, and no row went twice
    world.assert_sound(ids("trickle", 25_000), files={key: ids("trickle", 25_000)})
