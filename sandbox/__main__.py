"""`make sandbox`: the sandbox left running in the foreground, with a log a person can follow. Ctrl-C stops it."""

from __future__ import annotations

import os
import signal
import sys
import threading

from cli.main import SANDBOX_LOG as LOG  # `courier status` reads the functions' metrics from there
from sandbox.runner import API_KEY, Ports, Sandbox, functions_output


def main() -> None:
    console = sys.stdout
    LOG.parent.mkdir(parents=True, exist_ok=True)
    stop = threading.Event()
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    # line by line, so that `courier status` reads the functions' metrics as they are written
    with LOG.open("w", encoding="utf-8", buffering=1) as handle, functions_output(handle):  # the functions' JSON logs
        ports = Ports(
            aws=int(os.environ.get("SANDBOX_AWS_PORT", "4566")),
            api=int(os.environ.get("SANDBOX_API_PORT", "3000")),
            appmetrica=int(os.environ.get("SANDBOX_APPMETRICA_PORT", "8701")),
            altcraft=int(os.environ.get("SANDBOX_ALTCRAFT_PORT", "8702")),
        )

        def say(line: str) -> None:
            print(line, file=console, flush=True)

        with Sandbox(ports=ports, log=say) as sandbox:
            say("Courier sandbox is up (Ctrl-C stops it)")
            say(f"  AWS (moto)   {sandbox.aws_url}    bucket {sandbox.bucket}")
            say(f"  HTTPS routes {sandbox.api_url}    header x-api-key: {API_KEY}")
            say(f"  AppMetrica   {sandbox.appmetrica.url}/_emulator/state")
            say(f"  Altcraft     {sandbox.altcraft.url}/_emulator/state")
            for function in sandbox.functions.values():
                say(f"  {function.name:<24} queue {function.wiring.queue_url}  route {function.wiring.routes[0]}")
            say(f"  the functions' logs: {LOG}")
            stop.wait()
            say("stopping…")


if __name__ == "__main__":
    main()
