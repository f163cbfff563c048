"""One Lambda invocation in its own process: `python -m tests.faults.invoke FUNCTION EVENT_FILE --timeout S`.

Like Lambda, it imports the handler first (the init phase, not counted against the timeout), then calls
`lambda_handler(event, context)` with a context whose clock starts then. It speaks to the parent on the original
stdout, one JSON object a line: {"phase": "start"} when the handler is called, then {"phase": "end", "answer": ...}
or {"phase": "error", "error": ...}, each with the process's peak RSS. Everything the handler prints or logs goes to
stderr. The parent kills the process when its time is up, as Lambda does.
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import resource
import sys
import time
import traceback
from pathlib import Path
from typing import Any, TextIO

ROOT = Path(__file__).resolve().parents[2]


def peak_rss_kb() -> int:
    """The process's high-water mark of resident memory (VmHWM), in KiB."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    except OSError:
        pass
    return int(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)


def _emit(channel: TextIO, message: dict[str, Any]) -> None:
    channel.write(json.dumps(message, default=str) + "\n")
    channel.flush()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("function")
    parser.add_argument("event_file", type=Path)
    parser.add_argument("--timeout", type=float, required=True)
    parser.add_argument("--memory", type=int, default=512)
    args = parser.parse_args(argv)

    channel = os.fdopen(os.dup(1), "w", buffering=1)  # the parent's line; fd 1 now goes where stderr goes
    os.dup2(2, 1)
    for path in (ROOT / "layers" / "common", ROOT):
        if str(path) not in sys.path:
            sys.path.insert(0, str(path))

    from sandbox.lambda_runtime import LambdaContext

    module = importlib.import_module(f"functions.{args.function}.app")  # the init phase
    event = json.loads(args.event_file.read_text(encoding="utf-8"))
    context = LambdaContext(
        function_name=args.function,
        timeout_seconds=args.timeout,
        memory_limit_in_mb=args.memory,
        invoked_function_arn=f"arn:aws:lambda:us-east-1:123456789012:function:{args.function}",
    )
    _emit(channel, {"phase": "start", "pid": os.getpid(), "init_rss_kb": peak_rss_kb()})
    context.started = time.monotonic()
    try:
        answer = module.lambda_handler(event, context)
    except BaseException as error:  # any failure fails the invocation, as in Lambda
        _emit(
            channel,
            {
                "phase": "error",
                "error": f"{type(error).__name__}: {error}"[:2000],
                "traceback": traceback.format_exc()[-4000:],
                "peak_rss_kb": peak_rss_kb(),
                "seconds": time.monotonic() - context.started,
            },
        )
        return 1
    _emit(
        channel,
        {"phase": "end", "answer": answer, "peak_rss_kb": peak_rss_kb(), "seconds": time.monotonic() - context.started},
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
