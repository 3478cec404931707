"""The server imports what the pages import before it accepts a visitor (dashboard/serve.py)."""

from __future__ import annotations

import json
import subprocess
import sys

from etl import launch

# Run in a fresh interpreter: the test process has imported most of these already.
_PROBE = r"""
import ast, json, sys
from pathlib import Path
from dashboard import serve

names = serve.preload()
before = set(sys.modules)
# Each page's own import statements, run after the preload, must import nothing new.
new = {}
for script in sorted(serve.PAGES.glob("*.py")):
    tree = ast.parse(script.read_text())
    imports = [n for n in tree.body if isinstance(n, (ast.Import, ast.ImportFrom))]
    exec(compile(ast.Module(body=imports, type_ignores=[]), str(script), "exec"), {})
    new[script.stem] = sorted(set(sys.modules) - before)
print(json.dumps({"names": names, "new": new}))
"""


def test_the_server_imports_every_page_module_before_a_visitor_comes() -> None:
    done = subprocess.run(
        [sys.executable, "-c", _PROBE], capture_output=True, text=True, check=True, timeout=120
    )
    found = json.loads(done.stdout)
    assert {page: new for page, new in found["new"].items() if new} == {}
    # The heavy ones the first visitor of a page used to wait for.
    assert {"dashboard.stats", "dashboard.ui", "polars", "streamlit"} <= set(found["names"])
    assert len(found["new"]) >= 10  # every page was read
    # Decorating cached functions before the runtime exists must not fill the server's log.
    assert "No runtime found" not in done.stderr


def test_the_launcher_starts_the_server_through_the_preload() -> None:
    line = launch.command(port=8599)
    assert line[1:5] == ["-m", "dashboard.serve", "run", str(launch.APP)]
