"""`imr fetch` as a user runs it: the real command against the replica (at the least delay a user
may set, 0.2 s), its summary, its refusals and what it prints when the site differs."""

from __future__ import annotations

import pytest

from etl.cli import main
from etl.settings import load_settings
from tests.fetch.conftest import JANUARY

DECIDED = f"{JANUARY[0]}..{JANUARY[1]}"


def _args(tmp_path, url: str, *more: str) -> list[str]:
    return [
        "fetch",
        "--decided",
        DECIDED,
        "--site",
        url,
        "--db",
        str(tmp_path / "wh" / "current.duckdb"),
        "--out",
        str(tmp_path / "letters"),
        "--delay",
        "0.2",
        *more,
    ]


def test_fetch_prints_a_summary(replica, january_cases, tmp_path, capsys) -> None:
    cases = january_cases[:3]
    site, url = replica(cases)
    assert main(_args(tmp_path, url, "--ingest", "--window-limit", "5")) == 0
    out, err = capsys.readouterr()
    lines = out.splitlines()
    rows = sum(len(c.treatments) for c in cases)
    assert lines[0] == (
        f"DWC index {DECIDED}: {rows} rows for 3 cases in 3 windows; letters: 3 downloaded,"
        " 0 already here, 0 failed"
    )  # 6 rows over a limit of 5: halved until each window holds at most 5
    assert f"dwc_index: {rows} rows written; warehouse: " in out
    assert "ingest: 3 files: 3 letters loaded" in out
    assert lines[0] in err  # progress lines when stderr is not a terminal
    assert sorted(p.name for p in (tmp_path / "letters" / "2024").iterdir()) == [
        f"{c.case_number}.pdf" for c in cases
    ]
    starts = [e.start for e in site.log]  # the server's clock: a loose bound (jitter)
    assert starts[-1] - starts[0] >= (len(starts) - 1) * 0.2 * 0.75
    assert main([*_args(tmp_path, url), "--quiet"]) == 0
    out, err = capsys.readouterr()
    assert "letters: 0 downloaded, 3 already here" in out and err == ""


def test_a_changed_site_exits_3_and_says_what_differed(
    replica, january_cases, tmp_path, capsys
) -> None:
    site, url = replica(january_cases[:3], layout="new_column")
    assert main([*_args(tmp_path, url), "--quiet"]) == 3
    out, _ = capsys.readouterr()
    (stopped,) = [line for line in out.splitlines() if line.startswith("stopped: ")]
    assert stopped.startswith(
        "stopped: DWC's site differs from what this imr understands: results page 1 of "
        f"{DECIDED}: the results table's header differs: expected Case Number | Decision Date"
    )
    assert "found Case Number | Decision Date | Outcome Date" in stopped
    assert "unrecognised-page.html" in stopped


def test_failed_letters_exit_1(replica, january_cases, tmp_path, capsys) -> None:
    site, url = replica(january_cases[:3], not_pdf={january_cases[1].case_number})
    assert main([*_args(tmp_path, url), "--quiet"]) == 1
    out, _ = capsys.readouterr()
    assert f"  failed: {january_cases[1].case_number}: not_a_pdf: " in out


def test_the_delay_cannot_go_below_a_fifth_of_a_second(tmp_path, capsys, monkeypatch) -> None:
    assert main(_args(tmp_path, "http://127.0.0.1:9", "--delay", "0.1")) == 1
    assert "--delay must be at least 0.2 seconds" in capsys.readouterr().err
    monkeypatch.setenv("IMR_FETCH_DELAY", "0.05")
    with pytest.raises(SystemExit, match="IMR_FETCH_DELAY must be at least 0.2"):
        load_settings()
    monkeypatch.setenv("IMR_FETCH_DELAY", "2.5")
    assert load_settings().fetch_delay == 2.5
    monkeypatch.delenv("IMR_FETCH_DELAY")
    assert load_settings().fetch_delay == 1.0


@pytest.mark.parametrize(
    "args",
    [
        ["fetch"],
        ["fetch", "--decided", "2024-01-01"],
        ["fetch", "--decided", "January..March"],
        ["fetch", "--decided", DECIDED, "--update"],
    ],
)
def test_bad_requests_are_refused_by_the_parser(args, capsys) -> None:
    with pytest.raises(SystemExit) as exit_:
        main(args)
    assert exit_.value.code == 2


def test_update_with_nothing_held_and_reversed_dates(tmp_path, capsys, monkeypatch) -> None:
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    db = str(tmp_path / "wh" / "current.duckdb")
    assert main(["fetch", "--update", "--db", db, "--site", "http://127.0.0.1:9"]) == 1
    assert "nothing to continue from" in capsys.readouterr().err
    assert main(["fetch", "--decided", "2024-02-01..2024-01-01", "--db", db]) == 1
    assert "--decided: 2024-02-01 is after 2024-01-01" in capsys.readouterr().err


def test_the_letters_go_to_the_data_folder_by_default(
    replica, january_cases, tmp_path, capsys, monkeypatch
) -> None:
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    site, url = replica(january_cases[:1])
    db = str(tmp_path / "wh" / "current.duckdb")
    args = ["fetch", "--decided", DECIDED, "--site", url, "--db", db, "--delay", "0.2", "--quiet"]
    assert main(args) == 0
    case = january_cases[0]
    letter = (
        tmp_path / "data" / "imr-outcomes" / "letters" / "dwc" / "2024" / f"{case.case_number}.pdf"
    )
    assert letter.read_bytes() == case.pdf
