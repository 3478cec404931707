"""The dashboard's server process (``imr dashboard``): Streamlit's own ``streamlit run``, after
importing every module the pages import.

Streamlit imports a page's modules on the first run that needs them, so the server's first
visitor of each page waited for them (scipy and statsmodels, altair, polars: about 1.5 s here).
The server imports them while it starts instead, before it accepts a connection. Nothing is
queried or cached here: the warehouse is opened, and every query runs, on a visitor's request.
"""

from __future__ import annotations

import ast
import importlib
import importlib.util
import logging
from collections.abc import Collection
from pathlib import Path

PAGES = Path(__file__).resolve().parent / "app_pages"
# Imported by the entry script (dashboard/app.py) before any page.
ENTRY = ("pandas", "streamlit", "dashboard.ui")


def page_modules() -> list[str]:
    """Every module a page script imports, read from the scripts themselves (sorted)."""
    names = set(ENTRY)
    for script in PAGES.glob("*.py"):
        for node in ast.walk(ast.parse(script.read_text(), filename=str(script))):
            if isinstance(node, ast.Import):
                names.update(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                names.add(node.module)
                # `from dashboard import ui` imports a module; `from x import y`, a name of x.
                inner = (f"{node.module}.{alias.name}" for alias in node.names)
                names.update(name for name in inner if _is_module(name))
    return sorted(names)


def _is_module(name: str) -> bool:
    try:
        return importlib.util.find_spec(name) is not None
    except ImportError:  # a name inside a module, not a module
        return False


def preload() -> list[str]:
    """Import every module the pages import; returns their names."""
    # Decorating a cached function before Streamlit's runtime exists logs a warning each;
    # harmless (a cache binds to the runtime when first called), and not for the server's log.
    logging.disable(logging.WARNING)
    try:
        names = page_modules()  # finding `x.y` imports x
        for name in names:
            importlib.import_module(name)
    finally:
        logging.disable(logging.NOTSET)
    return names


def use_server_options(keep: Collection[str] = ("client.showErrorDetails",)) -> None:
    """Set this process's Streamlit options to the server's (``etl.launch.config_options``,
    which ``imr dashboard`` passes to ``streamlit run``), but those in ``keep``: for AppTest,
    which reads no config file, so that the probes and the page tests run the pages as the
    server does (magic and usage statistics off). The error details stay by default: a probe
    tells a page's error, the tests read the exceptions' text."""
    from streamlit import config

    from etl.launch import config_options

    for option, value in config_options().items():
        if option not in keep:
            config.set_option(option, value)


def main() -> None:
    # Run as `python -m dashboard.serve`: `dashboard` is importable, so the pages' imports are.
    preload()
    from streamlit.web import cli

    # The same program name as `python -m streamlit`: the server records its command line.
    cli.main(prog_name="streamlit")


if __name__ == "__main__":
    main()
