"""What a function checks when it starts: its app.py calls `check_at_cold_start(DESTINATION)` at import, so that in
Lambda a function deployed without a setting it needs stops at its cold start with one line naming the variable and
the template parameter that sets it, instead of failing on its first record. It also freezes what the imports
made for the cyclic garbage collector (see `check_at_cold_start`)."""

from __future__ import annotations

import gc
import os
from collections.abc import Mapping

from courier.model import Destination
from courier.settings import STACK_VARIABLES, check_environment


def required_environment(destination: Destination) -> dict[str, str]:
    """Each variable the function cannot start without, and what sets it in the stack. Every other setting has a
    default (docs/reference/configuration.md)."""
    required = dict(STACK_VARIABLES)
    if destination.api is not None:
        secret = f"{destination.api.secret_variable}_SECRET"
        required[secret] = f"template parameter {destination.api.secret_parameter}"
    return required


def check_at_cold_start(destination: Destination, environ: Mapping[str, str] = os.environ) -> None:
    """In Lambda (AWS_LAMBDA_FUNCTION_NAME set), the function's environment; elsewhere (tests, the sandbox, the
    command line) the settings are injected or read from the caller's environment when used. A local key
    (`APPMETRICA_POST_API_KEY`, `ALTCRAFT_API_TOKEN`) stands for its secret.

    Everywhere, the objects the imports made (botocore's models, some 600,000 of them) live as long as the process:
    frozen, the cyclic collector no longer scans them each time a block of rows has made enough lists and dicts,
    which took about 30 % of a file's time here."""
    gc.freeze()
    if "AWS_LAMBDA_FUNCTION_NAME" not in environ:
        return
    required = required_environment(destination)
    if destination.api is not None and environ.get(destination.api.secret_variable):
        required.pop(f"{destination.api.secret_variable}_SECRET")
    sources = {
        variable: f"template parameter {parameter}"
        for variable, parameter in (destination.api.environment if destination.api is not None else ())
    }
    check_environment(required, environ, sources)
