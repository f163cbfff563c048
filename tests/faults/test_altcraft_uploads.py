"""The new Altcraft upload methods under the faults that make a request's fate unknown: the invocation SIGKILLed
after Altcraft applied the request but before its answer arrived, and the invocation's time running out with the
answer still on its way. Real processes, moto for AWS, the sandbox's Altcraft emulator (written from the guides).

profiles/add and goals/register change Altcraft each time they are applied: nothing may be sent twice. profiles/delete
and subscriptions/set do not: the request goes again, and the record completes."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from sandbox.altcraft_emulator import AltcraftEmulator
from tests.faults.harness import World

TOKEN = "fault-suite-token"
DB = 1
ADD, GOAL, DELETE, SUBSCRIPTION = (
    "altcraft_profile_add",
    "altcraft_goal_register",
    "altcraft_profile_delete",
    "altcraft_subscription_set",
)
PROFILE_ID = "5a5b91d769d4265b958b9acb"
ANSWER_LATE = 30.0  # seconds Altcraft holds its answer after applying the request


@pytest.fixture
def altcraft() -> Iterator[AltcraftEmulator]:
    emulator = AltcraftEmulator(tokens={TOKEN: {DB}}).start()
    yield emulator
    emulator.stop()


def altcraft_env(altcraft: AltcraftEmulator) -> dict[str, str]:
    return {"ALTCRAFT_API_URL": altcraft.url, "ALTCRAFT_API_TOKEN": TOKEN, "ALTCRAFT_DB_ID": str(DB)}


def kill_once_applied(world: World, altcraft: AltcraftEmulator, applied: Callable[[], bool]) -> threading.Thread:
    """SIGKILLs the running invocation as soon as Altcraft has applied its request (its answer held back), then lets
    Altcraft answer at once again."""

    def watch() -> None:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and not applied():
            time.sleep(0.05)
        world.runner.kill_current("Altcraft applied the request; its answer is still on its way")
        altcraft.answer_delay = 0.0

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    return watcher


def rejected_rows(world: World, function: str) -> list[str]:
    rows: list[str] = []
    for key, _ in world.keys(f"rejected/sqs/{function}/"):
        text = world.s3.get_object(Bucket=world.bucket, Key=key)["Body"].read().decode()
        rows += text.splitlines()[1:]
    return rows


def requests_to(altcraft: AltcraftEmulator, path: str) -> list[Any]:
    return [request for request in altcraft.requests if request.path.rstrip("/").endswith(path)]


def profiles_named(altcraft: AltcraftEmulator, email: str) -> list[dict[str, Any]]:
    return [profile for profile in altcraft.profiles(DB) if profile.get("email") == email]


# --- not harmless to resend: nothing twice ------------------------------------------------------------------------
def test_a_kill_after_altcraft_added_the_profile_adds_it_once(world: World, altcraft: AltcraftEmulator) -> None:
    # Given one new profile on the add function's queue, and Altcraft holding its answer after creating it
    world.send_records([{"data": {"email": "once@example.com", "_fname": "Once"}}], ADD)
    altcraft.answer_delay = ANSWER_LATE
    # And the invocation is SIGKILLed once the profile exists
    watcher = kill_once_applied(world, altcraft, lambda: bool(profiles_named(altcraft, "once@example.com")))
    # When the message is delivered, and redelivered after its visibility timeout
    world.drain(ADD, timeout=20, env=altcraft_env(altcraft))
    watcher.join(5)
    # Then the profile was created once, by one request, and the record waits in rejected/ as possibly delivered
    assert any(i.killed.startswith("on purpose") for i in world.runner.invocations), world.timeline()
    assert len(profiles_named(altcraft, "once@example.com")) == 1, world.timeline()
    assert len(requests_to(altcraft, "profiles/add")) == 1, world.timeline()
    [row] = rejected_rows(world, ADD)
    assert "profiles/add creates a profile each time" in row or "possibly delivered" in row, row
    assert world.queue_empty(ADD)


def test_a_timeout_with_the_add_answer_in_flight_adds_the_profile_once(
    world: World, altcraft: AltcraftEmulator
) -> None:
    # Given one new profile, and Altcraft answering 20 s after it created it, past the function's 10 s
    world.send_records([{"data": {"email": "late@example.com"}}], ADD)
    altcraft.answer_delay = 20.0
    # When the function delivers it, and the message comes back once the invocation died
    world.drain(ADD, timeout=10, env=altcraft_env(altcraft))
    # Then no invocation outlived its time, the profile exists once and was sent once
    assert world.overruns() == [], world.timeline()
    assert len(profiles_named(altcraft, "late@example.com")) == 1, world.timeline()
    assert len(requests_to(altcraft, "profiles/add")) == 1, world.timeline()
    assert len(rejected_rows(world, ADD)) == 1


def test_a_kill_after_altcraft_registered_the_goal_counts_it_once(world: World, altcraft: AltcraftEmulator) -> None:
    # Given a profile, a goal for it on the goal function's queue, and Altcraft holding its answer after counting it
    altcraft.add_profile(DB, {"email": "buyer@example.com"})
    world.send_records([{"pixel_id": 1, "email": "buyer@example.com", "goal": "purchase", "value": 99.5}], GOAL)
    altcraft.answer_delay = ANSWER_LATE
    watcher = kill_once_applied(world, altcraft, lambda: bool(altcraft.goals))
    # When the message is delivered, and redelivered
    world.drain(GOAL, timeout=20, env=altcraft_env(altcraft))
    watcher.join(5)
    # Then the goal was counted once, from one request, and the record is rejected as possibly delivered
    assert any(i.killed.startswith("on purpose") for i in world.runner.invocations), world.timeline()
    assert [(g.goal, g.value) for g in altcraft.goals] == [("purchase", 99.5)], world.timeline()
    assert len(requests_to(altcraft, "goals/register")) == 1
    [row] = rejected_rows(world, GOAL)
    assert "a goal registered again counts twice" in row or "possibly delivered" in row, row


def test_a_timeout_with_the_goal_answer_in_flight_counts_it_once(world: World, altcraft: AltcraftEmulator) -> None:
    # Given a profile and a goal for it, and Altcraft answering past the function's time
    altcraft.add_profile(DB, {"email": "late.buyer@example.com"})
    world.send_records([{"pixel_id": 1, "email": "late.buyer@example.com", "goal": "trial"}], GOAL)
    altcraft.answer_delay = 20.0
    # When the function delivers it, and the message comes back
    world.drain(GOAL, timeout=10, env=altcraft_env(altcraft))
    # Then no invocation outlived its time and the goal was counted once
    assert world.overruns() == [], world.timeline()
    assert [g.goal for g in altcraft.goals] == ["trial"], world.timeline()
    assert len(requests_to(altcraft, "goals/register")) == 1


# --- harmless to resend: the resend completes the record ----------------------------------------------------------
def test_a_delete_whose_answer_was_lost_is_sent_again_and_completes(world: World, altcraft: AltcraftEmulator) -> None:
    # Given a profile to erase, and Altcraft holding its answer after deleting it
    altcraft.add_profile(DB, {"email": "forget.me@example.com", "_fname": "Forget"})
    world.send_records([{"email": "forget.me@example.com"}], DELETE)
    altcraft.answer_delay = ANSWER_LATE
    watcher = kill_once_applied(world, altcraft, lambda: bool(altcraft.deleted(DB)))
    # When the message is delivered, and redelivered after the invocation was killed
    world.drain(DELETE, timeout=20, env=altcraft_env(altcraft))
    watcher.join(5)
    # Then the delete went again, found the profile gone (not found), and the record is done: nothing rejected,
    # nothing left on the queue or in the dead-letter queue
    assert any(i.killed.startswith("on purpose") for i in world.runner.invocations), world.timeline()
    assert profiles_named(altcraft, "forget.me@example.com") == []
    assert [r.status for r in requests_to(altcraft, "profiles/delete")] == [200, 404], world.timeline()
    assert rejected_rows(world, DELETE) == []
    assert world.queue_empty(DELETE)
    assert world.dead_letters(DELETE) == []


def test_a_subscription_set_whose_answer_was_lost_is_sent_again_and_completes(
    world: World, altcraft: AltcraftEmulator
) -> None:
    # Given a known profile, an opt-out for it, and Altcraft holding its answer after applying it
    altcraft.add_profile(DB, {"id": PROFILE_ID, "email": "opt.out@example.com"})
    opt_out = {"profile_id": PROFILE_ID, "resource_id": 1, "channel": "email", "email": "opt.out@example.com"}
    world.send_records([{**opt_out, "status": "unsubscribed"}], SUBSCRIPTION)
    altcraft.answer_delay = ANSWER_LATE
    watcher = kill_once_applied(world, altcraft, lambda: bool(altcraft.subscription_changes))
    # When the message is delivered, and redelivered
    world.drain(SUBSCRIPTION, timeout=20, env=altcraft_env(altcraft))
    watcher.join(5)
    # Then the request went twice, the subscription is unsubscribed, and the record is done
    assert any(i.killed.startswith("on purpose") for i in world.runner.invocations), world.timeline()
    assert [r.status for r in requests_to(altcraft, "subscriptions/set")] == [200, 200], world.timeline()
    [subscription] = altcraft.subscriptions(DB, PROFILE_ID)
    assert subscription["status"] == "unsubscribed"
    assert rejected_rows(world, SUBSCRIPTION) == []
    assert world.queue_empty(SUBSCRIPTION)
