"""The package as a user gets it: a wheel installed in a fresh virtual environment, every command
run from a folder that is not the checkout.

The wheel is built from a copy of the sources (an in-tree build would leave ``build/`` behind, and
stale files there would end up in the next wheel), then installed without its dependencies into a
new venv: they are taken from this test environment through a ``.pth`` line, so the test needs no
download and takes seconds. What that could hide is a run-time import of a development-only
package (pytest, hypothesis, playwright…, or a dependency declared only in the ``dev`` extra):
such modules are made unimportable in the venv, so `imr demo-corpus` without fpdf2 in the
run-time dependencies, say, fails here as it would for a user.
"""

from __future__ import annotations

import email.parser
import os
import re
import shutil
import socket
import subprocess
import sys
import tomllib
import urllib.request
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any

import pytest
from packaging.requirements import Requirement

from tests.conftest import ROOT, stop, wait_until_healthy

PACKAGES = ("etl", "dashboard")
# In the package folders but not package data: notes for developers.
NOT_SHIPPED = {"README.md"}


def _pyproject() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))


def test_every_package_data_glob_matches_a_file() -> None:
    globs = _pyproject()["tool"]["setuptools"]["package-data"]
    assert set(globs) <= set(PACKAGES), globs
    for package, patterns in globs.items():
        for pattern in patterns:
            assert list((ROOT / package).glob(pattern)), f"{package}: {pattern} matches nothing"


# --- the wheel --------------------------------------------------------------------------------


@dataclass
class Installed:
    wheel: Path
    venv: Path
    bin: Path
    site: Path
    env: dict[str, str]
    elsewhere: Path  # the working folder of every command: not the checkout

    def imr(self, *args: str | Path, timeout: float = 180) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(self.bin / "imr"), *map(str, args)],
            cwd=self.elsewhere,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=timeout,
        )


def _norm(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _closure(requirements: list[Requirement], extra: str = "") -> dict[str, str]:
    """The installed distributions these requirements pull in: normalised name -> version."""
    found: dict[str, str] = {}
    seen: set[tuple[str, frozenset[str]]] = set()
    todo = [(r, extra) for r in requirements]
    while todo:
        requirement, wanted_by = todo.pop()
        if requirement.marker and not requirement.marker.evaluate({"extra": wanted_by}):
            continue
        key = (_norm(requirement.name), frozenset(requirement.extras))
        if key in seen:
            continue
        seen.add(key)
        try:
            dist = metadata.distribution(requirement.name)
        except metadata.PackageNotFoundError:
            continue
        found[key[0]] = dist.version
        for line in dist.requires or []:
            nested = Requirement(line)
            todo += [(nested, e) for e in ("", *requirement.extras)]
    return found


def _wheel_requirements(wheel: Path) -> list[Requirement]:
    with zipfile.ZipFile(wheel) as archive:
        name = next(n for n in archive.namelist() if n.endswith(".dist-info/METADATA"))
        headers = email.parser.Parser().parsestr(archive.read(name).decode("utf-8"))
    return [Requirement(line) for line in headers.get_all("Requires-Dist") or []]


def _is_extra(requirement: Requirement) -> bool:
    return requirement.marker is not None and "extra" in str(requirement.marker)


def _dev_only_modules(requirements: list[Requirement]) -> set[str]:
    """Top-level modules of the distributions only the ``dev`` extra brings in."""
    runtime = _closure([r for r in requirements if not _is_extra(r)])
    for requirement in requirements:
        if _is_extra(requirement):
            continue
        version = runtime.get(_norm(requirement.name))
        if version is None or not requirement.specifier.contains(version, prereleases=True):
            pytest.fail(f"this environment does not satisfy {requirement}: run `make setup`")
    dev = set(_closure([r for r in requirements if _is_extra(r)], extra="dev")) - set(runtime)
    return {
        module
        for module, dists in metadata.packages_distributions().items()
        if dists and all(_norm(d) in dev for d in dists)
    }


_BLOCKER = '''"""Written by tests/test_wheel.py: dev-only modules are not installed for users."""
import sys

BLOCKED = frozenset({blocked!r})


class DevOnly:
    @classmethod
    def find_spec(cls, name, path=None, target=None):
        if name.partition(".")[0] in BLOCKED:
            raise ModuleNotFoundError(f"No module named {{name!r}} (dev-only)", name=name)
        return None


sys.meta_path.insert(0, DevOnly)
'''


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Installed:
    tmp = tmp_path_factory.mktemp("wheel")
    source = tmp / "src"
    source.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy2(ROOT / name, source / name)
    for package in PACKAGES:
        ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
        shutil.copytree(ROOT / package, source / package, ignore=ignore)
    dist = tmp / "dist"
    build = [sys.executable, "-m", "pip", "wheel", str(source), "--no-deps", "-w", str(dist), "-q"]
    done = subprocess.run(build, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    (wheel,) = dist.glob("imr_outcomes-*.whl")

    venv = tmp / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    python = venv / "bin" / "python"
    install = [sys.executable, "-m", "pip", "--python", str(python), "install", "-q"]
    done = subprocess.run(
        [*install, "--no-deps", "--no-index", str(wheel)], capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    site = Path(
        subprocess.check_output(
            [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
            text=True,
        ).strip()
    )
    # The dependencies: this environment's site-packages, after the venv's own (so the wheel's
    # `etl` and `dashboard` come first; .pth files in the added folder are not processed, so an
    # editable install of the checkout there stays invisible).
    import sysconfig

    ours = dict.fromkeys([sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]])
    (site / "zz_test_dependencies.pth").write_text("".join(f"{p}\n" for p in ours))
    blocked = _dev_only_modules(_wheel_requirements(wheel))
    assert "pytest" in blocked, blocked
    (site / "_imr_dev_only.py").write_text(_BLOCKER.format(blocked=sorted(blocked)))
    (site / "zz_imr_dev_only.pth").write_text("import _imr_dev_only\n")

    elsewhere = tmp / "elsewhere"
    elsewhere.mkdir()
    # Settings a user's folder or shell might hold: the project's own must win over them.
    (elsewhere / ".streamlit").mkdir()
    (elsewhere / ".streamlit" / "config.toml").write_text(
        '[client]\ntoolbarMode = "developer"\nshowErrorDetails = "full"\n[theme]\nfont = "serif"\n'
    )
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("IMR_", "STREAMLIT_", "PYTHON")) and k != "VIRTUAL_ENV"
    }
    env.update(
        PATH=f"{venv / 'bin'}{os.pathsep}{env.get('PATH', '')}",
        XDG_DATA_HOME=str(tmp / "xdg"),
        IMR_JOBS="2",
        STREAMLIT_CLIENT_TOOLBAR_MODE="developer",
    )
    return Installed(wheel, venv, venv / "bin", site, env, elsewhere)


def test_the_wheel_holds_every_file_of_the_packages(installed: Installed) -> None:
    with zipfile.ZipFile(installed.wheel) as archive:
        shipped = set(archive.namelist())
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*"):
            relative = path.relative_to(ROOT)
            if path.is_dir() or "__pycache__" in relative.parts or path.name in NOT_SHIPPED:
                continue
            assert relative.as_posix() in shipped, f"{relative} is not in the wheel"


def test_the_installed_package_is_the_one_imported(installed: Installed) -> None:
    code = "import etl.cli, dashboard; print(etl.cli.__file__); print(dashboard.__file__)"
    done = subprocess.run(
        [str(installed.bin / "python"), "-c", code],
        cwd=installed.elsewhere,
        env=installed.env,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr
    for line in done.stdout.splitlines():
        assert Path(line).is_relative_to(installed.site), line
    blocked = subprocess.run(
        [str(installed.bin / "python"), "-c", "import pytest"], env=installed.env
    )
    assert blocked.returncode != 0, "development-only modules must not be importable"


def test_corpus_ingest_export_from_another_folder(installed: Installed) -> None:
    corpus = installed.imr("demo-corpus", "--letters", "30", "--out", "corpus")
    assert corpus.returncode == 0, corpus.stderr
    assert "letters: 30" in corpus.stdout
    assert (installed.elsewhere / "corpus" / "expected.jsonl").is_file()
    # PDF letters need fpdf2 at run time (whatever share of 30 letters the defaults draw as PDF).
    pdfs = installed.imr("demo-corpus", "--letters", "3", "--pdf-share", "1", "--out", "pdfs")
    assert pdfs.returncode == 0, pdfs.stderr
    assert "pdfs: 3" in pdfs.stdout

    ingest = installed.imr("ingest", "corpus", "--db", "wh/current.duckdb", "--quiet")
    assert ingest.returncode == 0, ingest.stderr
    assert "30 letters loaded" in ingest.stdout, ingest.stdout

    export = installed.imr("export", "out", "--db", "wh/current.duckdb")
    assert export.returncode == 0, export.stderr
    dictionary = (installed.elsewhere / "out" / "warehouse.md").read_text(encoding="utf-8")
    for table in ("letters", "decisions", "citations", "rejects"):
        assert f"### `{table}`" in dictionary, table
    assert (installed.elsewhere / "out" / "rejects.parquet").is_file()


def test_demo_builds_in_the_user_data_folder(installed: Installed) -> None:
    done = installed.imr("demo", "--letters", "20", "--no-serve", "--quiet")
    assert done.returncode == 0, done.stderr
    home = Path(installed.env["XDG_DATA_HOME"]) / "imr-outcomes"
    assert (home / "demo.duckdb").exists(), done.stdout
    assert (home / "demo-letters" / "expected.jsonl").is_file()
    assert "20 letters loaded" in done.stdout, done.stdout
    assert f"imr dashboard --db {home / 'demo.duckdb'}" in done.stdout


# --- the dashboard ----------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Served:
    url: str
    port: int
    process: subprocess.Popen[bytes]
    log: Path


@pytest.fixture(scope="module")
def served(installed: Installed) -> Iterator[Served]:
    db = installed.elsewhere / "served" / "current.duckdb"
    seeds = ROOT / "data" / "samples" / "seeds"
    assert installed.imr("ingest", seeds, "--db", db, "--quiet").returncode == 0
    port = _free_port()
    log = installed.elsewhere / "dashboard.log"
    with log.open("wb") as sink:
        process = subprocess.Popen(
            [str(installed.bin / "imr"), "dashboard", "--db", str(db), "--port", str(port)],
            cwd=installed.elsewhere,
            env=installed.env,
            stdout=sink,
            stderr=subprocess.STDOUT,
        )
    server = Served(f"http://127.0.0.1:{port}", port, process, log)
    try:
        wait_until_healthy(server.url, process, 90, lambda: log.read_text(errors="replace"))
        yield server
    finally:
        stop(process)


def test_dashboard_answers_health_with_xsrf(served: Served) -> None:
    with urllib.request.urlopen(f"{served.url}/_stcore/health", timeout=10) as answer:
        assert answer.read() == b"ok"
        cookies = answer.headers.get_all("Set-Cookie") or []
    assert any(c.startswith("_streamlit_xsrf=") for c in cookies), cookies


@pytest.mark.skipif(not os.path.exists("/proc/self/cmdline"), reason="needs Linux /proc")
def test_dashboard_serves_the_installed_app(served: Served, installed: Installed) -> None:
    """`imr dashboard` execs Streamlit: same process, the app and config of the installed
    package, every project setting given on the command line."""
    with open(f"/proc/{served.process.pid}/cmdline", "rb") as handle:
        argv = [a.decode() for a in handle.read().split(b"\0") if a]
    app = Path(argv[argv.index("run") + 1])
    assert app == installed.site / "dashboard" / "app.py"

    def flag(name: str) -> str:
        return argv[argv.index(name) + 1]

    assert flag("--client.showErrorDetails") == "none"
    assert flag("--client.toolbarMode") == "viewer"
    assert flag("--server.enableXsrfProtection") == "true"
    assert flag("--server.address") == "127.0.0.1"
    assert flag("--server.port") == str(served.port)


def _new_session(port: int, host: str = "127.0.0.1") -> Any:
    """The NewSession message a browser gets when its first run starts (the client config)."""
    from streamlit.proto.BackMsg_pb2 import BackMsg
    from streamlit.proto.ForwardMsg_pb2 import ForwardMsg
    from websockets.sync.client import connect

    sock = socket.create_connection(("127.0.0.1", port), timeout=30)
    with connect(f"ws://{host}:{port}/_stcore/stream", sock=sock, open_timeout=30) as stream:
        rerun = BackMsg()
        rerun.rerun_script.query_string = ""
        rerun.rerun_script.page_script_hash = ""
        stream.send(rerun.SerializeToString())
        for _ in range(100):
            message = ForwardMsg()
            message.ParseFromString(stream.recv(timeout=60))
            if message.WhichOneof("type") == "new_session":
                return message.new_session
    raise AssertionError("no new_session message")


def test_dashboard_applies_the_project_settings(served: Served, installed: Installed) -> None:
    """The folder's .streamlit/config.toml and STREAMLIT_CLIENT_TOOLBAR_MODE say otherwise;
    the project's settings (shipped in the wheel) win."""
    from streamlit.proto.NewSession_pb2 import Config

    shipped = tomllib.loads(
        (installed.site / "dashboard" / ".streamlit" / "config.toml").read_text(encoding="utf-8")
    )
    assert shipped == tomllib.loads(
        (ROOT / "dashboard" / ".streamlit" / "config.toml").read_text(encoding="utf-8")
    )
    session = _new_session(served.port)
    assert session.config.toolbar_mode == Config.ToolbarMode.VIEWER
    theme = session.custom_theme
    assert theme.body_font == shipped["theme"]["font"]
    assert theme.light.primary_color == shipped["theme"]["light"]["primaryColor"]
    assert theme.dark.primary_color == shipped["theme"]["dark"]["primaryColor"]


def test_dashboard_refuses_a_rebound_host(served: Served) -> None:
    from websockets.exceptions import InvalidStatus

    with pytest.raises(InvalidStatus) as refused:
        _new_session(served.port, host="evil.example")
    assert refused.value.response.status_code == 403
