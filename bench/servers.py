"""The emulators in a process of their own, keeping counts only, with no rate limit: `python -m bench.servers PORT`."""

from __future__ import annotations

import signal
import sys
import threading

from sandbox.altcraft_emulator import AltcraftEmulator
from sandbox.appmetrica_emulator import AppMetricaEmulator

POST_API_KEY, TOKEN, APPLICATION_ID, DB = "bench-post-api-key", "bench-token", "1111", 1


def main() -> None:
    port = int(sys.argv[1])
    appmetrica = AppMetricaEmulator({POST_API_KEY: {APPLICATION_ID}}, rate_limit=None, port=port, keep=False).start()
    altcraft = AltcraftEmulator({TOKEN: {DB}}, port=port + 1, keep=False).start()
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    print("ready", flush=True)
    stop.wait()
    appmetrica.stop()
    altcraft.stop()


if __name__ == "__main__":
    main()
