"""AppMetrica answering badly: an error after it took the rows, a reset, a redirect."""

from __future__ import annotations

import pytest

from tests.faults.harness import EVENTS, World, event_blocks, ids, recent
from tests.faults.standin import Rule, after_taking


@pytest.mark.parametrize("answer", [500, 502, 504, "reset"])
def test_an_error_after_the_rows_were_taken_sends_nothing_twice(world: World, answer: int | str) -> None:
    # Given a file of 25,000 events (two requests)
    key = f"{EVENTS}/taken-then-{answer}.csv"
    tag = f"taken{answer}"
    world.put_file(key, event_blocks(tag, 25_000, recent()))
    # And AppMetrica stores the first request's rows, then answers it with an error, or resets the connection
    world.standin.script(Rule(reset=True) if answer == "reset" else after_taking(int(answer)))
    # When the function delivers the file
    world.drain(timeout=10)
    # Then no row reached AppMetrica twice: what may have been taken is rejected as possibly sent, not sent again
    world.assert_sound(ids(tag, 25_000), files={key: ids(tag, 25_000)})


@pytest.mark.parametrize("status", [301, 302])
def test_a_redirect_is_not_followed_and_never_counted_delivered(world: World, status: int) -> None:
    # Given a file of 30 events, and AppMetrica redirecting every import elsewhere (where a page answers 200)
    key = f"{EVENTS}/redirect-{status}.csv"
    tag = f"redirect{status}"
    world.put_file(key, event_blocks(tag, 30, recent()))
    world.standin.always(Rule(status=status, take=False, redirect=True))
    # When the function delivers the file (retries included, until the message is done or dead-lettered)
    world.drain(timeout=8, budget=90)
    # Then the redirect was never followed and no row counts as delivered
    problems = [f"the {status} was followed: {r.method} {r.path}" for r in world.standin.follows]
    report = world.report(key)
    if report is None:
        problems.append(f"no report at reports/{key}.json")
    elif report.get("delivered"):
        problems.append(f"the report counts {report['delivered']} rows delivered on a {status}: {report}")
    # And every row is rejected with a reason, or still retrying (its message in the dead-letter queue)
    # (moto moves a message to the dead-letter queue still invisible, so it is counted rather than received; the
    # file is the only one of this test)
    dead = sum(world.queue_counts(world.dlq_url(EVENTS)).values())
    problems += world.verdict(ids(tag, 30), in_flight=ids(tag, 30) if dead else ())
    world.fail_if(problems)
