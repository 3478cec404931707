"""Browser tests: a real dashboard server on loopback, driven by Debian's Chromium via Playwright.

Outside CI a machine without Chromium skips these tests with a message; under CI (CI=true) a
missing Chromium is a failure, so a green CI always means the browser tests ran.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from etl.ingest import ingest
from etl.settings import Settings
from tests.conftest import REAL, ROOT

CHROMIUM_FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]


def chromium_path() -> str | None:
    for name in ("chromium", "chromium-browser"):
        found = shutil.which(name)
        if found:
            return found
    return None


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


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="session")
def browser_warehouse(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The seed letters, the real letters when present, and a small synthetic corpus."""
    folder = tmp_path_factory.mktemp("browser")
    inputs = [ROOT / "data" / "samples"]
    if (REAL / "pdf").is_dir():
        inputs.append(REAL / "pdf")
    try:
        from etl.demo import write_corpus
    except ImportError:  # the generator is optional for these tests
        pass
    else:
        corpus = folder / "corpus"
        write_corpus(corpus, letters=300, seed=11, pdf_share=0.0)
        inputs.append(corpus)
    settings = Settings(db=folder / "wh" / "current.duckdb", jobs=2)
    ingest(inputs, settings)
    return settings.db


@pytest.fixture(scope="session")
def dashboard_url(browser_warehouse: Path) -> Iterator[str]:
    port = free_port()
    env = dict(os.environ, IMR_DB=str(browser_warehouse))
    command = [
        sys.executable,
        "-m",
        "streamlit",
        "run",
        str(ROOT / "dashboard" / "app.py"),
        "--server.headless",
        "true",
        "--server.address",
        "127.0.0.1",
        "--server.port",
        str(port),
        "--browser.gatherUsageStats",
        "false",
    ]
    server = subprocess.Popen(
        command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as answer:
                    if answer.status == 200:
                        break
            except OSError:
                pass
            if server.poll() is not None or time.monotonic() > deadline:
                output = server.stdout.read().decode() if server.stdout else ""
                pytest.fail(f"the dashboard did not start:\n{output}")
            time.sleep(0.3)
        yield url
    finally:
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
