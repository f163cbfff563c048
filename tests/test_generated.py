"""What repeats per endpoint is generated from the registry: the checked-in files must be what it generates."""

from __future__ import annotations

from pathlib import Path

import pytest

from courier.destinations.registry import ENDPOINTS
from sandbox import generate

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.parametrize("name", ["template.yaml", "README.md"])
def test_the_checked_in_file_is_what_the_registry_generates(name: str) -> None:
    # Given the file as checked in
    current = (ROOT / name).read_text(encoding="utf-8")
    # When its generated parts are made again from the registry
    wanted = generate.GENERATORS[name](current)
    # Then nothing changes (otherwise: run `make generate`)
    assert wanted == current


def test_every_endpoint_has_a_function_folder_and_a_summary() -> None:
    # Given the registry
    for endpoint in ENDPOINTS:
        # Then each endpoint has its thin handler and says in one line what it does
        assert (ROOT / "functions" / endpoint.name / "app.py").is_file()
        assert endpoint.destination.summary
