"""Importing a handler loads only what every door needs: boto3 and requests come with the first use of AWS or of a
destination, so a call that is refused before sending (a bad signature, a file of invalid rows) never loads them."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from infra.template import function_wirings, load_template
from tests.support import ROOT

HANDLERS = sorted(wiring.name for wiring in function_wirings(load_template()).values())


@pytest.mark.parametrize("function", HANDLERS)
def test_importing_a_handler_loads_neither_boto3_nor_requests(function: str) -> None:
    # Given a fresh interpreter with the layer on its path
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), str(ROOT / "layers" / "common")])}
    code = f"import sys, functions.{function}.app; print(sorted({{'boto3', 'requests'}} & set(sys.modules)))"
    # When the handler's module is imported
    loaded = subprocess.run(  # noqa: S603 - this interpreter, with code built from the template's function names
        [sys.executable, "-c", code], env=env, cwd=ROOT, capture_output=True, text=True, check=True
    )
    # Then neither library was loaded
    assert loaded.stdout.strip() == "[]"
