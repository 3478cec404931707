from __future__ import annotations

import subprocess
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared"
REAL = SHARED / "letters" / "real"


def require_shared() -> Path:
    """The shared real letters, or a clean skip on machines that do not have them."""
    if not (REAL / "INDEX.tsv").is_file():
        pytest.skip(f"real letters not found at {REAL} (they live beside the repo, in ../shared)")
    return REAL


def wait_until_healthy(
    url: str, process: subprocess.Popen[Any], seconds: float, log: Callable[[], str]
) -> None:
    """Return once the dashboard at ``url`` answers its health check; fail if it dies first."""
    deadline = time.monotonic() + seconds
    while True:
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as answer:
                if answer.status == 200:
                    return
        except OSError:
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            pytest.fail(f"the dashboard did not start:\n{log()}")
        time.sleep(0.3)


def stop(process: subprocess.Popen[Any]) -> None:
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=10)
