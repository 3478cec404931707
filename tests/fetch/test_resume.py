"""Kill `imr fetch` (SIGKILL: no clean-up of any kind) mid-PDF and at other moments, then run the
same fetch again: nothing is lost, nothing duplicated, no half-written file kept."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import duckdb
import pytest

from etl.fetch.download import TEMP_SUFFIX
from tests.conftest import ROOT
from tests.fetch.conftest import JANUARY, Run
from tests.fetch.replica import Replica
from tests.fetch.test_fetch import expected_rows, index_rows

OPTIONS = {"limit": 30, "publish_every": 8, "ingest": True}


def _child(run: Run) -> subprocess.Popen[str]:
    spec = {
        "site": run.site,
        "db": str(run.db),
        "out": str(run.out),
        "first": JANUARY[0].isoformat(),
        "last": JANUARY[1].isoformat(),
        "options": OPTIONS,
    }
    return subprocess.Popen(
        [sys.executable, "-m", "tests.fetch.child", json.dumps(spec)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _kill(child: subprocess.Popen[str]) -> None:
    os.kill(child.pid, signal.SIGKILL)
    child.communicate(timeout=30)
    assert child.returncode == -signal.SIGKILL


def _wait(condition: Callable[[], bool], seconds: float = 120.0) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.005)


def _moved_on(site: Replica, child: subprocess.Popen[str], requests: int) -> Callable[[], bool]:
    return lambda: len(site.log) >= requests or child.poll() is not None


def _temporaries(folder: Path) -> list[Path]:
    return [p for p in folder.rglob("*") if p.name.endswith(TEMP_SUFFIX)]


def test_killed_at_any_moment_the_same_fetch_completes_it(replica, january_cases, tmp_path) -> None:
    stalled = january_cases[9]
    site, url = replica(january_cases, stall={stalled.case_number})
    run = Run(tmp_path, url)

    # 1. Killed mid-PDF: half the letter written to its temporary file, nothing at its path.
    child = _child(run)
    assert site.stalled.wait(timeout=60), child.communicate(timeout=5)
    target = run.out / "2024" / f"{stalled.case_number}.pdf"
    _wait(lambda: any(p.stat().st_size for p in _temporaries(run.out)))
    _kill(child)
    (temp,) = _temporaries(run.out)
    assert temp.parent == target.parent and 0 < temp.stat().st_size < len(stalled.pdf)
    assert not target.exists()
    site.stall.clear()
    site.release.set()

    # 2. Killed at moments that fall where they fall: between requests, in a download, while
    #    the index is published or letters ingested (every 8 letters here).
    for more in (7, 19, 31):
        seen = len(site.log)
        child = _child(run)
        _wait(_moved_on(site, child, seen + more))
        if child.poll() is None:
            _kill(child)
        else:
            child.communicate(timeout=30)

    # 3. The same fetch once more, to its end.
    child = _child(run)
    out, err = child.communicate(timeout=120)
    assert child.returncode == 0, err
    assert json.loads(out.splitlines()[-1])["ok"] is True

    assert run.pdfs() == {c.case_number: c.pdf for c in january_cases}
    assert len(run.all_files()) == 40 and _temporaries(run.out) == []
    assert index_rows(run.db) == expected_rows(january_cases, url)
    con = duckdb.connect(str(run.db), read_only=True)
    letters = con.execute("select count(*), count(distinct letter_id) from letters").fetchone()
    sources = con.execute("select count(*) from sources").fetchone()
    con.close()
    assert letters == (40, 40) and sources == (40,)
    # A letter is asked for again only when a kill landed in its download.
    assert all(n <= 2 for n in site.served_pdf.values())
    assert sum(site.served_pdf.values()) <= 40 + 4


class Died(BaseException):
    """The process ends here (as a kill would: nothing after it runs)."""


def test_dying_between_a_publish_and_its_record_duplicates_nothing(
    replica, january_cases, tmp_path, monkeypatch
) -> None:
    from etl.fetch.store import FetchState

    site, url = replica(january_cases)
    run = Run(tmp_path, url)

    def die(self: FetchState, cases: list[str]) -> None:
        raise Died

    with monkeypatch.context() as patch:
        patch.setattr(FetchState, "mark_published", die)
        with pytest.raises(Died):
            run(publish_every=8)
    published = index_rows(run.db)  # the first publish landed; the state never heard of it
    assert 0 < len(published) < 114
    summary = run(publish_every=8)
    assert summary.failed == {} and summary.windows_resumed >= 1
    assert run.pdfs() == {c.case_number: c.pdf for c in january_cases}
    rows = index_rows(run.db)
    assert rows == expected_rows(january_cases, url)
    assert len({(r[0], r[1]) for r in rows}) == len(rows) == 114
    assert set(site.served_pdf.values()) == {1}
