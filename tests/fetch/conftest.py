"""Fixtures for `imr fetch`: replicas of DWC's search on loopback, a fast polite client."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from etl.fetch.client import PoliteClient
from etl.fetch.run import FetchRequest, FetchSummary, fetch
from etl.settings import Settings
from tests.fetch.data import make_cases
from tests.fetch.replica import Case, Replica

JANUARY = (dt.date(2024, 1, 1), dt.date(2024, 1, 31))


def fast_client(**options: object) -> PoliteClient:
    """The polite client with test timings: no delay (the test-only floor), tiny backoff."""
    settings: dict[str, object] = {
        "delay": 0.0,
        "floor": 0.0,
        "backoff": 0.01,
        "max_backoff": 0.05,
        "timeout": 5.0,
    }
    settings.update(options)
    return PoliteClient(**settings)  # type: ignore[arg-type]


@pytest.fixture(scope="session")
def january_cases() -> list[Case]:
    """40 letters decided in January 2024 (114 treatments)."""
    return make_cases(40, JANUARY[0], 20)


@pytest.fixture
def replica() -> Iterator[Callable[..., tuple[Replica, str]]]:
    started: list[Replica] = []

    def start(cases: list[Case], **options: object) -> tuple[Replica, str]:
        site = Replica(list(cases), **options)  # type: ignore[arg-type]
        started.append(site)
        return site, site.start()

    yield start
    for site in started:
        site.stop()


class Run:
    """A fetch into one warehouse and letters folder, run as many times as a test wants."""

    def __init__(self, folder: Path, site: str) -> None:
        self.settings = Settings(db=folder / "wh" / "current.duckdb", jobs=0)
        self.out = folder / "letters"
        self.site = site

    def __call__(
        self,
        dates: tuple[dt.date, dt.date] | None = JANUARY,
        *,
        client: PoliteClient | None = None,
        today: dt.date | None = None,
        **options: object,
    ) -> FetchSummary:
        first, last = dates if dates else (None, None)
        request = FetchRequest(
            first=first,
            last=last,
            update=dates is None,
            out=self.out,
            site=self.site,
            **{"limit": 30, **options},  # type: ignore[arg-type]
        )
        with client or fast_client() as polite:
            return fetch(request, self.settings, client=polite, today=today)

    @property
    def db(self) -> Path:
        return self.settings.db

    def pdfs(self) -> dict[str, bytes]:
        return {p.stem: p.read_bytes() for p in sorted(self.out.rglob("*.pdf"))}

    def all_files(self) -> list[Path]:
        return sorted(p for p in self.out.rglob("*") if p.is_file())
