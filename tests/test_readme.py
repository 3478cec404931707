"""The README is the front door: its commands must exist and every CLI subcommand be documented."""

from __future__ import annotations

import re
import subprocess

from etl.cli import _build_parser
from tests.conftest import ROOT

README = (ROOT / "README.md").read_text(encoding="utf-8")


def make_targets() -> set[str]:
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    return set(re.findall(r"^([a-z][\w-]*):", makefile, re.M))


def test_readme_shows_the_two_commands_and_make_has_them() -> None:
    assert "make demo" in README and "make test" in README
    assert {"demo", "test"} <= make_targets()


def test_make_test_would_run_lint_types_and_pytest() -> None:
    dry = subprocess.run(
        ["make", "-n", "test"], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout
    for tool in ("ruff check", "ruff format --check", "mypy", "pytest"):
        assert tool in dry, tool


def test_every_make_target_and_variable_is_documented() -> None:
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    variables = set(re.findall(r"^([A-Z_]+) \?=", makefile, re.M))
    assert {"JOBS", "PORT"} <= variables, "the pattern is out of date"
    for variable in variables:
        assert re.search(rf"^\| `{variable}` \| `", README, re.M), variable
    targets = make_targets()
    assert targets == set(re.findall(r"^\| `make ([a-z-]+)` \|", README, re.M))


def test_every_subcommand_is_documented() -> None:
    parser = _build_parser()
    commands = {name for action in parser._subparsers._group_actions for name in action.choices}
    assert commands == {"ingest", "export", "dashboard", "demo", "demo-corpus", "vocab", "fetch"}
    for command in commands - {"vocab"}:
        assert f"`imr {command}" in README, command
    assert "`imr vocab report" in README


def test_documented_files_exist() -> None:
    for link in re.findall(r"\]\((docs/[^)]+)\)", README):
        assert (ROOT / link).is_file(), link


def test_every_environment_variable_is_documented() -> None:
    import inspect

    import etl.settings

    read = set(re.findall(r'"(IMR_[A-Z_]+)"', inspect.getsource(etl.settings)))
    assert read, "the settings module reads no IMR_ variable: the pattern is out of date"
    documented = set(re.findall(r"^\| `(IMR_[A-Z_]+)` \|", README, re.M))
    assert read == documented
