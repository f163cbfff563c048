"""What repeats per endpoint, and the reference tables, are generated: the checked-in files must be what the
generator makes, and every parameter, variable and command must appear in its table."""

from __future__ import annotations

import argparse
import re
from pathlib import Path

import pytest

from cli.main import build_parser
from courier.destinations.registry import ENDPOINTS
from courier.settings import Settings
from infra import generate
from infra.template import load_template

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.parametrize("name", sorted(generate.generators()))
def test_the_checked_in_file_is_what_the_generator_makes(name: str) -> None:
    # Given the file as checked in (a page made per endpoint must exist)
    path = ROOT / name
    assert path.is_file(), f"{name} is missing (run `make generate`)"
    current = path.read_text(encoding="utf-8")
    make, _ = generate.generators()[name]
    # When its generated parts are made again
    wanted = make(current)
    # Then nothing changes (otherwise: run `make generate`)
    assert wanted == current


def test_every_endpoint_has_a_function_folder_a_summary_and_a_docs_page() -> None:
    # Given the registry
    nav = (ROOT / "mkdocs.yml").read_text(encoding="utf-8")
    for endpoint in ENDPOINTS:
        # Then each endpoint has its thin handler, says in one line what it does, and has a page in the site's nav
        assert (ROOT / "functions" / endpoint.name / "app.py").is_file()
        assert endpoint.destination.summary
        assert (ROOT / "docs" / "endpoints" / f"{endpoint.name}.md").is_file()
        assert f"endpoints/{endpoint.name}.md" in nav


def table_names(page: str) -> set[str]:
    """The names in the first column of the page's tables."""
    text = (ROOT / page).read_text(encoding="utf-8")
    return set(re.findall(r"^\| `([^`]+)` \|", text, re.M))


def test_every_template_parameter_is_in_the_deploy_page() -> None:
    # Given template.yaml's parameters
    parameters = set(load_template()["Parameters"])
    # Then each is a row of the Deploy page's table, with a description in the template
    assert parameters - table_names("docs/deploy.md") == set()
    assert [name for name, spec in load_template()["Parameters"].items() if not spec.get("Description")] == []


def test_every_environment_variable_is_in_the_configuration_page() -> None:
    # Given every variable the settings declare and every one the template sets on a function
    declared = {field.alias for field in Settings.model_fields.values()}
    template = load_template()
    given = set(template["Globals"]["Function"]["Environment"]["Variables"])
    for resource in template["Resources"].values():
        if resource["Type"] == "AWS::Serverless::Function":
            given |= set(resource["Properties"].get("Environment", {}).get("Variables", {}))
    # Then each is a row of the configuration reference
    assert (declared | given) - table_names("docs/reference/configuration.md") == set()


def subcommands(parser: argparse.ArgumentParser, prefix: str = "courier") -> set[str]:
    found: set[str] = set()
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                found |= {f"{prefix} {name}"} | subcommands(sub, f"{prefix} {name}")
    return found


def test_every_courier_subcommand_is_in_the_command_reference() -> None:
    # Given the command's parser, nested commands included
    commands = subcommands(build_parser())
    assert {"courier send", "courier mapping check"} <= commands
    # Then each has its section in the reference
    text = (ROOT / "docs" / "reference" / "cli.md").read_text(encoding="utf-8")
    assert {command for command in commands if f"## `{command}`" not in text} == set()
