"""The parser compiled by mypyc (etl/native.py) is used only while it is the build of the
sources beside it: an edited source makes it stale and the pure modules are imported.

Each case runs a fresh interpreter on a copy of ``etl`` with a copy of the checkout's current
build (``make native`` makes it); without one the cases skip, except in CI (IMR_NATIVE=require
there: a missing build fails)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from etl import native

ROOT = Path(__file__).resolve().parents[1]

WHICH = """
import json
import etl, etl.classify, etl.parse
import etl.classify.reasons, etl.parse.modern, etl.text
from etl import native
print(json.dumps({
    "etl": etl.__file__,
    "modern": native.compiled(etl.parse.modern),
    "reasons": native.compiled(etl.classify.reasons),
    "text": native.compiled(etl.text),
    "builders": sorted(f.__module__ + "." + f.__name__
                       for f in etl.classify.vocabulary_builders()),
    "caches": len(etl.classify.text_caches()),
}))
"""


def current_build() -> Path:
    digest = native.sources_digest()
    folder = native.build_dir(digest)
    if not native.is_build_of(folder, digest):
        if os.environ.get("CI"):
            pytest.fail("no current compiled build of the parser in CI: `make native` failed")
        pytest.skip("no current compiled build (run `make native`)")
    return folder


def run(root: Path, mode: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(root), "IMR_NATIVE": mode}
    return subprocess.run(
        [sys.executable, "-c", WHICH], cwd=root, env=env, capture_output=True, text=True
    )


def which(root: Path, mode: str) -> dict[str, object]:
    done = run(root, mode)
    assert done.returncode == 0, done.stderr
    found = json.loads(done.stdout)
    assert Path(str(found["etl"])).is_relative_to(root)  # the copy, not the checkout
    return found


@pytest.fixture
def checkout_copy(tmp_path: Path) -> Path:
    """A copy of ``etl`` and of its current build, laid out as in a checkout."""
    build = current_build()
    shutil.copytree(ROOT / "etl", tmp_path / "etl", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copytree(build, tmp_path / ".native" / build.name)
    return tmp_path


def test_the_current_build_is_imported_and_finds_the_same_vocabularies(checkout_copy):
    compiled, pure = which(checkout_copy, "auto"), which(checkout_copy, "off")
    assert compiled["modern"] and compiled["reasons"]
    assert not compiled["text"]  # not one of native.MODULES
    assert not pure["modern"] and not pure["reasons"]
    # classify.prepare finds its builders by inspecting the modules: compiled ones too.
    assert compiled["builders"] == pure["builders"] and compiled["builders"]
    assert compiled["caches"] == pure["caches"]


def test_an_edited_source_makes_the_build_stale(checkout_copy):
    # etl/text.py is not compiled, but a compiled module may have inlined what it declares.
    text = checkout_copy / "etl" / "text.py"
    text.write_text(text.read_text(encoding="utf-8") + "\n# edited\n", encoding="utf-8")
    found = which(checkout_copy, "auto")
    assert not found["modern"] and not found["reasons"]
    refused = run(checkout_copy, "require")
    assert refused.returncode != 0
    assert "IMR_NATIVE=require but the parser has no current compiled build" in refused.stderr


def test_a_new_source_file_makes_the_build_stale(checkout_copy):
    (checkout_copy / "etl" / "parse" / "extra.py").write_text("X = 1\n", encoding="utf-8")
    assert not which(checkout_copy, "auto")["modern"]


def test_without_a_build_the_parser_is_pure_and_require_fails(checkout_copy):
    shutil.rmtree(checkout_copy / ".native")
    assert not which(checkout_copy, "auto")["modern"]
    assert run(checkout_copy, "require").returncode != 0


def test_a_build_removes_only_its_own_stale_builds(tmp_path):
    native_dir = tmp_path / ".native"
    keep, stale, foreign = native_dir / "keep", native_dir / "stale", native_dir / "foreign"
    for folder in (keep, stale, foreign):
        folder.mkdir(parents=True)
    for folder in (keep, stale):
        (folder / native.MANIFEST).write_text(json.dumps({"kind": native.KIND}))
    (foreign / native.MANIFEST).write_text(json.dumps({"kind": "something else"}))
    (native_dir / "notes.txt").write_text("mine")
    native._remove_stale(native_dir, keep=keep)
    assert sorted(p.name for p in native_dir.iterdir()) == ["foreign", "keep", "notes.txt"]


def test_an_unknown_mode_is_refused(checkout_copy):
    done = run(checkout_copy, "fast")
    assert done.returncode != 0
    assert "IMR_NATIVE must be one of auto, off, require, got 'fast'" in done.stderr


def test_a_build_compiles_a_copy_of_the_sources_into_a_folder_named_by_their_digest(tmp_path):
    root, native_dir = tmp_path / "etl", tmp_path / ".native"
    shutil.copytree(ROOT / "etl", root, ignore=shutil.ignore_patterns("__pycache__"))
    before = {p: p.stat().st_mtime_ns for p in root.rglob("*")}
    try:
        folder, built = native.build(native_dir, root)
    except native.NativeError as error:  # no C compiler here
        if os.environ.get("CI"):
            raise
        pytest.skip(str(error))
    assert built and folder == native.build_dir(native.sources_digest(root), native_dir)
    assert native.is_build_of(folder, native.sources_digest(root))
    for module in native.MODULES:
        *package, name = module.split(".")
        assert folder.joinpath(*package, name + native.SUFFIX).is_file(), module
    # The sources were compiled from a copy: not a file of theirs was added or changed.
    assert {p: p.stat().st_mtime_ns for p in root.rglob("*")} == before
    # Nothing left behind but the build; asked again, it is current and not rebuilt.
    assert [p.name for p in native_dir.iterdir()] == [folder.name]
    assert native.build(native_dir, root) == (folder, False)
