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


def test_with_the_sdk_in_lambda_the_tracer_is_powertools(monkeypatch: pytest.MonkeyPatch) -> None:
    # Given the X-Ray SDK (the tests' environment has it), in Lambda with tracing on
    monkeypatch.setenv("LAMBDA_TASK_ROOT", "/var/task")
    monkeypatch.delenv("POWERTOOLS_TRACE_DISABLED", raising=False)
    monkeypatch.delenv("AWS_SAM_LOCAL", raising=False)
    # When the tracer is asked for
    made = tracer()
    # Then it is Powertools' tracer, tracing
    assert made is not None
    assert type(made).__name__ == "Tracer"
    assert not made._is_tracer_disabled()


@pytest.mark.parametrize(
    "environment",
    [{"POWERTOOLS_TRACE_DISABLED": "1"}, {}, {"LAMBDA_TASK_ROOT": "/var/task", "AWS_SAM_LOCAL": "true"}],
    ids=["disabled", "outside Lambda", "SAM's local runtime"],
)
def test_where_tracing_is_off_no_tracer_is_made_and_requests_still_annotate(
    monkeypatch: pytest.MonkeyPatch, environment: dict[str, str]
) -> None:
    # Given the X-Ray SDK, where Powertools would not trace
    for name in ("LAMBDA_TASK_ROOT", "POWERTOOLS_TRACE_DISABLED", "AWS_SAM_LOCAL"):
        monkeypatch.delenv(name, raising=False)
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    # When a destination request is wrapped and annotated
    with subsegment("## destination request") as traced:
        annotate: Any = traced.put_annotation
        annotate("endpoint", "/logs/v1/import/events.csv")
    # Then no tracer was made (the SDK's import and clients are not paid for nothing)
    assert tracer() is None
