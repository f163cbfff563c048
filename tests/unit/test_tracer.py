"""The destination request's subsegment: Powertools' Tracer when the layer has the X-Ray SDK, a stand-in without."""

from __future__ import annotations

import importlib.util
from collections.abc import Iterator
from typing import Any

import pytest

from courier.observability import subsegment, tracer


@pytest.fixture(autouse=True)
def fresh_tracer() -> Iterator[None]:
    tracer.cache_clear()
    yield
    tracer.cache_clear()


def test_without_the_sdk_a_request_is_not_traced_and_nothing_breaks(monkeypatch: pytest.MonkeyPatch) -> None:
    # Given a layer without the X-Ray SDK (the default)
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name: None if name == "aws_xray_sdk" else real(name))
    # When a destination request is wrapped and annotated
    with subsegment("## destination request") as traced:
        traced.put_annotation("answer", "Answers2xx")
    # Then no tracer was made
    assert tracer() is None


def test_with_the_sdk_the_request_is_a_powertools_subsegment() -> None:
    # Given the X-Ray SDK (the tests' environment has it; tracing is disabled outside Lambda)
    made = tracer()
    # Then it is Powertools' tracer, and its subsegment takes annotations
    assert made is not None
    assert type(made).__name__ == "Tracer"
    with subsegment("## destination request") as traced:
        annotate: Any = traced.put_annotation
        annotate("endpoint", "/logs/v1/import/events.csv")
