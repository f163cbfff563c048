"""The bench's servers, each kind in a process of its own: `python -m bench.servers destinations PORT PORT` (the
AppMetrica and Altcraft emulators, keeping counts only, with no rate limit), `python -m bench.servers counting PORT`
(a destination that only counts each request's lines: pure transport's limit) or `python -m bench.servers aws PORT`
(moto's server)."""

from __future__ import annotations

import os
import signal
import sys
import threading
from collections.abc import Callable

POST_API_KEY, TOKEN, APPLICATION_ID, DB = "bench-post-api-key", "bench-token", "1111", 1


def destinations(port: int, altcraft_port: int) -> Callable[[], None]:
    from sandbox.altcraft_emulator import AltcraftEmulator
    from sandbox.appmetrica_emulator import AppMetricaEmulator

    appmetrica = AppMetricaEmulator({POST_API_KEY: {APPLICATION_ID}}, rate_limit=None, port=port, keep=False).start()
    altcraft = AltcraftEmulator({TOKEN: {DB}}, port=altcraft_port, keep=False).start()

    def stop() -> None:
        appmetrica.stop()
        altcraft.stop()

    return stop


def counting(port: int) -> Callable[[], None]:
    """Reads each request's body and counts its lines, nothing else; answers 200. GET /_emulator/state lists the
    line count of every request, as the emulators list their requests."""
    import json
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    lines: list[int] = []

    class Counting(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            lines.append(body.count(b"\n"))
            self._answer(b"")

        def do_GET(self) -> None:
            self._answer(json.dumps({"requests": lines}).encode())

        def _answer(self, body: bytes) -> None:
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *_: object) -> None:
            return None

    server = ThreadingHTTPServer(("127.0.0.1", port), Counting)
    threading.Thread(target=server.serve_forever, daemon=True).start()

    def stop() -> None:
        server.shutdown()
        server.server_close()

    return stop


def aws(port: int) -> Callable[[], None]:
    from moto.server import ThreadedMotoServer

    os.environ["MOTO_SQS_ENFORCE_STRICT_QUEUE_PURGE_BEHAVIOUR"] = "false"  # the bench empties its queue often
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    return server.stop


def main() -> None:
    kind, ports = sys.argv[1], [int(port) for port in sys.argv[2:]]
    kinds: dict[str, Callable[..., Callable[[], None]]] = {
        "destinations": destinations,
        "counting": counting,
        "aws": aws,
    }
    stop_servers = kinds[kind](*ports)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    print("ready", flush=True)
    stop.wait()
    stop_servers()


if __name__ == "__main__":
    main()
