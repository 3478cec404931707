"""The parser compiled by mypyc, used only while it is the build of the sources beside it.

``python -m etl.native build`` (``make native``, part of ``make setup``) compiles ``MODULES``
(the letter parser and classifier: most of an ingest's CPU) with mypyc into
``.native/<tag>/`` at the checkout's top, from a copy of the sources, so the source tree never
holds a compiled module. ``etl.parse`` and ``etl.classify`` call ``extend_path`` first: it puts
the build's folder first on the package's ``__path__`` only when the build's manifest holds the
digest of every ``etl/**/*.py`` as it is now. An edited source anywhere in ``etl`` (mypyc inlines
other modules' constants) makes the build stale and the pure modules are imported, never a
compiled module of other code. An installed wheel has no build: it is pure Python.

``IMR_NATIVE`` (``etl.settings.native_mode``): ``auto`` uses a current build when there is one;
``off`` never does; ``require`` fails at import without one (CI sets it: the tests then prove
the compiled parser).
"""

from __future__ import annotations

import argparse
import functools
import hashlib
import importlib.machinery
import importlib.util
import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from etl.settings import native_mode

MODULES = (
    "etl.parse.common",
    "etl.parse.modern",
    "etl.parse.notice",
    "etl.classify.drugs",
    "etl.classify.gates",
    "etl.classify.guidelines",
    "etl.classify.reasons",
    "etl.classify.requests",
    "etl.classify.specialties",
)
PACKAGE_ROOT = Path(__file__).resolve().parent  # etl/
NATIVE_DIR = PACKAGE_ROOT.parent / ".native"
MANIFEST = "manifest.json"
# Marks a folder of NATIVE_DIR as this tool's (a build removes only its own stale builds).
KIND = "imr-native-build"
SUFFIX = importlib.machinery.EXTENSION_SUFFIXES[0]  # e.g. .cpython-311-x86_64-linux-gnu.so
GROUP = "imr_native"  # mypyc's shared library: imr_native__mypyc<SUFFIX>

SETUP = """
import sys
from setuptools import setup
from mypyc.build import mypycify

setup(
    name="imr-native",
    script_args=["build_ext", "--inplace", "--quiet"],
    ext_modules=mypycify(
        ["--ignore-missing-imports", *sys.argv[2:]],
        opt_level="3",
        debug_level="0",
        group_name=sys.argv[1],
    ),
)
"""


class NativeError(RuntimeError):
    """The compiled parser could not be built, or is required and absent."""


def sources_digest(root: Path = PACKAGE_ROOT) -> str:
    """A digest of every .py under ``root`` (paths and bytes) and of this interpreter's ABI."""
    digest = hashlib.sha256(f"{KIND}\0{SUFFIX}\0{sys.version_info[:2]}\0".encode())
    for path in sorted(root.rglob("*.py")):
        if "__pycache__" in path.parts:
            continue
        digest.update(path.relative_to(root).as_posix().encode() + b"\0")
        digest.update(hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()


def build_dir(digest: str, native_dir: Path = NATIVE_DIR) -> Path:
    return native_dir / digest[:20]


def read_manifest(folder: Path) -> dict[str, Any] | None:
    try:
        manifest = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return manifest if isinstance(manifest, dict) and manifest.get("kind") == KIND else None


def is_build_of(folder: Path, digest: str) -> bool:
    """Whether ``folder`` holds a complete build of the sources of ``digest``."""
    manifest = read_manifest(folder)
    return manifest is not None and manifest.get("digest") == digest


@functools.cache
def current_build() -> Path | None:
    """The folder of the build of the sources as they are now, its shared library loaded; None
    when there is none (or IMR_NATIVE is ``off``). Computed once a process."""
    mode = native_mode()
    if mode == "off":
        return None
    digest = sources_digest()
    folder = build_dir(digest)
    if not is_build_of(folder, digest):
        if mode == "require":
            raise NativeError(
                "IMR_NATIVE=require but the parser has no current compiled build: "
                "run `make native` (or set IMR_NATIVE=auto)"
            )
        return None
    _load_group(folder)
    return folder


def _load_group(folder: Path) -> None:
    """Import mypyc's shared library by its path: the compiled modules import it by name."""
    name = f"{GROUP}__mypyc"
    if name in sys.modules:
        return
    spec = importlib.util.spec_from_file_location(name, folder / f"{name}{SUFFIX}")
    if spec is None or spec.loader is None:
        raise NativeError(f"cannot load {folder / name}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)


def extend_path(package: str, path: list[str]) -> None:
    """Put the current build's folder of ``package`` first on its ``path`` (its
    ``__path__``), when there is a current build."""
    folder = current_build()
    if folder is None:
        return
    inside = folder.joinpath(*package.split("."))
    if inside.is_dir() and str(inside) not in path:
        path.insert(0, str(inside))


def compiled(module: Any) -> bool:
    """Whether ``module`` was imported from a compiled build."""
    return str(getattr(module, "__file__", "")).endswith(SUFFIX)


# -- build ------------------------------------------------------------------------------------


def build(native_dir: Path = NATIVE_DIR, root: Path = PACKAGE_ROOT) -> tuple[Path, bool]:
    """Compile ``MODULES`` of the sources under ``root`` (an ``etl`` folder) into
    ``native_dir``; return the build's folder and whether it was built now (False: it was
    current). Earlier builds in ``native_dir`` are removed."""
    digest = sources_digest(root)
    folder = build_dir(digest, native_dir)
    if is_build_of(folder, digest):
        return folder, False
    native_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=".building-", dir=native_dir) as work:
        work_dir = Path(work)
        shutil.copytree(root, work_dir / "etl", ignore=shutil.ignore_patterns("__pycache__"))
        files = [module.replace(".", "/") + ".py" for module in MODULES]
        done = subprocess.run(
            [sys.executable, "-c", SETUP, GROUP, *files],
            cwd=work_dir,
            capture_output=True,
            text=True,
            check=False,
        )
        if done.returncode != 0:
            tail = "\n".join((done.stderr or done.stdout).strip().splitlines()[-15:])
            raise NativeError(f"mypyc could not build the parser:\n{tail}")
        staged = work_dir / "staged"
        for module in (*MODULES, f"{GROUP}__mypyc"):
            relative = Path(*module.split(".")).with_suffix(SUFFIX)
            target = staged / relative
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(work_dir / relative, target)
        (staged / MANIFEST).write_text(
            json.dumps(
                {"kind": KIND, "digest": digest, "modules": list(MODULES), "mypy": _mypy()},
                indent=2,
            ),
            encoding="utf-8",
        )
        if folder.exists():  # a build is renamed into place whole, with its manifest
            if not is_build_of(folder, digest):
                raise NativeError(f"{folder} holds files this tool did not write")
            return folder, False  # another `make native` finished first
        staged.rename(folder)
    _remove_stale(native_dir, keep=folder)
    return folder, True


def _mypy() -> str:
    from mypy.version import __version__

    return __version__


def _remove_stale(native_dir: Path, keep: Path) -> None:
    """Remove this tool's other builds (folders whose manifest is ours); nothing else."""
    for folder in native_dir.iterdir():
        if folder != keep and folder.is_dir() and read_manifest(folder) is not None:
            shutil.rmtree(folder)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m etl.native",
        description="Compile the letter parser with mypyc (a checkout's .native/ folder).",
    )
    parser.add_argument("command", choices=["build", "status"])
    parser.add_argument(
        "--strict",
        action="store_true",
        help="fail when the build fails (so does IMR_NATIVE=require; default: say so, and the "
        "parser stays pure Python)",
    )
    args = parser.parse_args(argv)
    if args.command == "status":
        digest = sources_digest()
        current = is_build_of(build_dir(digest), digest)
        print("current" if current else "none (the parser runs as pure Python)")
        return 0
    try:
        folder, built = build()
    except (NativeError, OSError, ImportError) as error:
        print(f"etl.native: {error}\nThe parser stays pure Python.", file=sys.stderr)
        return 1 if args.strict or native_mode() == "require" else 0
    print(f"etl.native: {'built' if built else 'current'}: {folder}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
