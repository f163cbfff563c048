"""CSV files of events as the tests of CSV runs and of the block pattern make them: fuzzed lines (mostly good rows,
among them every kind the Post API preparer refuses or sends otherwise than written, and every kind of line that is
not one row), the file's bytes, and the first run the file source gives of them."""

from __future__ import annotations

import io
import random
from collections.abc import Callable

from courier.model import CsvRun
from courier.sources.files import open_file

# A fixed moment for the preparers' window: case names built from it must be the same in every xdist worker.
NOW = 1_796_000_000.0
TS = str(int(NOW) - 3600)
OLD = str(int(NOW) - 15 * 24 * 3600)
AHEAD = str(int(NOW) + 2 * 24 * 3600)
EVENTS = ("profile_id", "event_name", "event_timestamp", "session_type", "event_json")


def event_lines(rng: random.Random, count: int, nasty: bool = True) -> list[str]:
    """Rows of the EVENTS header: mostly good ones (so runs form), among them every kind of row the checks refuse or
    send otherwise than written, and every kind of line that is not one clean row."""
    good = [
        lambda n: f'u{n},open,{TS},foreground,"{{""k"":{n % 3}}}"',  # the same few JSON texts again and again
        lambda n: f"u{n},open,{TS},,",
        lambda n: f'u{n},buy,{TS},background,"{{""sku"":""A-{n}"",""q"":[1,2]}}"',
        lambda n: f"u{n},é ✓ {n},{TS},foreground,{{}}",
        lambda n: f'u{n},"a, quoted name",{TS},,',
    ]
    odd = [
        lambda n: f'u{n},open,{TS},foreground,"{{""a"":}}"',  # not JSON
        lambda n: f'u{n},open,{TS},foreground,"{{""a"":NaN}}"',
        lambda n: f'u{n},open,{TS},foreground,"{{""a"":1e400}}"',
        lambda n: f'u{n},open,{TS},foreground,"{"[" * 20}{"]" * 20}"',  # an array, not an object
        lambda n: f'u{n},open,{TS},foreground,"{{""a"":{"[" * 40}{"]" * 40}}}"',  # nested too deep
        lambda n: f'u{n},open,{TS},foreground," {{}}"',  # JSON after a space
        lambda n: f'u{n},open,{TS},foreground,"{{}} "',
        lambda n: f"u{n},open,{OLD},,",
        lambda n: f"u{n},open,{AHEAD},,",
        lambda n: f"u{n},open,{TS}000,,",  # milliseconds
        lambda n: f"u{n},open,{TS[:-1]},,",  # nine digits
        lambda n: f"u{n},open,0{TS},,",  # eleven digits
        lambda n: f"u{n},open, {TS},,",
        lambda n: f"u{n},open,2026-11-22T10:00:00Z,,",
        lambda n: f"u{n},open,{TS},sideways,",
        lambda n: f"u{n},,{TS},,",  # a required field empty
        lambda n: f",open,{TS},,",  # no id
        lambda n: f'"u{n}","{"[" * 40}",{TS},"",',  # brackets in a text cell, cells quoted that need no quotes
        lambda n: f'"u{n}",open,{TS},"",',  # quotes that need not be there
    ]
    broken = [
        lambda n: "",  # a blank line
        lambda n: "   ",
        lambda n: f'u{n},"two\nlines",{TS},,',  # a quoted line end
        lambda n: f'u{n},"two\r\nlines",{TS},,',
        lambda n: f"u{n},open",  # too few cells
        lambda n: f"u{n},open,{TS},,,extra",  # too many
        lambda n: f'u{n},open,{TS},,"{{""a"":1}}"x',  # text after a closing quote (the csv module takes it)
    ]
    lines = []
    for n in range(count):
        roll = rng.random()
        kinds = good if roll < 0.8 or not nasty else odd if roll < 0.92 else broken
        lines.append(rng.choice(kinds)(n))
    return lines


def opener(data: bytes) -> Callable[[int], io.BytesIO]:
    """The file, as the S3 door opens it: from any byte."""
    return lambda offset: io.BytesIO(data[offset:])


def file_bytes(lines: list[str], ends: str | list[str] = "\n", bom: bool = False, last_end: bool = True) -> bytes:
    """The lines joined by their line ends (one for all, or one each), optionally with a BOM and no last line end."""
    each = [ends] * len(lines) if isinstance(ends, str) else ends
    text = "".join(line + end for line, end in zip(lines, each, strict=True))
    if not last_end:
        text = text[: -len(each[-1])]
    return (b"\xef\xbb\xbf" if bom else b"") + text.encode()


def run_of(lines: list[str], columns: tuple[str, ...] = EVENTS) -> CsvRun:
    """The first run of a file of these rows (one block)."""
    data = file_bytes([",".join(columns), *lines])
    source = open_file(opener(data), "f.csv")
    item = next(source.runs())
    assert isinstance(item, CsvRun), lines
    return item
