"""Every option of every `imr` command is in that command's row of the README's CLI reference, and
every environment variable the CLI reads is documented (tests/test_readme.py checks the commands
and the settings' variables)."""

from __future__ import annotations

import argparse
import inspect
import re

import pytest

import etl.cli
import etl.launch
from etl.cli import _build_parser
from tests.conftest import ROOT

README = (ROOT / "README.md").read_text(encoding="utf-8")


def _commands(
    parser: argparse.ArgumentParser, prefix: str = ""
) -> dict[str, argparse.ArgumentParser]:
    """Every runnable command, nested ones included: {"ingest": …, "vocab report": …}."""
    found: dict[str, argparse.ArgumentParser] = {}
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                full = f"{prefix}{name}"
                if sub.get_default("handler"):
                    found[full] = sub
                found |= _commands(sub, f"{full} ")
    return found


COMMANDS = _commands(_build_parser())


def _row(command: str) -> str:
    """The CLI table row whose first cell starts with `imr COMMAND` (not a longer command)."""
    rows = re.findall(rf"^\| `imr {re.escape(command)}(?:[ `]).*$", README, re.M)
    assert len(rows) == 1, f"README: {len(rows)} rows for `imr {command}`"
    return rows[0]


def _options(parser: argparse.ArgumentParser) -> list[str]:
    return [
        option
        for action in parser._actions
        if not isinstance(action, argparse._HelpAction)
        for option in action.option_strings
    ]


def test_the_parser_has_the_commands_we_expect() -> None:
    assert set(COMMANDS) == {
        "ingest",
        "export",
        "dashboard",
        "demo",
        "demo-corpus",
        "fetch",
        "vocab report",
    }


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_every_option_is_in_its_command_row(command: str) -> None:
    row = _row(command)
    missing = [
        option
        for option in _options(COMMANDS[command])
        if not re.search(rf"(?<![\w-]){re.escape(option)}(?![\w-])", row)
    ]
    assert not missing, f"`imr {command}`: {missing} not in its README row"


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_every_argument_is_in_its_command_row(command: str) -> None:
    """Positional arguments are shown by their metavar (PATH, DIR) in the usage cell."""
    usage = _row(command).split("|")[1]
    for action in COMMANDS[command]._actions:
        if action.option_strings or isinstance(action, argparse._SubParsersAction):
            continue
        assert action.metavar and str(action.metavar) in usage, (command, action.dest)


def test_every_environment_variable_the_cli_reads_is_documented() -> None:
    source = inspect.getsource(etl.cli) + inspect.getsource(etl.launch)
    read = set(re.findall(r"\b((?:IMR|XDG)_[A-Z_]+)\b", source))
    assert "XDG_DATA_HOME" in read, "the pattern is out of date"
    documented = set(re.findall(r"^\| `([A-Z][A-Z0-9_]+)` \|", README, re.M))
    assert read <= documented, read - documented
