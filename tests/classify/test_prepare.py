"""classify.prepare builds every vocabulary before workers fork (etl/ingest.py), so that a
worker's first letter finds them built instead of building them again in each worker."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from etl import classify

ROOT = Path(__file__).resolve().parents[2]

# In a fresh interpreter (no vocabulary built yet): classify a letter that names known drugs,
# guidelines and reasons, and count the regular expressions compiled while it is classified.
CLASSIFY_AND_COUNT = """
import re._compiler
import sys

from etl import classify
from tests.classify.test_classify_letter import make_letter

if sys.argv[1] == "prepared":
    classify.prepare()
compiled = []
compile_pattern = re._compiler.compile
re._compiler.compile = lambda *args: compiled.append(args[0]) or compile_pattern(*args)
letter = make_letter()
letter.items = letter.items[:2]  # known names only: an unknown drug loads another library
letter.items[0].rationale = (
    "The guidelines do not support long-term opioid use without documented functional "
    "improvement. There is no documentation of a urine drug screen. Not medically necessary."
)
classify.classify_letter(letter)
assert letter.items[0].drugs and letter.items[0].reasons, "the letter exercised too little"
print(len(compiled))
"""


def _compiled_while_classifying(mode: str) -> int:
    done = subprocess.run(
        [sys.executable, "-c", CLASSIFY_AND_COUNT, mode],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    return int(done.stdout.strip().splitlines()[-1])


def test_a_prepared_process_classifies_without_compiling_a_pattern() -> None:
    assert _compiled_while_classifying("cold") > 0  # what prepare() saves each worker
    assert _compiled_while_classifying("prepared") == 0


def test_prepare_builds_each_vocabulary_once() -> None:
    builders = classify.vocabulary_builders()
    names = {f"{b.__module__}.{b.__name__}" for b in builders}
    assert {"etl.classify.reasons.patterns", "etl.classify.requests._compiled_rules"} <= names
    classify.prepare()
    assert all(b.cache_info().currsize == 1 for b in builders)
