"""The parser's running time is linear in the size of its input, whatever the input holds.

A letter is untrusted input: one crafted text must not hold a worker for minutes. Three angles:

* crafted letters built from a seed letter (a request padded with thousands of colons, thousands
  of items) parse, or are rejected, well within a timeout;
* the time for 4x the items is about 4x the time, not 16x (a quadratic loop over the items);
* every compiled pattern of ``etl.parse`` is pumped with the inputs that make a backtracking
  regex blow up (a run of what one of its repeats matches, followed by a character that makes
  the match fail; many copies of the pattern's opening without its ending) at growing sizes, and
  its time must grow linearly.

Each measurement runs in a child process with a timeout, so a regression fails instead of hanging
the suite.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from dataclasses import dataclass
from re import _constants as sre  # type: ignore[attr-defined]
from re import _parser as sre_parse  # type: ignore[attr-defined]
from typing import Any

import pytest

from tests.conftest import ROOT
from tests.reliability.helpers import SEEDS, cli_env

SEED = SEEDS / "000_8688a23c91e089a1.txt"
FIRST_REQUEST = "Ativan 2mg, #105: Upheld"


# --- crafted letters --------------------------------------------------------------------------


def colon_letter(colons: int) -> str:
    """The seed with its first request padded: ``Norco 10/325mg :::...::: x: Upheld``."""
    text = SEED.read_text(encoding="utf-8")
    assert FIRST_REQUEST in text
    return text.replace(FIRST_REQUEST, f"Norco 10/325mg {':' * colons} x: Upheld", 1)


def many_items_letter(items: int) -> str:
    """The seed with its issues section (two items) repeated until it lists ``items`` items."""
    text = SEED.read_text(encoding="utf-8")
    at = text.index(FIRST_REQUEST)
    section = text[at:]
    assert section.count("Decision rationale:") == 2
    return text[:at] + section * (items // 2)


def many_labels_letter(labels: int) -> str:
    """The seed under a case header that prints one label ``labels`` times, then its values."""
    text = SEED.read_text(encoding="utf-8")
    header = "Case Number: CM16-0000001\n" + "Date Assigned:\n" * labels + "10/24/2016\n" * labels
    return header + text


def _run_child(code: str, timeout: float) -> Any:
    """Run ``code`` in a fresh interpreter (cwd = repo root); return the JSON it prints last."""
    try:
        done = subprocess.run(
            [sys.executable, "-c", textwrap.dedent(code)],
            cwd=ROOT,
            env=cli_env(),
            capture_output=True,
            text=True,
            timeout=timeout,
        )
    except subprocess.TimeoutExpired:
        pytest.fail(f"did not finish within {timeout:.0f} s (super-linear parsing?)")
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


_PARSE_IN_CHILD = """
    import json, sys, time
    sys.path.insert(0, {root!r})
    from tests.reliability.test_parser_linear import {builder}
    from etl.parse import LetterError, parse_letter

    text = {builder}({size})
    best = None
    for _ in range({repeat}):
        started = time.perf_counter()
        try:
            outcome = len(parse_letter(text).items)
        except LetterError as error:
            outcome = error.reason
        elapsed = time.perf_counter() - started
        best = elapsed if best is None else min(best, elapsed)
    print(json.dumps({{"outcome": outcome, "seconds": best}}))
"""


def parse_in_child(builder: str, size: int, *, timeout: float, repeat: int = 1) -> dict[str, Any]:
    code = _PARSE_IN_CHILD.format(root=str(ROOT), builder=builder, size=size, repeat=repeat)
    result: dict[str, Any] = _run_child(code, timeout)
    return result


@pytest.mark.parametrize("colons", [800, 4000, 50_000])
def test_request_full_of_colons_parses_quickly(colons: int) -> None:
    # Before the fix: 800 colons took 2 s, 4,000 took minutes (the decision-suffix pattern).
    result = parse_in_child("colon_letter", colons, timeout=20)
    assert result["outcome"] == 2, result
    assert result["seconds"] < 5, result


def test_request_full_of_colons_keeps_its_request() -> None:
    from etl.parse import parse_letter

    letter = parse_letter(colon_letter(50))
    assert letter.items[0].request == f"Norco 10/325mg {':' * 50} x"
    assert letter.items[0].decision == "Upheld"


@pytest.mark.parametrize("items", [2_000, 8_000])
def test_thousands_of_items_parse_quickly(items: int) -> None:
    # Before the fix: 2,000 items took 4 s, 8,000 items about a minute.
    result = parse_in_child("many_items_letter", items, timeout=20)
    assert result["outcome"] == items, result


def test_a_header_of_thousands_of_labels_parses_quickly() -> None:
    # Before the fix: 20,000 labels took 4 s, 40,000 about 15 s (a list used as a queue).
    result = parse_in_child("many_labels_letter", 40_000, timeout=20)
    assert result["outcome"] == 2, result
    assert result["seconds"] < 5, result


def test_parse_time_grows_linearly_with_the_items() -> None:
    # Linear: 4x the items, about 4x the time. Quadratic (before the fix): about 16x.
    # Best of 3 in a child process each, so that a busy machine does not decide the ratio.
    small = parse_in_child("many_items_letter", 2_000, timeout=60, repeat=3)
    large = parse_in_child("many_items_letter", 8_000, timeout=60, repeat=3)
    ratio = large["seconds"] / small["seconds"]
    assert ratio < 8, f"2,000 items {small['seconds']:.3f} s, 8,000 items {large['seconds']:.3f} s"


# --- every pattern, pumped --------------------------------------------------------------------

PARSE_MODULES = ("etl.parse.common", "etl.parse.modern", "etl.parse.notice")
# Pumped sizes (characters); each step is 4x the previous one.
SIZES = (100, 400, 1_600, 6_400, 25_600, 102_400)
# Linear time grows 4x per step, quadratic 16x: flag a step that grows more than this...
MAX_GROWTH = 10.0
# ... by more than this many seconds (timer noise on tiny inputs).
SLACK = 0.004
# No pattern may take longer than this on any pumped input (linear ones take milliseconds).
MAX_SECONDS = 0.5
# A character no pattern expects: it makes the match fail after the pumped run, which is what
# forces a backtracking engine to try every way of splitting the run.
FAIL = "\x01"
_EXTRA_PUMPS = " :,.-/0a"


def _class_chars(items: list[tuple[Any, Any]]) -> list[str]:
    """One representative character per member of a character class ``[...]``."""
    chars: list[str] = []
    for op, av in items:
        if op is sre.LITERAL:
            chars.append(chr(av))
        elif op is sre.RANGE:
            chars.append(chr(av[0]))
        elif op is sre.CATEGORY:
            chars.append(
                {
                    sre.CATEGORY_DIGIT: "0",
                    sre.CATEGORY_SPACE: " ",
                    sre.CATEGORY_WORD: "a",
                    sre.CATEGORY_NOT_DIGIT: "a",
                    sre.CATEGORY_NOT_SPACE: "a",
                    sre.CATEGORY_NOT_WORD: " ",
                }.get(av, "a")
            )
    return chars


class _Example:
    """A string the pattern (nearly) matches, with where each unbounded repeat starts and ends.

    Built by walking the parsed pattern: first branch of every alternation, one pass of every
    optional or repeated part, the first member of every class. Good enough to reach each repeat.
    """

    def __init__(self, nodes: Any) -> None:
        self.text = ""
        # (start, end, units): a repeat's span in ``text`` and characters it repeats.
        self.repeats: list[tuple[int, int, list[str]]] = []
        self._boundary = False
        self._walk(nodes)

    def _add(self, char: str) -> None:
        # A word boundary between two word characters: keep it one by putting a space there.
        if self._boundary and self.text[-1:].isalnum() and char.isalnum():
            self.text += " "
        self._boundary = False
        self.text += char

    def _walk(self, nodes: Any) -> None:
        for op, av in nodes:
            if op is sre.LITERAL:
                self._add(chr(av))
            elif op is sre.NOT_LITERAL:
                self._add("x" if chr(av) != "x" else "y")
            elif op is sre.ANY:
                self._add("x")
            elif op is sre.IN:
                if av and av[0][0] is sre.NEGATE:
                    banned = set(_class_chars(av[1:]))
                    self._add(next(c for c in "xa0 " if c not in banned))
                else:
                    self._add((_class_chars(av) or ["x"])[0])
            elif op is sre.AT and av is sre.AT_BOUNDARY:
                self._boundary = True
            elif op is sre.BRANCH:
                self._walk(av[1][0])
            elif op is sre.SUBPATTERN:
                self._walk(av[3])
            elif op is sre.ATOMIC_GROUP:
                self._walk(av)
            elif op in (sre.MAX_REPEAT, sre.MIN_REPEAT, sre.POSSESSIVE_REPEAT):
                low, high, body = av
                start = len(self.text)
                for _ in range(max(low, 1) if high else 0):
                    self._walk(body)
                if high is sre.MAXREPEAT or high > 50:
                    self.repeats.append((start, len(self.text), _units(body)))
            # Other anchors, lookarounds and backreferences add no characters.


def _units(body: Any) -> list[str]:
    """The single characters an unbounded repeat's body can start with (to pump the repeat)."""
    op, av = body[0]
    if op is sre.IN and not (av and av[0][0] is sre.NEGATE):
        return list(dict.fromkeys(_class_chars(av)))
    if op is sre.SUBPATTERN:
        return _units(av[3])
    return [_Example(body).text[:1] or "x"]


@dataclass(frozen=True)
class Pump:
    """``prefix``, then ``unit`` repeated to about ``size`` characters, then a mismatch."""

    prefix: str
    unit: str

    def __call__(self, size: int) -> str:
        return self.prefix + self.unit * max(1, size // len(self.unit)) + FAIL


def pumps(pattern: re.Pattern[str]) -> Iterator[tuple[str, Pump]]:
    """Named families of adversarial inputs, each a function of a size in characters."""
    example = _Example(sre_parse.parse(pattern.pattern, pattern.flags))
    text = example.text
    for char in dict.fromkeys(text + _EXTRA_PUMPS):
        yield f"run of {char!r}", Pump("", char)
    for start, end, units in example.repeats:
        for unit in units:
            # The prefix that leads into the repeat, the repeat pumped, then a mismatch.
            yield f"{text[:start]!r} + run of {unit!r}", Pump(text[:start], unit)
        # Many copies of the opening, each stopping after the repeat: a pattern that scans to
        # the end of the text for its ending from every opening is quadratic.
        opening = text[:end]
        if opening:
            for sep in ("", " "):
                yield f"copies of {opening + sep!r}", Pump("", opening + sep)


def _best_time(pattern: re.Pattern[str], subject: str, repeat: int) -> float:
    best = float("inf")
    for _ in range(repeat):
        started = time.perf_counter()
        pattern.search(subject)
        best = min(best, time.perf_counter() - started)
        if best > MAX_SECONDS:
            break
    return best


def superlinear_patterns(modules: tuple[str, ...] = PARSE_MODULES) -> list[str]:
    """Every compiled pattern of ``modules`` whose search time grows faster than its input.

    For each pumped family the time is measured at each size in ``SIZES``; a step that grows by
    more than ``MAX_GROWTH`` (re-measured best of 3 before it counts) or any time above
    ``MAX_SECONDS`` is reported.
    """
    import importlib

    found = []
    for module_name in modules:
        module = importlib.import_module(module_name)
        for name, pattern in sorted(_compiled(module)):
            for family, build in pumps(pattern):
                problem = _growth_problem(pattern, build)
                if problem:
                    # One input is enough to show it; the others would only take long.
                    found.append(f"{module_name}.{name}: {family}: {problem}")
                    break
    return found


def _compiled(module: Any) -> Iterator[tuple[str, re.Pattern[str]]]:
    """The module's compiled patterns, and both forms of each of its ``CasePattern``s."""
    from etl.text import CasePattern

    for name, value in vars(module).items():
        if isinstance(value, re.Pattern):
            yield name, value
        elif isinstance(value, CasePattern):
            yield f"{name}.ignorecase", value.ignorecase
            yield f"{name}.lowered", value.lowered


def _growth_problem(pattern: re.Pattern[str], build: Pump) -> str | None:
    previous = None
    for size in SIZES:
        subject = build(size)
        seconds = _best_time(pattern, subject, 1)
        if seconds > MAX_SECONDS:
            return f"{size} chars {seconds:.2f} s"
        if previous is not None and seconds > MAX_GROWTH * previous + SLACK:
            # Could be a busy machine: measure both again, best of 3.
            before = _best_time(pattern, build(size // 4), 3)
            seconds = _best_time(pattern, subject, 3)
            if seconds > MAX_GROWTH * before + SLACK or seconds > MAX_SECONDS:
                return (
                    f"{size // 4} chars {before * 1000:.1f} ms,"
                    f" {size} chars {seconds * 1000:.1f} ms"
                )
        previous = seconds
    return None


def test_every_parse_pattern_runs_in_linear_time() -> None:
    code = f"""
        import json, sys
        sys.path.insert(0, {str(ROOT)!r})
        from tests.reliability.test_parser_linear import superlinear_patterns
        print(json.dumps(superlinear_patterns()))
    """
    found = _run_child(code, timeout=240)
    assert not found, "super-linear patterns:\n" + "\n".join(found)


def test_the_pattern_check_catches_backtracking() -> None:
    """The check itself: it must flag the classic shapes and pass their linear rewrites."""
    import types

    module = types.ModuleType("patterns_under_test")
    module.ADJACENT = re.compile(r"[\s,:]*(?:\bis\b)?[\s:]*\b(Upheld|Overturned)\.?$")  # type: ignore[attr-defined]
    module.LEADING_RUN = re.compile(r"\s*x")  # type: ignore[attr-defined]
    module.SCAN_PER_OPENING = re.compile(r"request for (.+?) is necessary")  # type: ignore[attr-defined]
    module.FIXED = re.compile(r"(?<![\s,:])(?:[\s,:]*+\bis\b[\s:]*+|[\s,:]*+)\b(Upheld)\.?$")  # type: ignore[attr-defined]
    sys.modules[module.__name__] = module
    try:
        found = superlinear_patterns((module.__name__,))
    finally:
        del sys.modules[module.__name__]
    flagged = {line.split(":")[0].rsplit(".", 1)[1] for line in found}
    assert flagged == {"ADJACENT", "LEADING_RUN", "SCAN_PER_OPENING"}, found
