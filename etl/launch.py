"""The dashboard's Streamlit command line, in one place: `imr dashboard`, `imr demo` and the
browser tests all start the server with `command` and `environment`.

The project's Streamlit settings (viewer toolbar, no error details, XSRF, the Host allow-list,
the theme…) live in ``dashboard/.streamlit/config.toml``, shipped in the package. Streamlit
looks for a config file in ``~/.streamlit``, the working folder and the script's folder, and a
``STREAMLIT_*`` variable overrides them; a command-line flag overrides all of these. So every
option of that file is passed as a flag: the dashboard gets the project's settings whatever
folder it is started from and whatever the user's own Streamlit config says.
"""

from __future__ import annotations

import os
import sys
import tomllib
from collections.abc import Iterable, Mapping
from pathlib import Path

# `etl` and `dashboard` are installed side by side (one wheel, or the checkout).
APP = Path(__file__).resolve().parent.parent / "dashboard" / "app.py"
CONFIG = APP.parent / ".streamlit" / "config.toml"

# Sections whose nested tables are options too (theme.light.primaryColor), as Streamlit reads them.
_NESTED = ("theme",)


def config_options(path: Path = CONFIG) -> dict[str, object]:
    """The file's options, named as Streamlit names them: ``server.address``,
    ``theme.light.primaryColor``…"""
    options: dict[str, object] = {}

    def walk(prefix: str, table: Mapping[str, object]) -> None:
        for name, value in table.items():
            key = f"{prefix}.{name}"
            if isinstance(value, dict):
                if not prefix.startswith(_NESTED):
                    raise ValueError(f"{path}: unexpected table [{key}]")
                walk(key, value)
            else:
                options[key] = value

    for section, table in tomllib.loads(path.read_text(encoding="utf-8")).items():
        if not isinstance(table, dict):
            raise ValueError(f"{path}: {section} is not a section")
        walk(section, table)
    return options


def allowed_hosts(host: str | None, extra: Iterable[str] = (), path: Path = CONFIG) -> list[str]:
    """The config's Host allow-list (loopback), plus the bound address and the names readers use
    to reach a dashboard bound to another address. Streamlit ignores ports in this check."""
    configured = config_options(path).get("server.allowedHosts", [])
    if not isinstance(configured, list):
        raise ValueError(f"{path}: server.allowedHosts must be a list")
    hosts = [str(name) for name in configured]
    for name in [host, *extra]:
        if name and name not in hosts:
            hosts.append(name)
    return hosts


def command(
    *,
    port: int,
    host: str | None = None,
    extra_hosts: Iterable[str] = (),
    python: str = sys.executable,
    path: Path = CONFIG,
) -> list[str]:
    """``python -m dashboard.serve run dashboard/app.py`` (``streamlit run`` after importing
    what the pages import: ``dashboard/serve.py``) with every option of the config as a flag.

    ``host`` replaces the config's bind address (None keeps it: loopback); a host other than the
    config's allowed ones, and each of ``extra_hosts``, is added to ``server.allowedHosts``.
    """
    options = config_options(path)
    if host is not None:
        options["server.address"] = host
    options["server.port"] = port
    options["server.allowedHosts"] = allowed_hosts(host, extra_hosts, path)
    line = [python, "-m", "dashboard.serve", "run", str(APP)]
    for key, value in options.items():
        for one in value if isinstance(value, list) else [value]:
            line += [f"--{key}", _flag(one)]
    return line


def environment(db: Path, base: Mapping[str, str] | None = None) -> dict[str, str]:
    """The server's environment: ``base`` (this process's) with ``IMR_DB`` set to ``db``."""
    return dict(os.environ if base is None else base, IMR_DB=str(Path(db).absolute()))


def url(host: str, port: int) -> str:
    """The address a reader opens (IPv6 literals in brackets)."""
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


def _flag(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)
