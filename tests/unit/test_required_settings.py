"""A function deployed without a setting it needs stops at its cold start, with one line naming the variable and the
template parameter (or the stack resource) that sets it, and never a value. The sets are derived from the registry
and checked against template.yaml's Environment, so they cannot drift."""

from __future__ import annotations

import importlib
import os
import sys
from typing import Any

import pytest

from courier.destinations.registry import ENDPOINTS, Endpoint
from courier.doors.entry import required_environment
from courier.settings import ConfigurationError
from infra.template import function_wirings, load_template

TEMPLATE = load_template()
WIRINGS = function_wirings(TEMPLATE)
NAMES = [endpoint.name for endpoint in ENDPOINTS]


def template_environment(endpoint: Endpoint) -> dict[str, str]:
    """What the template gives the function: parameters at their defaults (a placeholder where the default is
    empty), resources and conditions as placeholders."""
    function = TEMPLATE["Resources"][WIRINGS[endpoint.name].logical_id]["Properties"]
    variables: dict[str, Any] = {
        **TEMPLATE["Globals"]["Function"]["Environment"]["Variables"],
        **function.get("Environment", {}).get("Variables", {}),
    }
    environment = {}
    for name, value in variables.items():
        if isinstance(value, dict) and value.get("Ref") in TEMPLATE["Parameters"]:
            value = str(TEMPLATE["Parameters"][value["Ref"]].get("Default", "")) or f"set-{name.lower()}"
        elif not isinstance(value, str):
            value = f"resource-{name.lower()}"
        environment[name] = value
    return {**environment, "AWS_LAMBDA_FUNCTION_NAME": endpoint.name}


def start(endpoint: Endpoint, environment: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> Any:
    """A cold start: the function's module imported afresh with exactly this environment."""
    for name in list(os.environ):
        monkeypatch.delenv(name)
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    module = f"functions.{endpoint.name}.app"
    monkeypatch.delitem(sys.modules, module, raising=False)
    return importlib.import_module(module)


@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=NAMES)
def test_the_template_sets_every_variable_a_function_requires(endpoint: Endpoint) -> None:
    # Given what the function cannot start without, and what the template gives it
    required = required_environment(endpoint.destination)
    # Then the template gives each of them (and each API setting the registry names)
    assert set(required) <= set(template_environment(endpoint))
    assert {variable for variable, _ in endpoint.environment} <= set(template_environment(endpoint))


@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=NAMES)
def test_a_function_starts_with_the_environment_the_template_gives_it(
    endpoint: Endpoint, monkeypatch: pytest.MonkeyPatch
) -> None:
    # When the function starts in Lambda with the template's environment
    module = start(endpoint, template_environment(endpoint), monkeypatch)
    # Then it has its handler
    assert callable(module.lambda_handler)


@pytest.mark.parametrize(
    ("endpoint", "variable"),
    [(e, variable) for e in ENDPOINTS for variable in required_environment(e.destination)],
    ids=[f"{e.name}-{variable}" for e in ENDPOINTS for variable in required_environment(e.destination)],
)
def test_a_function_without_a_required_variable_stops_at_import_naming_it(
    endpoint: Endpoint, variable: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given the template's environment without one required variable
    environment = template_environment(endpoint)
    del environment[variable]
    # When the function starts, then it stops at import with one line naming the variable and what sets it
    with pytest.raises(ConfigurationError) as stopped:
        start(endpoint, environment, monkeypatch)
    message = str(stopped.value)
    assert "\n" not in message
    assert message == f"{variable} is not set ({required_environment(endpoint.destination)[variable]})"


def test_the_missing_secret_is_named_with_its_template_parameter(monkeypatch: pytest.MonkeyPatch) -> None:
    # Given an AppMetrica and an Altcraft function without their secret's name
    for name, variable, parameter in [
        ("appmetrica_events", "APPMETRICA_POST_API_KEY_SECRET", "AppMetricaPostApiKeySecretName"),
        ("altcraft_profile_import", "ALTCRAFT_API_TOKEN_SECRET", "AltcraftApiTokenSecretName"),
    ]:
        endpoint = next(e for e in ENDPOINTS if e.name == name)
        environment = template_environment(endpoint)
        del environment[variable]
        # When each starts, then the message names the variable and the parameter that sets it
        with pytest.raises(ConfigurationError, match=f"^{variable} is not set \\(template parameter {parameter}\\)$"):
            start(endpoint, environment, monkeypatch)


def test_a_malformed_setting_is_named_with_its_parameter_and_without_its_value(monkeypatch: pytest.MonkeyPatch) -> None:
    # Given an Altcraft function whose batch size is out of range, and a rate that is not a number
    endpoint = next(e for e in ENDPOINTS if e.name == "altcraft_profile_update")
    environment = {**template_environment(endpoint), "ALTCRAFT_BATCH_SIZE": "20000", "ALTCRAFT_MAX_RPS": "k3y-like"}
    # When it starts
    with pytest.raises(ConfigurationError) as stopped:
        start(endpoint, environment, monkeypatch)
    # Then both are named, the parameter beside the one it sets, and neither value is repeated
    message = str(stopped.value)
    assert message.startswith("ALTCRAFT_BATCH_SIZE is not valid: ")
    assert "(template parameter AltcraftBatchSize)" in message
    assert "ALTCRAFT_MAX_RPS is not valid: " in message
    assert "20000" not in message
    assert "k3y-like" not in message


def test_a_local_key_stands_for_its_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    # Given an AppMetrica function with the plain key (a local run shaped as Lambda) and no secret's name
    endpoint = next(e for e in ENDPOINTS if e.name == "appmetrica_events")
    environment = {**template_environment(endpoint), "APPMETRICA_POST_API_KEY": "local-key"}
    del environment["APPMETRICA_POST_API_KEY_SECRET"]
    # When it starts, then it has its handler
    assert callable(start(endpoint, environment, monkeypatch).lambda_handler)


def test_outside_lambda_nothing_is_required_at_import(monkeypatch: pytest.MonkeyPatch) -> None:
    # Given no environment at all and no Lambda (tests, the sandbox and the CLI inject their settings)
    endpoint = ENDPOINTS[0]
    # When the function's module is imported, then it loads
    assert callable(start(endpoint, {}, monkeypatch).lambda_handler)
