"""Where the functions' output goes on the sandbox: their log lines and metrics to the file given, nothing to the
console (`make demo > out.txt` holds only the demo's own table)."""

from __future__ import annotations

import io
import json
import logging
import sys
from typing import TextIO, cast

from courier.observability import logger
from sandbox.runner import functions_output


def test_the_functions_log_and_prints_go_to_the_file_not_to_the_console() -> None:
    # Given the Logger's handler bound to the stream it had when first imported (the console, for `make demo`)
    handler = cast(logging.StreamHandler[TextIO], logger.registered_handler)
    console = io.StringIO()
    original = handler.setStream(console)
    file = io.StringIO()
    try:
        # When a function logs and prints (EMF) inside functions_output
        with functions_output(file):
            logger.info("a record delivered", extra={"delivered": 1})
            print('{"_aws": {}}')
        logger.info("after the sandbox stopped")
    finally:
        handler.setStream(original or sys.stdout)
    # Then both went to the file, and the console has only what was logged after
    lines = file.getvalue().splitlines()
    assert json.loads(lines[0])["message"] == "a record delivered"
    assert lines[1] == '{"_aws": {}}'
    assert [json.loads(line)["message"] for line in console.getvalue().splitlines()] == ["after the sandbox stopped"]
