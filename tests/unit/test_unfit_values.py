"""NaN, Infinity, lone surrogates and non-characters in parsed JSON, and formula cells in rejected files' headers."""

from __future__ import annotations

import csv
import io
import math
from typing import Any

import pytest

from courier.delivery.reports import RejectedRows
from courier.destinations.values import as_number, parse_json
from courier.sources.api_bodies import body_rows
from courier.sources.records import as_rows


@pytest.mark.parametrize("text", ['{"a": NaN}', '{"a": Infinity}', "[-Infinity]", '{"a": 1e400}', " NaN ", "1E999"])
def test_parse_json_refuses_what_json_has_no_number_for(text: str) -> None:
    with pytest.raises(ValueError):  # noqa: PT011  (the callers turn any ValueError into "is not valid JSON")
        parse_json(text)


@pytest.mark.parametrize(
    ("text", "expected"), [('{"a": 1e300}', {"a": 1e300}), ('{"NaN": "Infinity"}', {"NaN": "Infinity"}), ("[1]", [1])]
)
def test_parse_json_still_reads_finite_json(text: str, expected: Any) -> None:
    assert parse_json(text) == expected


@pytest.mark.parametrize("value", [math.nan, math.inf, -math.inf])
def test_a_json_number_that_is_not_finite_is_refused(value: float) -> None:
    with pytest.raises(ValueError, match="must be a finite number"):
        as_number(value)


@pytest.mark.parametrize("value", [2**63, -(2**63) - 1, "9" * 4000, "-" + "9" * 21])
def test_a_typed_number_beyond_64_bits_is_refused_without_being_parsed(value: int | str) -> None:
    with pytest.raises(ValueError, match="must be a whole number within 64 bits"):
        as_number(value)


def test_a_typed_number_at_the_edges_of_64_bits_is_kept_whole() -> None:
    assert (as_number(str(2**63 - 1)), as_number(-(2**63))) == (2**63 - 1, -(2**63))


def test_https_json_bodies_refuse_unfit_records_one_by_one() -> None:
    rows = body_rows('[{"a": NaN}, {"a": 1}, {"a": "\\ud800"}]', "application/json")
    assert [error.split(":")[0] for _, _, error in rows] == ["a", "", "a"]
    assert rows[1][2] == ""


def test_records_without_suspect_text_are_not_looked_into() -> None:
    # the text decides whether values are walked: a body without any suspect sequence is passed as read
    assert list(as_rows([{"a": "x"}], '{"a": "x"}')) == [(0, {"a": "x"}, "")]
    [(_, _, error)] = as_rows([{"a": math.nan}])
    assert error.startswith("a: NaN")


class Bucket:
    def __init__(self) -> None:
        self.objects: dict[str, bytes] = {}

    def upload_fileobj(self, file: Any, bucket: str, key: str, ExtraArgs: Any = None) -> None:  # noqa: N803
        self.objects[key] = file.read()


def test_header_and_error_cells_are_formula_escaped_like_data_cells() -> None:
    rows = RejectedRows(["=cmd|' /C calc'!A0", "+1", "-x", "@SUM(1)", "ok"])
    rows.add(1, {"=cmd|' /C calc'!A0": "=1+1", "ok": "fine"}, ["=cmd|' /C calc'!A0: must be a number"])
    s3 = Bucket()
    rows.upload(s3, "b", "k.csv")
    header, row = list(csv.reader(io.StringIO(s3.objects["k.csv"].decode("utf-8"))))
    assert header == ["'=cmd|' /C calc'!A0", "'+1", "'-x", "'@SUM(1)", "ok", "error"]
    assert row == ["'=1+1", "", "", "", "fine", "'=cmd|' /C calc'!A0: must be a number"]


def test_a_lone_surrogate_is_written_as_its_escape() -> None:
    rows = RejectedRows()
    rows.add(0, {"a": "x\ud800"}, ["a: holds a lone surrogate"])
    s3 = Bucket()
    rows.upload(s3, "b", "k.csv")
    assert "x\\ud800" in s3.objects["k.csv"].decode("utf-8")
