"""Server hardening: loopback only, XSRF on, no error details or Deploy button for readers,
the warehouse opened read-only."""

from __future__ import annotations

import os
import tomllib
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from etl import launch
from tests.browser.conftest import Server
from tests.browser.helpers import assert_no_error, open_app, wait_for_charts

LOOPBACK_V4 = "0100007F"  # 127.0.0.1 as /proc/net/tcp writes it
TCP_LISTEN = "0A"


def listening_addresses(port: int) -> list[str]:
    """Local addresses of the sockets listening on ``port`` (IPv4 and IPv6)."""
    found: list[str] = []
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        if not os.path.exists(table):
            continue
        with open(table) as lines:
            next(lines)
            for line in lines:
                fields = line.split()
                address, hex_port = fields[1].rsplit(":", 1)
                if int(hex_port, 16) == port and fields[3] == TCP_LISTEN:
                    found.append(address)
    return found


@pytest.mark.skipif(not os.path.exists("/proc/net/tcp"), reason="needs Linux /proc/net/tcp")
@pytest.mark.parametrize("which", ["explicit", "config-default"])
def test_server_listens_on_loopback_only(
    which: str, dashboard_server: Server, default_config_server: Server
) -> None:
    server = dashboard_server if which == "explicit" else default_config_server
    addresses = listening_addresses(server.port)
    assert addresses, f"nothing listens on port {server.port}"
    assert set(addresses) == {LOOPBACK_V4}, addresses


def test_streamlit_config_is_hardened() -> None:
    config = tomllib.loads(launch.CONFIG.read_text())
    assert config["server"]["address"] == "127.0.0.1"
    assert config["server"]["enableXsrfProtection"] is True
    assert config["client"]["showErrorDetails"] == "none"
    assert config["client"]["toolbarMode"] == "viewer"
    assert config["browser"]["gatherUsageStats"] is False


def test_xsrf_protection_is_on(dashboard_url: str) -> None:
    with urllib.request.urlopen(f"{dashboard_url}/_stcore/health", timeout=10) as answer:
        cookies = answer.headers.get_all("Set-Cookie") or []
    assert any(c.startswith("_streamlit_xsrf=") for c in cookies), cookies
    # A state-changing request without the token is refused.
    request = urllib.request.Request(
        f"{dashboard_url}/_stcore/upload_file/session/file", data=b"x", method="PUT"
    )
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(request, timeout=10)
    assert refused.value.code == 403


def test_no_deploy_button_and_warehouse_read_only(
    page: Page, dashboard_server: Server, browser_warehouse: Path
) -> None:
    open_app(page, dashboard_server.url + "/")
    wait_for_charts(page, 2)
    expect(page.get_by_test_id("stAppDeployButton")).to_have_count(0)
    expect(page.get_by_role("button", name="Deploy")).to_have_count(0)
    expect(page.get_by_text("Deploy", exact=True)).to_have_count(0)
    assert_no_error(page)

    # The server has the warehouse open, and only for reading.
    real = os.path.realpath(browser_warehouse)
    pid = dashboard_server.process.pid
    modes = []
    for fd in os.listdir(f"/proc/{pid}/fd"):
        try:
            target = os.readlink(f"/proc/{pid}/fd/{fd}")
        except OSError:
            continue
        if target == real:
            with open(f"/proc/{pid}/fdinfo/{fd}") as info:
                flags = next(line for line in info if line.startswith("flags:"))
            modes.append(int(flags.split()[1], 8) & os.O_ACCMODE)
    assert modes, "the server has not opened the warehouse"
    assert set(modes) == {os.O_RDONLY}, modes
