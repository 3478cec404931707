"""The `imr` command as a user runs it: exit codes, summary line, export, vocab report."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import duckdb
import polars as pl
import pytest

from tests.conftest import ROOT

SEEDS = ROOT / "data" / "samples" / "seeds"


def imr(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "etl.cli", *map(str, args)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_ingest_prints_a_summary_and_exits_zero(tmp_path: Path) -> None:
    db = tmp_path / "current.duckdb"
    done = imr("ingest", SEEDS, "--db", db)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[0] == (
        "2 files: 2 letters loaded (3 items), 0 unchanged, 0 rejected"
    )
    again = imr("ingest", SEEDS, "--db", db)
    assert again.stdout.splitlines()[0].startswith(
        "2 files: 0 letters loaded (0 items), 2 unchanged"
    )


def test_exit_status_when_nothing_could_be_processed_or_strict(tmp_path: Path) -> None:
    junk = tmp_path / "junk.txt"
    junk.write_text("not a letter")
    db = tmp_path / "current.duckdb"
    nothing = imr("ingest", junk, "--db", db)
    assert nothing.returncode == 1
    assert "1 rejected (not_a_letter 1)" in nothing.stdout
    mixed = imr("ingest", junk, SEEDS, "--db", db)
    assert mixed.returncode == 0
    strict = imr("ingest", junk, SEEDS, "--db", tmp_path / "other.duckdb", "--strict")
    assert strict.returncode == 1


def test_export_writes_partitioned_parquet_and_the_dictionary(tmp_path: Path) -> None:
    db = tmp_path / "current.duckdb"
    assert imr("ingest", SEEDS, "--db", db).returncode == 0
    out = tmp_path / "export"
    done = imr("export", out, "--db", db)
    assert done.returncode == 0, done.stderr
    assert (out / "warehouse.md").is_file()
    decisions = pl.read_parquet(out / "decisions" / "**" / "*.parquet", hive_partitioning=True)
    con = duckdb.connect(str(db), read_only=True)
    assert decisions.height == con.execute("select count(*) from decisions").fetchone()[0]
    con.close()
    csv = imr("export", tmp_path / "csv", "--db", db, "--format", "csv")
    assert csv.returncode == 0
    assert pl.read_csv(tmp_path / "csv" / "letters.csv").height == 2


def test_vocab_report_lists_every_kind(tmp_path: Path) -> None:
    db = tmp_path / "current.duckdb"
    imr("ingest", SEEDS, "--db", db)
    done = imr("vocab", "report", "--db", db)
    assert done.returncode == 0, done.stderr
    kinds = [line.split(":")[0] for line in done.stdout.splitlines() if not line.startswith(" ")]
    assert kinds == ["request", "drug", "specialty", "state", "citation", "reasons"]


def test_vocab_report_lists_upheld_items_without_a_reason_by_sentence_shape(
    tmp_path: Path,
) -> None:
    from etl.classify.reasons import own_sentences
    from etl.report import sentence_shape

    db = tmp_path / "current.duckdb"
    assert imr("ingest", ROOT / "data" / "samples", "--db", db).returncode == 0
    con = duckdb.connect(str(db), read_only=True)
    upheld, rationales = con.execute(
        "select count(*), list(rationale) filter (where len(reasons) = 0)"
        " from decisions where decision = 'Upheld'"
    ).fetchone()
    con.close()
    assert rationales, "the samples should hold upheld items the patterns find no reason in"
    shapes = {sentence_shape(s) for r in rationales for s in own_sentences(r)}
    done = imr("vocab", "report", "--db", db, "--limit", "3")
    assert done.returncode == 0, done.stderr
    out = done.stdout.splitlines()
    head = out.index(
        f"reasons: {len(rationales):,} of {upheld:,} upheld items have no reason found"
    )
    listed = [line.split(")  ", 1)[1].removesuffix(" …") for line in out[head + 2 :: 2]]
    assert listed and len(listed) <= 3
    assert set(listed) <= shapes


def test_no_command_prints_help() -> None:
    done = imr()
    assert done.returncode == 2
    assert "ingest" in done.stdout


def test_dashboard_allows_the_hosts_it_is_reached_by(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The command line `imr dashboard` hands to Streamlit (exec is the one thing replaced)."""
    import os

    from etl import cli

    db = tmp_path / "current.duckdb"
    db.write_bytes(b"")  # only its existence is checked before the exec
    launched: list[list[str]] = []

    def capture(file: str, command: list[str], env: dict[str, str]) -> None:
        launched.append(command)

    monkeypatch.setattr(os, "execvpe", capture)
    monkeypatch.chdir(tmp_path)
    cli.main(["dashboard", "--db", str(db)])
    cli.main(["dashboard", "--db", str(db), "--host", "10.0.0.5", "--allowed-host", "imr.lan"])

    def allowed(command: list[str]) -> list[str]:
        return [command[i + 1] for i, a in enumerate(command) if a == "--server.allowedHosts"]

    # Loopback: the config's list (loopback names only), given on the command line.
    assert allowed(launched[0]) == ["127.0.0.1", "localhost", "::1"]
    # Another address: loopback, that address and the names given; nothing else.
    assert allowed(launched[1]) == ["127.0.0.1", "localhost", "::1", "10.0.0.5", "imr.lan"]


def test_a_reader_that_stops_reading_gets_no_traceback(tmp_path: Path) -> None:
    """`imr ingest ... | head -0`: the reader closes the pipe before the summary is printed.
    The ingest is done (published), the output is dropped without a traceback, and the exit
    status is a shell's for SIGPIPE."""
    db = tmp_path / "current.duckdb"
    child = subprocess.Popen(
        [sys.executable, "-m", "etl.cli", "ingest", str(SEEDS), "--db", str(db), "--quiet"],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert child.stdout is not None and child.stderr is not None
    child.stdout.close()  # before anything is written: the summary meets a closed pipe
    errors = child.stderr.read().decode()
    assert child.wait(timeout=120) == 141, errors
    assert "Traceback" not in errors and "BrokenPipeError" not in errors, errors
    with duckdb.connect(str(db), read_only=True) as con:
        assert con.execute("select count(*) from letters").fetchone() == (2,)


def test_ingest_never_imports_pandas(tmp_path: Path) -> None:
    """pyarrow's first conversion imports pandas (0.4 s of a small ingest) unless told it is
    absent (etl.rows.convert_without_pandas); the letters load all the same."""
    db = tmp_path / "current.duckdb"
    script = (
        "import sys; from etl import cli;"
        f" status = cli.main(['ingest', {str(SEEDS)!r}, '--db', {str(db)!r}, '--quiet']);"
        " print(status, 'pandas' in sys.modules)"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert done.stdout.splitlines()[-1] == "0 False", done.stdout + done.stderr
    con = duckdb.connect(str(db), read_only=True)
    try:
        assert con.execute("select count(*) from decisions").fetchone() == (3,)
    finally:
        con.close()


def test_pandas_is_still_imported_when_a_conversion_needs_it() -> None:
    script = (
        "import sys; import pyarrow as pa; from etl.rows import convert_without_pandas;"
        " convert_without_pandas(); before = 'pandas' in sys.modules;"
        " import pandas; table = pa.Table.from_pandas(pandas.DataFrame({'a': [1, 2]}));"
        " print(before, table.num_rows, table.to_pandas()['a'].sum())"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert done.stdout.strip() == "False 2 3", done.stdout + done.stderr


def test_an_ingest_writes_nothing_on_stderr(tmp_path: Path) -> None:
    # What a user sees is the summary: no library's warning (DuckDB warns of Arrow read from a
    # DB-API result, which the derived tables' passes do on purpose).
    done = imr("ingest", SEEDS, "--db", tmp_path / "current.duckdb", "--quiet")
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""
