"""Fixtures of the fault suite: one moto server for the session, a fresh world (stack, proxy, stand-in) per test."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.faults.harness import World, start_moto


@pytest.fixture(scope="session")
def moto_url() -> Iterator[str]:
    server, url = start_moto()
    yield url
    server.stop()


@pytest.fixture
def world(moto_url: str, tmp_path: Path) -> Iterator[World]:
    """moto with the template's stack (reset first), the fault proxy, the AppMetrica stand-in and the runner; the
    invocations' logs and events are kept under the test's tmp_path."""
    logs = tmp_path / "invocations"
    logs.mkdir()
    made = World(moto_url, logs)
    yield made
    made.close()
    if os.environ.get("FAULTS_TIMELINE"):  # FAULTS_TIMELINE=1 pytest -s …: what happened, for passing tests too
        print(f"\n{made.timeline()}\n(logs: {logs})")
