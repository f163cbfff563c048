"""Sandboxes one after the other in one process, as the command line starts one before the demo runs its own. Its
own module: moto's state is global to a process, so no other sandbox may run beside these (test_sandbox.py keeps
one running for its whole module)."""

from __future__ import annotations

import json
import time

from sandbox.runner import ALTCRAFT_DB, APPLICATION_ID, QUICK_WINDOW, Sandbox


def received(sandbox: Sandbox) -> list[str]:
    return [row["profile_id"] for row in sandbox.appmetrica.events(APPLICATION_ID)]


def test_a_sandbox_started_after_another_starts_empty_and_reads_its_own_secrets() -> None:
    # Given a sandbox that delivered an event (reading the Post API key's secret) and stopped, as the command line
    # does before the demo runs in the same process
    with Sandbox(retry_after=0, batching_window=QUICK_WINDOW) as first:
        first.sqs.send_message(
            QueueUrl=first.functions["appmetrica_events"].wiring.queue_url,
            MessageBody=json.dumps({"profile_id": "p1", "event_name": "open", "event_timestamp": int(time.time())}),
        )
        assert first.settle()
        assert received(first) == ["p1"]
    # When a second sandbox, on its own ports with its own moto state, sends a profile to Altcraft (reading the
    # token's secret for the first time)
    record = {"matching": "email", "email": "two@example.com", "data": {"email": "two@example.com", "_fname": "Two"}}
    with Sandbox(retry_after=0, batching_window=QUICK_WINDOW) as second:
        second.sqs.send_message(
            QueueUrl=second.functions["altcraft_profile_import"].wiring.queue_url, MessageBody=json.dumps(record)
        )
        # Then it settles, and the profile is in this sandbox's emulator: the secret was read from its own moto
        assert second.settle()
        assert [profile.get("email") for profile in second.altcraft.profiles(ALTCRAFT_DB)] == [record["email"]]
        assert received(second) == []  # and nothing of the first sandbox is left in this one
