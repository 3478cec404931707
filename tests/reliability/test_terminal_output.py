"""Terminal escape injection: what `imr` prints from data is shown, never obeyed by the terminal.

A request, a file name or a folder name can hold ESC/OSC/CSI sequences: ``\\x1b]52;c;…\\x07``
writes the clipboard, ``\\x1b[2J`` clears the screen, ``\\x1b]0;…\\x07`` sets the window title.
Every test runs the real `imr` command in a subprocess and reads its raw stdout/stderr bytes.
"""

from __future__ import annotations

import os
import subprocess
import unicodedata
from pathlib import Path

import duckdb
import pytest

from etl.ingest import ingest
from tests.conftest import ROOT
from tests.reliability.helpers import PYTHON, SEEDS, cli_env, settings_for

CLIPBOARD = "\x1b]52;c;SGVsbG8=\x07"
CLEAR = "\x1b[2J\x1b[H"
TITLE = "\x1b]0;pwned\x07"
C1_CSI = "\x9b31m"
HOSTILE = [
    f"Norco {CLIPBOARD} 10/325",
    f"{CLEAR}Ativan",
    f"{TITLE}Prozac",
    f"{C1_CSI}red\x9d8;;http://evil\x9c",
    "two\nlines\rback\ttab\x7fdel\x00nul",
]
# A folder name carrying the same sequences (valid UTF-8: DuckDB needs UTF-8 paths).
HOSTILE_NAME = f"wh{TITLE}{CLEAR}\n{C1_CSI}"


def imr(*args: str | bytes | Path, cwd: Path = ROOT) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        [PYTHON, "-m", "etl.cli", *[a if isinstance(a, bytes) else str(a) for a in args]],
        cwd=cwd,
        env=cli_env(),
        capture_output=True,
        timeout=120,
    )


def assert_inert(output: bytes) -> str:
    """No byte a terminal would obey: no ESC, BEL, C1 (as UTF-8 or raw); returns the text."""
    for byte in (b"\x1b", b"\x07", b"\x9b", b"\x9c", b"\x9d", b"\x00", b"\r", b"\x7f"):
        assert byte not in output, (byte, output)
    text = output.decode("utf-8")  # strict: what we print is valid UTF-8
    assert not [c for c in text if unicodedata.category(c) == "Cc" and c != "\n"], text
    return text


# --- the function -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "shown"),
    [
        (CLIPBOARD, "\\x1b]52;c;SGVsbG8=\\x07"),
        (CLEAR, "\\x1b[2J\\x1b[H"),
        (TITLE, "\\x1b]0;pwned\\x07"),
        ("\x9b31m", "\\x9b31m"),
        ("a\nb\tc\rd\x00e\x7f", "a\\nb\\tc\\rd\\x00e\\x7f"),
        ("bidi \u202eevil\u2066", "bidi \\u202eevil\\u2066"),
        ("line\u2028sep", "line\\u2028sep"),
        (os.fsdecode(b"caf\xe9-\xff.pdf"), "caf\\xe9-\\xff.pdf"),  # not UTF-8: surrogate escapes
        ("Café 東京 😀 ordinary, text/with: marks", "Café 東京 😀 ordinary, text/with: marks"),
    ],
)
def test_printable_escapes_control_characters_only(raw: str, shown: str) -> None:
    from etl.terminal import printable

    assert printable(raw) == shown
    assert printable(Path(raw)) == shown
    printable(raw).encode("utf-8")  # never a UnicodeEncodeError
    assert not [c for c in printable(raw) if unicodedata.category(c) in ("Cc", "Cs")]


# --- the commands -------------------------------------------------------------------------


def test_vocab_report_shows_hostile_values_escaped(tmp_path: Path) -> None:
    settings = settings_for(tmp_path, jobs=1)
    assert ingest([SEEDS], settings).letters == 2
    # The report must be safe for whatever the unresolved table holds. Extraction may strip
    # control characters from letter text before they get there, so the hostile values are
    # written straight into this real, ingested warehouse (its version file, read-write).
    real = os.path.realpath(settings.db)
    con = duckdb.connect(real)
    try:
        (letter,) = con.execute("select min(letter_id) from letters").fetchall()[0]
        for value in HOSTILE:
            con.execute("insert into unresolved values (?, 1, 'request', ?)", [letter, value])
            con.execute("insert into unresolved values (?, 1, 'drug', ?)", [letter, value])
            # ... and in the mart the report reads (built from `unresolved` at every ingest).
            for kind in ("request", "drug"):
                con.execute("insert into unresolved_counts values (?, ?, 1, 1)", [kind, value])
    finally:
        con.close()
    done = imr("vocab", "report", "--db", settings.db)
    assert done.returncode == 0, done.stderr
    text = assert_inert(done.stdout)
    assert "\\x1b]52;c;SGVsbG8=\\x07" in text and "\\x1b[2J" in text and "\\x9b31m" in text
    assert "two\\nlines\\rback\\ttab\\x7fdel\\x00nul" in text
    lines = text.splitlines()
    # Layout intact: a heading per kind, then one line per value (a newline in a value is shown).
    request = lines.index(next(line for line in lines if line.startswith("request:")))
    assert sum("Norco" in line for line in lines) == 2
    assert all(line.startswith("  ") for line in lines[request + 1 : request + 1 + len(HOSTILE)])


def test_ingest_summary_and_warehouse_line_are_escaped(tmp_path: Path) -> None:
    db = tmp_path / HOSTILE_NAME / "current.duckdb"
    done = imr("ingest", SEEDS, "--db", db, "--quiet", "--jobs", "1")
    assert done.returncode == 0, done.stderr
    text = assert_inert(done.stdout)
    lines = text.splitlines()
    assert len(lines) == 2 and lines[0].startswith("2 files: 2 letters loaded")
    assert lines[1].startswith("warehouse: ")
    assert "wh\\x1b]0;pwned\\x07\\x1b[2J\\x1b[H\\n\\x9b31m" in lines[1]


def test_export_paths_and_error_messages_are_escaped(tmp_path: Path) -> None:
    settings = settings_for(tmp_path, jobs=1)
    ingest([SEEDS], settings)
    out = tmp_path / f"export{TITLE}\n{CLIPBOARD}"
    done = imr("export", out, "--db", settings.db)
    assert done.returncode == 0, done.stderr
    lines = assert_inert(done.stdout).splitlines()
    assert len(lines) == len(os.listdir(out)) - 1  # one line per output (not the manifest)
    assert all("\\x1b]0;pwned\\x07\\n\\x1b]52;c;SGVsbG8=\\x07" in line for line in lines)

    # Error messages carry paths too, some not even UTF-8 (a file name from another system).
    hostile_file = os.fsencode(tmp_path) + b"/notes" + CLEAR.encode() + b"\xff.txt"
    Path(os.fsdecode(hostile_file)).write_text("mine")
    missing = os.fsencode(tmp_path) + b"/missing" + TITLE.encode() + b"\xfe.duckdb"
    failures: list[tuple[str | bytes | Path, ...]] = [
        ("export", hostile_file, "--db", settings.db),
        ("vocab", "report", "--db", missing),
        ("export", tmp_path / "new", "--db", missing),
        ("dashboard", "--db", missing),
    ]
    for args in failures:
        failed = imr(*args)
        assert failed.returncode == 1, failed
        message = assert_inert(failed.stderr)
        assert len(message.splitlines()) == 1 and "Traceback" not in message, message
        assert "\\x1b" in message and ("\\xff" in message or "\\xfe" in message), message
