"""`imr export DIR`: only its own files, formula-free CSV, and clear one-line errors.

Every warehouse here is built by the real ingest code over the seed letters (some with requests
edited to start like spreadsheet formulas), and every export runs the real `imr` command in a
subprocess. Nothing is mocked.
"""

from __future__ import annotations

import csv
import hashlib
import os
import resource
import shutil
import signal
import subprocess
from collections.abc import Callable
from pathlib import Path

import duckdb
import pytest

from etl.ingest import ingest
from tests.conftest import ROOT
from tests.reliability.helpers import (
    PYTHON,
    SEEDS,
    cli_env,
    query,
    settings_for,
    unprivileged,
    variant,
)

MANIFEST = ".imr-export.json"

# Requests that spreadsheet programs would run as formulas; each replaces an item line of a
# seed letter, so the values reach the warehouse through the real parser.
FORMULA_REQUESTS = {
    "000": [
        ("Ativan 2mg, #105: Upheld", '=HYPERLINK("http://evil.example","x") 2mg, #105'),
        (
            "6 Monthly Psychotropic Medication Management sessions: Overturned",
            "@SUM(1+1)*cmd sessions",
        ),
    ],
    "003": [("ProSom q.h.s. #30 with 2 refills: Upheld", "+cmd|' /C calc'!A0 with 2 refills")],
}
MINUS_REQUEST = "-2+3 Norco 10/325mg #60"


def _letters(folder: Path) -> Path:
    """The two seed letters with formula requests, and a third letter with a '-' request."""
    folder.mkdir(parents=True)
    for seed in sorted(SEEDS.glob("*.txt")):
        text = seed.read_text(encoding="utf-8")
        original = text
        for line, request in FORMULA_REQUESTS[seed.name[:3]]:
            assert line in text
            text = text.replace(line, f"{request}: {line.rsplit(': ', 1)[1]}")
        (folder / seed.name).write_text(text, encoding="utf-8")
        if seed.name.startswith("003"):
            third = variant(original, 1).replace(
                "ProSom q.h.s. #30 with 2 refills: Upheld", f"{MINUS_REQUEST}: Upheld"
            )
            (folder / "third.txt").write_text(third, encoding="utf-8")
    return folder


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("export-warehouse")
    settings = settings_for(root, jobs=1)
    summary = ingest([_letters(root / "letters")], settings)
    assert (summary.letters, summary.rejected) == (3, 0)
    return settings.db


def imr(*args: str | Path, **kwargs: object) -> subprocess.CompletedProcess[str]:
    return subprocess.run(  # type: ignore[call-overload]
        [PYTHON, "-m", "etl.cli", *map(str, args)],
        cwd=kwargs.pop("cwd", ROOT),
        env=kwargs.pop("env", cli_env()),
        capture_output=True,
        text=True,
        timeout=120,
        **kwargs,
    )


def tree(folder: Path) -> dict[str, str]:
    """Every entry under ``folder`` (links not followed): relative path -> content digest."""
    found = {}
    for path in sorted(folder.rglob("*")):
        key = path.relative_to(folder).as_posix()
        if path.is_symlink():
            found[key] = "link -> " + os.readlink(path)
        elif path.is_dir():
            found[key] = "folder"
        else:
            found[key] = hashlib.sha256(path.read_bytes()).hexdigest()
    return found


def assert_clean_error(done: subprocess.CompletedProcess[str], *expected: str) -> None:
    assert done.returncode != 0, done
    assert "Traceback" not in done.stderr, done.stderr
    assert len(done.stderr.strip().splitlines()) == 1, done.stderr
    assert done.stderr.startswith("imr export: "), done.stderr
    for text in expected:
        assert text in done.stderr, done.stderr
    assert done.stdout == ""


# --- 1. only its own files ------------------------------------------------------------------

USER_FILES = {"letters/notes.txt": "my notes", "rejects/x": "mine too", "mine.csv": "a,b\n1,2\n"}


def _drop_user_files(out: Path) -> None:
    for name, content in USER_FILES.items():
        (out / name).parent.mkdir(parents=True, exist_ok=True)
        (out / name).write_text(content)


def _assert_user_files(out: Path) -> None:
    for name, content in USER_FILES.items():
        assert (out / name).read_text() == content, name


def test_export_touches_only_its_own_files(warehouse: Path, tmp_path: Path) -> None:
    out = tmp_path / "export"
    first = imr("export", out, "--db", warehouse)
    assert first.returncode == 0, first.stderr
    # The user works in the export folder: inside its letters/ folder, beside it, and in a
    # rejects/ folder of their own (the export writes rejects.parquet, never rejects/).
    _drop_user_files(out)
    exported = tree(out)

    again = imr("export", out, "--db", warehouse)  # a previous export: replaced only on --force
    _assert_user_files(out)
    assert_clean_error(again, "--force")
    assert tree(out) == exported
    assert (out / MANIFEST).is_file()

    for fmt in ("parquet", "csv", "parquet"):  # and back: old outputs go, the user's stay
        forced = imr("export", out, "--db", warehouse, "--format", fmt, "--force")
        assert forced.returncode == 0, forced.stderr
        _assert_user_files(out)
        assert not list(out.glob(".imr-export-staging-*"))
        assert (out / "warehouse.md").is_file()
        if fmt == "csv":
            assert (out / "decisions.csv").is_file()
            assert not (out / "decisions").exists() and not (out / "rejects.parquet").exists()
            # letters/ holds the user's notes, so it stays (emptied of the export's files).
            assert [p.name for p in (out / "letters").iterdir()] == ["notes.txt"]
        else:
            assert not (out / "decisions.csv").exists()
            assert list((out / "decisions").glob("decision_year=*/*.parquet"))
    n = query(warehouse, "select count(*) from decisions")[0][0]
    con = duckdb.connect()
    assert con.execute(f"select count(*) from '{out}/decisions/*/*.parquet'").fetchone() == (n,)


def test_a_folder_that_is_not_an_export_is_refused_and_left_alone(
    warehouse: Path, tmp_path: Path
) -> None:
    out = tmp_path / "mine"
    _drop_user_files(out)
    before = tree(out)
    for extra in ([], ["--force"], ["--format", "csv"]):
        done = imr("export", out, "--db", warehouse, *extra)
        assert_clean_error(done, "not empty")
        assert tree(out) == before  # nothing written, not even a manifest


def _no_space(limit: int) -> Callable[[], None]:
    def apply() -> None:  # in the child: writes beyond ``limit`` bytes fail (EFBIG)
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    return apply


def test_a_failed_export_leaves_the_previous_one_intact(warehouse: Path, tmp_path: Path) -> None:
    out = tmp_path / "export"
    assert imr("export", out, "--db", warehouse).returncode == 0
    _drop_user_files(out)
    before = tree(out)
    for fmt in ("parquet", "csv"):
        # Files can grow to 1 KB only: the manifest fits, the tables and dictionary do not.
        failed = imr(
            "export", out, "--db", warehouse, "--format", fmt, "--force",
            preexec_fn=_no_space(1024),
        )  # fmt: skip
        assert_clean_error(failed, "could not write the export")
        assert tree(out) == before  # no staging folder left, every file as it was
    # With room again, --force replaces it.
    assert imr("export", out, "--db", warehouse, "--force", "--format", "csv").returncode == 0


# --- 2. CSV formula injection ---------------------------------------------------------------


def test_csv_export_neutralises_formula_cells_and_nothing_else(
    warehouse: Path, tmp_path: Path
) -> None:
    out = tmp_path / "csv"
    done = imr("export", out, "--db", warehouse, "--format", "csv")
    assert done.returncode == 0, done.stderr
    from etl.export import FORMULA_START, neutralise  # the dashboard's rule (one implementation)

    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        for table in ("letters", "decisions", "citations", "rejects", "unresolved"):
            with open(out / f"{table}.csv", newline="", encoding="utf-8") as handle:
                exported = list(csv.DictReader(handle))
            text_columns = [
                name for name, kind, *_ in con.execute(f"describe {table}").fetchall()
                if kind == "VARCHAR"
            ]  # fmt: skip
            stored = con.execute(f"select {', '.join(text_columns)} from {table}").fetchall()
            got = sorted(tuple(row[c] for c in text_columns) for row in exported)
            # Formula-like cells prefixed with a quote; every other cell exactly as stored.
            want = sorted(tuple(neutralise(v) if v else "" for v in row) for row in stored)
            assert got == want, table
            for row in exported:
                for column in text_columns:
                    assert not row[column].startswith(FORMULA_START), (table, column, row)
    finally:
        con.close()
    with open(out / "decisions.csv", newline="", encoding="utf-8") as handle:
        decisions = list(csv.DictReader(handle))
    requests = {row["request"] for row in decisions}
    assert requests == {
        '\'=HYPERLINK("http://evil.example","x") 2mg, #105',
        "'@SUM(1+1)*cmd sessions",
        "'+cmd|' /C calc'!A0 with 2 refills",
        "'" + MINUS_REQUEST,
    }
    # Ordinary cells unchanged.
    assert {row["decision"] for row in decisions} == {"Upheld", "Overturned"}


def test_one_neutralisation_rule_for_dashboard_cli_and_sql() -> None:
    import dashboard.export
    import etl.export

    assert dashboard.export.neutralise is etl.export.neutralise
    assert dashboard.export.FORMULA_START is etl.export.FORMULA_START
    samples = ["=1+1", "+cmd", "-2", "@SUM(A1)", "\t=1", "\rx", "a=b", "Norco", "", " =x", "'="]
    con = duckdb.connect()
    sql = etl.export.neutralise_sql("v")
    got = [con.execute(f"select {sql} from (select ? as v)", [s]).fetchone() for s in samples]
    assert got == [(etl.export.neutralise(s),) for s in samples]
    assert con.execute(f"select {sql} from (select null::varchar as v)").fetchone() == (None,)


# --- 3. errors and paths --------------------------------------------------------------------


def test_a_symlinked_subfolder_is_never_written_through(warehouse: Path, tmp_path: Path) -> None:
    out = tmp_path / "export"
    assert imr("export", out, "--db", warehouse).returncode == 0
    elsewhere = tmp_path / "elsewhere"
    shutil.move(out / "letters", elsewhere)  # the previous export's files, now outside DIR
    (out / "letters").symlink_to(elsewhere, target_is_directory=True)
    (elsewhere / "precious.txt").write_text("not the export's")
    before, outside = tree(out), tree(elsewhere)
    for fmt in ("parquet", "csv"):  # csv would only remove letters/…, parquet also write there
        done = imr("export", out, "--db", warehouse, "--format", fmt, "--force")
        assert_clean_error(done, "symbolic link")
        assert tree(elsewhere) == outside
        assert tree(out) == before


@pytest.mark.parametrize("case", ["read-only folder", "inside a read-only folder"])
def test_a_read_only_target_is_a_clean_error(warehouse: Path, tmp_path: Path, case: str) -> None:
    parent = tmp_path / "ro"
    parent.mkdir()
    out = parent if case == "read-only folder" else parent / "new"
    parent.chmod(0o555)
    try:
        done = subprocess.run(
            [*unprivileged(), PYTHON, "-m", "etl.cli", "export", str(out), "--db", str(warehouse)],
            cwd=ROOT, env=cli_env(), capture_output=True, text=True, timeout=120,
        )  # fmt: skip
        assert_clean_error(done, "Permission denied", str(out))
        assert list(parent.iterdir()) == []
    finally:
        parent.chmod(0o755)


def test_bad_targets_and_warehouses_are_clean_errors(warehouse: Path, tmp_path: Path) -> None:
    a_file = tmp_path / "notes.txt"
    a_file.write_text("mine")
    not_a_warehouse = tmp_path / "fake.duckdb"
    not_a_warehouse.write_text("not a database")
    cases: list[tuple[list[str | Path], str]] = [
        (["export", a_file, "--db", warehouse], "not a folder"),
        (["export", a_file / "sub", "--db", warehouse], "Not a directory"),
        (["export", tmp_path / "out", "--db", tmp_path / "missing.duckdb"], "no warehouse at"),
        (["export", tmp_path / "out", "--db", not_a_warehouse], "cannot read the warehouse"),
    ]
    for args, message in cases:
        assert_clean_error(imr(*args), message)
    assert a_file.read_text() == "mine"
    assert not (tmp_path / "out").exists()  # a bad warehouse creates no folder


def test_tilde_is_expanded_once_for_every_path_argument(tmp_path: Path) -> None:
    home, cwd = tmp_path / "home", tmp_path / "cwd"
    shutil.copytree(SEEDS, home / "letters")
    cwd.mkdir()
    env = dict(cli_env(), HOME=str(home))
    db = "~/wh/current.duckdb"
    steps = [
        ["ingest", "~/letters", "--db", db, "--quiet", "--jobs", "1"],
        ["export", "~/out", "--db", db],
        ["export", "~/csv", "--db", db, "--format", "csv"],
        ["vocab", "report", "--db", db],
        ["demo-corpus", "--letters", "3", "--out", "~/demo"],
    ]
    for step in steps:
        done = imr(*step, cwd=cwd, env=env)
        assert done.returncode == 0, (step, done.stderr)
    assert list(cwd.iterdir()) == []  # no literal '~' folder beside the user
    assert (home / "wh" / "current.duckdb").exists()
    assert list((home / "out" / "decisions").glob("*/*.parquet"))
    assert (home / "csv" / "letters.csv").is_file()
    assert len(list((home / "demo").iterdir())) >= 3
