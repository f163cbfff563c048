"""The Post API preparer's block check (`_LineCheck._lines_pass`): one pattern over a block's lines stands in for
splitting them into cells. Its pieces are checked alone (the digit ranges against comparing as text), and the whole
against the column check it stands in for, on fuzzed blocks: the same lines forwarded, or none."""

from __future__ import annotations

import itertools
import random
import re
from typing import Any

import pytest

from courier.destinations.appmetrica.events import make_event_preparer
from courier.destinations.appmetrica.fields import digits_between, event_timestamp
from courier.model import ForwardedLines
from courier.settings import Settings
from tests.csv_cases import AHEAD, EVENTS, NOW, OLD, TS, event_lines, run_of

SETTINGS = Settings(APPMETRICA_APPLICATION_ID="1111")


@pytest.mark.parametrize("width", [1, 2, 3])
def test_a_digit_range_matches_exactly_the_digit_strings_between_its_ends(width: int) -> None:
    # Given every digit string of a width, and ends drawn from them (equal ends, whole decades, any two)
    every = ["".join(digits) for digits in itertools.product("0123456789", repeat=width)]
    rng = random.Random(width)
    ends = [(every[0], every[-1]), (every[5], every[5])] + [tuple(sorted(rng.sample(every, 2))) for _ in range(60)]
    for low, high in ends:
        # When the range's pattern is made
        pattern = re.compile(digits_between(low, high))
        # Then it matches a string exactly when it lies between the ends, compared as text
        assert [s for s in every if pattern.fullmatch(s)] == [s for s in every if low <= s <= high], (low, high)


def test_a_digit_range_matches_no_other_digits_than_ascii_ones() -> None:
    # Given the range of a window of Unix seconds
    pattern = re.compile(digits_between("1794704401", "1796086800"))
    # When strings of digits of other scripts, or other characters, are matched
    # Then none is: the text comparison's _digits refuses them too
    assert pattern.fullmatch("1795000000")
    for other in ("179500000²", "１795000000", "179500000a", "179500000 ", "17950000000", "179500000"):
        assert not pattern.fullmatch(other), other


def test_the_window_of_event_times_as_a_pattern_keeps_what_the_check_keeps() -> None:
    # Given the event time check at NOW, and times around both ends of its window
    keeps = event_timestamp(NOW).keeps
    low, high = keeps.bounds
    pattern = re.compile(digits_between(low, high))
    around = [str(int(end) + step) for end in (low, high) for step in range(-3, 4)] + [TS, OLD, AHEAD, f"{TS}0"]
    # When each is matched
    # Then the pattern and the check agree on each
    assert [pattern.fullmatch(value) is not None for value in around] == [keeps(value) for value in around]


def forwarded(result: ForwardedLines | None) -> tuple[object, ...] | None:
    return None if result is None else (result.columns, result.key, result.prefix, result.lines)


def test_a_block_passes_the_pattern_exactly_when_it_passes_the_column_check() -> None:
    # Given fuzzed blocks of event lines (mostly good; some refused, changed, or not one row), times near the ends
    rng = random.Random(7)
    low, high = event_timestamp(NOW).keeps.bounds
    by_pattern: Any = make_event_preparer(SETTINGS, NOW)
    by_columns: Any = make_event_preparer(SETTINGS, NOW)
    by_columns._check(EVENTS).lines_pattern = None  # the column check alone
    assert by_pattern._check(EVENTS).lines_pattern is not None
    outcomes, by_pattern_alone = [], []
    for turn in range(600):
        lines = event_lines(rng, rng.randint(1, 12), nasty=turn % 3 != 0)
        edge = rng.choice([low, high, str(int(low) - 1), str(int(high) + 1), TS])
        lines = [line.replace(TS, edge, 1) if rng.random() < 0.2 else line for line in lines]
        count = rng.randint(1, len(lines))
        # When a block's first lines are checked with the pattern, and by their columns: in the block, and alone
        run = run_of(lines)
        checked = forwarded(by_pattern.run(run, count))
        by_pattern_alone.append(by_pattern._check(EVENTS)._lines_pass(run, run.lines[:count]))
        in_block = forwarded(by_columns.run(run_of(lines), count))
        alone = forwarded(by_columns.run(run_of(lines[:count]), count))
        # Then the pattern forwards what the columns do; or, when a later line of the block is not one row (the
        # columns forward nothing), what the columns of those lines alone do (the lines after are not its concern)
        assert checked == in_block or (in_block is None and checked == alone), lines
        outcomes.append(checked is not None)
    assert 0.2 < sum(outcomes) / len(outcomes) < 0.8  # the blocks were of both kinds
    assert sum(by_pattern_alone) > sum(outcomes) / 2  # most forwarded blocks were found so by the pattern itself
