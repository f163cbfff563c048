"""The repository's rooms: what ships (the layer, the functions) and the command line never import the sandbox's
stand-ins, except where `courier send` deliberately starts a sandbox; and the repository stands on its own."""

from __future__ import annotations

import ast
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
# `courier send` without --live plays the file on an embedded sandbox: the one place the command line starts one
STARTS_A_SANDBOX = {("cli/main.py", "send_on_sandbox"), ("cli/main.py", "_send_on_sandbox")}


def sandbox_imports(path: Path) -> list[tuple[int, str]]:
    """(line, the enclosing function or '') of each import of `sandbox` in a module."""
    found: list[tuple[int, str]] = []

    def visit(node: ast.AST, function: str) -> None:
        for child in ast.iter_child_nodes(node):
            name = child.name if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef) else function
            modules: list[str] = []
            if isinstance(child, ast.Import):
                modules = [alias.name for alias in child.names]
            elif isinstance(child, ast.ImportFrom) and child.level == 0 and child.module:
                modules = [child.module]
            if isinstance(child, ast.stmt) and any(m == "sandbox" or m.startswith("sandbox.") for m in modules):
                found.append((child.lineno, function))
            visit(child, name)

    visit(ast.parse(path.read_text(encoding="utf-8")), "")
    return found


@pytest.mark.parametrize("room", ["layers", "functions", "cli"])
def test_shipped_code_and_the_command_line_do_not_import_the_sandbox(room: str) -> None:
    # Given every module of the room
    modules = sorted((ROOT / room).rglob("*.py"))
    assert modules
    # When its imports of `sandbox` are listed, leaving out the one that starts a sandbox on purpose
    offending = [
        f"{module.relative_to(ROOT)}:{line}"
        for module in modules
        for line, function in sandbox_imports(module)
        if (str(module.relative_to(ROOT)), function) not in STARTS_A_SANDBOX
    ]
    # Then there are none
    assert offending == []


def test_the_import_check_sees_an_import_of_the_sandbox(tmp_path: Path) -> None:
    # Given a module that imports the sandbox at the top and inside a function
    module = tmp_path / "m.py"
    module.write_text("import sandbox.runner\n\ndef f():\n    from sandbox.stack import create_stack\n")
    # When its imports are listed, then both are found, each with its place
    assert sandbox_imports(module) == [(1, ""), (4, "f")]


def test_only_the_sandbox_send_of_the_command_line_starts_a_sandbox() -> None:
    # Given the command line's imports of the sandbox
    found = {function for _, function in sandbox_imports(ROOT / "cli" / "main.py")}
    # Then they are all inside the functions that run `courier send` on an embedded sandbox
    assert found
    assert found <= {function for _, function in STARTS_A_SANDBOX}


def test_nothing_in_the_repository_refers_to_notes_outside_it() -> None:
    # Given every file git tracks (a clone has exactly these)
    files = subprocess.run(
        ["git", "ls-files", "-z"],  # noqa: S607  (git from PATH, as CI has it)
        cwd=ROOT,
        capture_output=True,
        check=True,
    ).stdout.split(b"\0")
    outside = ".." + "/shared"  # spelled so that this file does not name it
    # When each text file is searched for the folder beside the repository
    naming = [
        name.decode()
        for name in files
        if name and (ROOT / name.decode()).is_file() and outside.encode() in (ROOT / name.decode()).read_bytes()
    ]
    # Then none names it
    assert naming == []
