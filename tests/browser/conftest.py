"""Browser tests: a real dashboard server on loopback, driven by Debian's Chromium via Playwright.

Outside CI a machine without Chromium skips these tests with a message; under CI (CI=true) a
missing Chromium is a failure, so a green CI always means the browser tests ran.

The warehouse holds the sample letters, the real letters when present, a 300-letter synthetic
corpus and two crafted hostile letters (``hostile.py``): formula-like requests (CSV injection)
and HTML/JS in the summary, a request and a rationale (must stay inert in the browser).
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect

from etl import launch
from etl.ingest import ingest
from etl.settings import Settings
from tests.browser import hostile
from tests.conftest import REAL, ROOT, stop, wait_until_healthy

CHROMIUM_FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
    "--disable-dev-shm-usage",
    # Tabs in the background must keep running at full speed: the concurrency test drives 20.
    "--disable-background-timer-throttling",
    "--disable-renderer-backgrounding",
    "--disable-backgrounding-occluded-windows",
]

# Assertions wait this long for Streamlit to render (lazy chunks on a busy 2-core machine).
expect.set_options(timeout=15_000)

# The viewport every test page gets (and the README screenshot's size).
VIEWPORT = {"width": 1400, "height": 1000}


def chromium_path() -> str | None:
    for name in ("chromium", "chromium-browser"):
        found = shutil.which(name)
        if found:
            return found
    return None


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    here = Path(__file__).parent
    for item in items:
        if here in Path(str(item.fspath)).parents:
            item.add_marker(pytest.mark.browser)


@pytest.fixture(scope="session", autouse=True)
def _require_chromium() -> None:
    if chromium_path():
        return
    message = "Debian's chromium is not installed (apt-get install -y chromium)"
    if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
        pytest.fail(f"{message}: browser tests must run under CI")
    pytest.skip(message)


@pytest.fixture(scope="session")
def browser_type_launch_args() -> dict[str, Any]:
    # pytest-playwright launches this instead of a downloaded browser build.
    return {"executable_path": chromium_path(), "headless": True, "args": CHROMIUM_FLAGS}


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args: dict[str, Any]) -> dict[str, Any]:
    return {**browser_context_args, "viewport": VIEWPORT, "accept_downloads": True}


@pytest.fixture(scope="session")
def shared_context(
    browser: Browser, browser_context_args: dict[str, Any]
) -> Iterator[BrowserContext]:
    """One browser context for the whole run: its HTTP cache keeps Streamlit's JavaScript
    warm, which roughly halves every page load on a 2-core machine."""
    context = browser.new_context(**browser_context_args)
    yield context
    context.close()


@pytest.fixture
def page(shared_context: BrowserContext) -> Iterator[Page]:
    """A fresh tab per test (its own Streamlit session), closed afterwards."""
    tab = shared_context.new_page()
    tab.set_default_timeout(30_000)
    yield tab
    tab.close()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def synthetic_corpus(folder: Path, letters: int, seed: int) -> Path | None:
    """A synthetic demo corpus (None when the generator is not available)."""
    try:
        from etl.demo import write_corpus
    except ImportError:  # the generator is optional for these tests
        return None
    write_corpus(folder, letters=letters, seed=seed, pdf_share=0.0)
    return folder


@pytest.fixture(scope="session")
def browser_warehouse(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The seed letters, the real letters when present, a small synthetic corpus and the
    crafted hostile letters. Tests compare what the browser shows with this file."""
    folder = tmp_path_factory.mktemp("browser")
    inputs = [ROOT / "data" / "samples", hostile.write_letters(folder / "hostile")]
    if (REAL / "pdf").is_dir():
        inputs.append(REAL / "pdf")
    corpus = synthetic_corpus(folder / "corpus", letters=300, seed=11)
    if corpus:
        inputs.append(corpus)
    settings = Settings(db=folder / "wh" / "current.duckdb", jobs=2)
    ingest(inputs, settings)
    return settings.db


@dataclass
class Server:
    url: str
    port: int
    process: subprocess.Popen[bytes]
    log: Path

    def output(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""


@contextmanager
def run_dashboard(db: Path, log: Path, *, explicit_address: bool = True) -> Iterator[Server]:
    """The dashboard's Streamlit server, started as `imr dashboard` starts it (``etl.launch``),
    on a free loopback port until the block ends, from a folder that is not the checkout.

    With ``explicit_address=False`` the bind address is the project's config's alone (the
    default a user gets). Output goes to ``log``, never to an unread pipe (a full pipe would
    block the server).
    """
    port = free_port()
    command = launch.command(port=port, host="127.0.0.1" if explicit_address else None)
    with log.open("wb") as sink:
        process = subprocess.Popen(
            command,
            cwd=log.parent,
            env=launch.environment(db),
            stdout=sink,
            stderr=subprocess.STDOUT,
        )
    server = Server(f"http://127.0.0.1:{port}", port, process, log)
    try:
        wait_until_healthy(server.url, process, 60, server.output)
        yield server
    finally:
        stop(process)


@pytest.fixture(scope="session")
def dashboard_server(
    browser_warehouse: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Server]:
    log = tmp_path_factory.mktemp("server") / "streamlit.log"
    with run_dashboard(browser_warehouse, log) as server:
        yield server


@pytest.fixture(scope="session")
def dashboard_url(dashboard_server: Server) -> str:
    return dashboard_server.url


@pytest.fixture(scope="session")
def small_warehouse(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The sample letters only: a warehouse the ingest-swap test may grow."""
    folder = tmp_path_factory.mktemp("small")
    settings = Settings(db=folder / "wh" / "current.duckdb", jobs=1)
    ingest([ROOT / "data" / "samples"], settings)
    return settings.db


@pytest.fixture(scope="session")
def default_config_server(
    small_warehouse: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Server]:
    """A server started without ``--host``: binding comes from the project's config alone."""
    log = tmp_path_factory.mktemp("default-server") / "streamlit.log"
    with run_dashboard(small_warehouse, log, explicit_address=False) as server:
        yield server
