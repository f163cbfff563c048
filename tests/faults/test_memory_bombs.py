"""Files built to exhaust memory: a gzip bomb, and one line of 200 MB. Refused with a reason, in flat memory."""

from __future__ import annotations

import zlib
from collections.abc import Iterator
from typing import Any

import pytest

from tests.faults.harness import EVENTS, World, overrun_problems

PEAK_LIMIT_MB = 256
HEADER = b"profile_id,event_name,event_timestamp\n"


@pytest.fixture(scope="module")
def gzip_bomb() -> bytes:
    """A header, then 1 GiB of ASCII zeros with no line break, gzipped (about 4.7 MB)."""
    packer = zlib.compressobj(1, zlib.DEFLATED, 31)
    zeros = b"0" * (16 << 20)
    parts = [packer.compress(HEADER)]
    parts += [packer.compress(zeros) for _ in range(64)]
    parts.append(packer.flush())
    return b"".join(parts)


def long_line(megabytes: int) -> Iterator[bytes]:
    """A header, then one row whose event_name is `megabytes` MB long, generated block by block."""
    yield HEADER + b"bomb-0,"
    block = b"x" * (1 << 20)
    for _ in range(megabytes):
        yield block
    yield b",1795300000\n"


def reasons(report: Any, inside: bool = False) -> list[str]:
    """Non-empty texts a report gives under a problem / error / reason / refusal key (as values, or as the keys of a
    count by reason), however nested."""
    found: list[str] = []
    if isinstance(report, dict):
        for name, value in report.items():
            reasonish = inside or any(word in str(name).lower() for word in ("problem", "error", "reason", "refus"))
            if inside and str(name).strip():
                found.append(str(name))
            if isinstance(value, str):
                found += [value] if reasonish and value.strip() else []
            else:
                found += reasons(value, reasonish)
    elif isinstance(report, list):
        for item in report:
            found += [item] if isinstance(item, str) and inside and item.strip() else reasons(item, inside)
    return found


def refused_in_flat_memory(world: World, key: str) -> list[str]:
    """The file ended (not retrying or continuing), nothing delivered, the report says why, memory stayed low."""
    problems = []
    report = world.report(key)
    if report is None:
        problems.append(f"no report at reports/{key}.json")
    else:
        if report.get("status") in ("continuing", "retrying") or report.get("pending"):
            problems.append(f"the file is not finished: {report}")
        if report.get("delivered"):
            problems.append(f"rows of the bomb counted delivered: {report}")
        if not reasons(report):
            problems.append(f"the report gives no reason for refusing the file: {report}")
    if world.standin.delivered_total():
        problems.append(f"{world.standin.delivered_total()} rows reached AppMetrica")
    for invocation in world.runner.invocations:
        if invocation.peak_rss_kb > PEAK_LIMIT_MB * 1024:
            peak = invocation.peak_rss_kb // 1024
            problems.append(f"peak RSS {peak} MB > {PEAK_LIMIT_MB} MB: {invocation.describe().strip()}")
    problems += overrun_problems(world.overruns())
    return problems


@pytest.mark.slow
def test_a_gzip_bomb_is_refused_with_a_reason_in_flat_memory(world: World, gzip_bomb: bytes) -> None:
    # Given a gzipped CSV of 4.7 MB that inflates to 1 GiB: a header, then zeros without a line break
    key = f"{EVENTS}/bomb.csv.gz"
    world.put_file(key, gzip_bomb)
    # When the function (15 s timeout, 512 MB like the template) takes it
    world.drain(timeout=15, budget=35)
    # Then it is refused with a reason in the report, and the process never held more than 256 MB
    world.fail_if(refused_in_flat_memory(world, key))


@pytest.mark.slow
def test_a_200_mb_line_is_refused_with_a_reason_in_flat_memory(world: World) -> None:
    # Given a CSV whose one row is 200 MB long
    key = f"{EVENTS}/long-line.csv"
    world.put_file(key, long_line(200))
    # When the function (15 s timeout, 512 MB like the template) takes it
    world.drain(timeout=15, budget=35)
    # Then it is refused with a reason in the report, and the process never held more than 256 MB
    world.fail_if(refused_in_flat_memory(world, key))
