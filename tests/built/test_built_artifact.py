"""What ships is what is tested: every function run from `sam build`'s output (`make built`), on python3.13, with
only its code directory, the built layer and the runtime's boto3 on its path, plays the demo through S3, SQS and
HTTPS against the sandbox."""

from __future__ import annotations

import shutil
from contextlib import redirect_stdout
from pathlib import Path

from demo.play import run
from sandbox.runner import Sandbox
from tests.built.artifact import RUNTIME, Build, Running
from tests.support import DEMO_ROWS, ROOT

LAYER_SOURCE = ROOT / "layers" / "common" / "courier"


def modules(root: Path) -> set[str]:
    return {str(path.relative_to(root)) for path in root.rglob("*.py")}


def test_the_built_layer_holds_every_module_of_the_source_layer() -> None:
    # Given the build
    build = Build.read()
    # Then every module of layers/common/courier is in the built layer's python/courier
    assert modules(LAYER_SOURCE) - modules(build.layer / "courier") == set()


def test_every_built_function_plays_the_demo_through_each_door(tmp_path: Path) -> None:
    # Given the sandbox, with each function's handler replaced by its built code in a process of its own
    build = Build.read()
    log = tmp_path / "functions.log"
    running: list[Running] = []
    with log.open("w", encoding="utf-8") as handle, redirect_stdout(handle):

        def use_built(sandbox: Sandbox) -> None:
            assert set(build.functions) == set(sandbox.functions)
            for function in sandbox.functions.values():
                built = Running(build.functions[function.name], build.layer, sandbox.environment_of(function), handle)
                running.append(built)
                function.handler = built

        # When the demo plays every sample through every door
        try:
            rows = run(prepare=use_built)
        finally:
            for built in running:
                built.stop()
    # Then every record is accounted for exactly as from the source tree
    assert [(row.function, row.door, row.delivered, row.rejected, row.retrying) for row in rows] == DEMO_ROWS
    # And each function ran with nothing on its path but its build, the layer, the runtime's boto3 and the
    # interpreter's standard library (no site-packages: nothing of the dev environment)
    for built in running:
        extra = [path for path in built.path if "site-packages" in path or str(ROOT) in path]
        assert extra == [str(build.functions[built.name].code), str(build.layer), str(RUNTIME)]


def test_a_function_whose_built_layer_lacks_a_module_does_not_start(tmp_path: Path) -> None:
    # Given a copy of the built layer without one module the handlers import
    build = Build.read()
    layer = tmp_path / "python"
    shutil.copytree(build.layer, layer)
    (layer / "courier" / "doors" / "entry.py").unlink()
    function = build.functions["appmetrica_events"]
    # When the function starts on it
    with (tmp_path / "functions.log").open("w", encoding="utf-8") as log:
        try:
            Running(function, layer, {}, log)
        except RuntimeError as error:
            failure = str(error)
        else:
            failure = ""
    # Then its cold start fails, naming the missing module
    assert failure.startswith("appmetrica_events: cold start failed: ModuleNotFoundError")
    assert "courier.doors.entry" in failure
