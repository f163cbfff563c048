"""The shared JSON helpers: parse_json answers exactly as json.loads does, on every shape of text."""

from __future__ import annotations

import json

import pytest

from courier.destinations.values import compact_json, parse_json

TEXTS = [
    '{"sku":"A-12","qty":3}',
    '  {"a": 1}  ',
    '{"a": 1}\n',
    "\t[1, 2]",
    '"text"',
    "12345678901234567890123",
    "null",
]
REFUSED = ['{"a": 1} trailing', '{"a": 1}{"b": 2}', "{oops", "", "   ", '\ufeff{"a": 1}', '{"a": 1', "NaNx"]


@pytest.mark.parametrize("text", TEXTS)
def test_parse_json_reads_what_json_loads_reads(text: str) -> None:
    assert parse_json(text) == json.loads(text)


@pytest.mark.parametrize("text", REFUSED)
def test_parse_json_refuses_what_json_loads_refuses(text: str) -> None:
    with pytest.raises(json.JSONDecodeError) as expected:
        json.loads(text)
    with pytest.raises(json.JSONDecodeError) as refused:
        parse_json(text)
    assert str(refused.value) == str(expected.value)


def test_compact_json_keeps_non_ascii_and_drops_spaces() -> None:
    assert compact_json({"name": "покупка", "n": [1, 2]}) == '{"name":"покупка","n":[1,2]}'
