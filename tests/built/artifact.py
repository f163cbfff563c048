"""What `sam build` produced for the x86_64 variant of template.yaml (`make built`), and its functions run each in a
process of its own by worker.py, as Lambda runs them."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import IO, Any

from infra.template import load_template
from tests.support import ROOT

# `make built` writes these: the template's x86_64 variant built (pydantic-core's wheel in the arm64 layer cannot
# load on an x86 machine), and the runtime's boto3 (tests/built/runtime.txt)
BUILD = ROOT / ".aws-sam" / "build-x86_64"
RUNTIME = ROOT / ".aws-sam" / "runtime"
WORKER = Path(__file__).with_name("worker.py")
TIMEOUT_MS = 900_000  # the template's longest FunctionTimeoutSeconds


@cache
def python313() -> str:
    """Lambda's runtime interpreter: `make built` names it (COURIER_PYTHON313), else the first that answers."""
    candidates = [os.environ.get("COURIER_PYTHON313", ""), shutil.which("python3.13") or ""]
    candidates += sorted(str(path) for path in Path.home().glob(".pyenv/versions/3.13*/bin/python3.13"))
    for candidate in filter(None, candidates):
        # the interpreter itself, not a version manager's shim (which needs the caller's environment)
        found = subprocess.run(  # noqa: S603 - a python3.13 found on this machine, a fixed script
            [candidate, "-c", "import sys; print(sys.executable)"], capture_output=True, text=True
        )
        if found.returncode == 0:
            return found.stdout.strip()
    raise AssertionError("the built functions run on python3.13 (Lambda's runtime); put it on PATH")


@dataclass(frozen=True)
class BuiltFunction:
    name: str  # the folder under functions/
    code: Path  # the function's built code directory (Lambda's /var/task)
    handler: str  # the template's Handler


@dataclass(frozen=True)
class Build:
    functions: dict[str, BuiltFunction]
    layer: Path  # the built layer's python/ (Lambda's /opt/python)

    @classmethod
    def read(cls) -> Build:
        """The build, read from its own template; fails (never skips) when `make built` has not run."""
        built = BUILD / "template.yaml"
        if not built.is_file() or not (RUNTIME / "boto3").is_dir():
            raise AssertionError(f"no build in {BUILD.relative_to(ROOT)}: run `make built` (sam build, x86_64)")
        resources = load_template(built)["Resources"]
        sources = load_template()["Resources"]
        functions = {}
        for logical_id, resource in resources.items():
            if resource["Type"] == "AWS::Serverless::Function":
                name = Path(sources[logical_id]["Properties"]["CodeUri"]).name
                code = BUILD / resource["Properties"]["CodeUri"]
                functions[name] = BuiltFunction(name, code, resource["Properties"]["Handler"])
        [layer] = [r for r in resources.values() if r["Type"] == "AWS::Serverless::LayerVersion"]
        return cls(functions, BUILD / layer["Properties"]["ContentUri"] / "python")


class Running:
    """A built function's process: cold-started once, then invoked as the sandbox's Lambda invokes a handler."""

    def __init__(self, function: BuiltFunction, layer: Path, environment: dict[str, str], log: IO[str]) -> None:
        self.name = function.name
        read, write = os.pipe()
        command = [python313(), "-I", "-S", str(WORKER), str(function.code), str(layer), str(RUNTIME)]
        self._process = subprocess.Popen(  # noqa: S603 - python3.13, the worker and the build's own paths
            [*command, function.handler, str(write)],
            stdin=subprocess.PIPE,
            stdout=log,
            stderr=log,
            env={"PATH": os.environ.get("PATH", ""), "LANG": "C.UTF-8", **environment},
            pass_fds=(write,),
            text=True,
        )
        os.close(write)
        self._results = os.fdopen(read, encoding="utf-8")
        self.path: list[str] = self._next()["started"]  # the module search path it started with

    def _next(self) -> dict[str, Any]:
        line = self._results.readline()
        if not line:
            raise RuntimeError(f"{self.name}: the built function's process ended (code {self._process.wait()})")
        answer: dict[str, Any] = json.loads(line)
        if "error" in answer:
            raise RuntimeError(f"{self.name}: {answer['error']}")
        return answer

    def __call__(self, event: dict[str, Any], context: Any) -> Any:
        assert self._process.stdin is not None
        request = {"event": event, "function_name": self.name, "timeout_ms": TIMEOUT_MS}
        self._process.stdin.write(json.dumps(request) + "\n")
        self._process.stdin.flush()
        return self._next()["response"]

    def stop(self) -> None:
        if self._process.stdin is not None:
            self._process.stdin.close()
        try:
            self._process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()
        self._results.close()
