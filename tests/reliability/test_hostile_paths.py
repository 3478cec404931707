"""File names and folders a hostile or merely old file system gives us.

Regressions for: a file name that is not valid UTF-8 aborted the whole batch at flush; an
unreadable folder vanished (exit 0) or aborted the batch with a misleading error.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from etl.ingest import ingest
from tests.conftest import ROOT
from tests.reliability.helpers import (
    PYTHON,
    cli_env,
    query,
    seed_texts,
    settings_for,
    unprivileged,
    variant,
)


def test_a_file_name_that_is_not_utf8_loads_and_the_batch_goes_on(tmp_path: Path) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    seeds = seed_texts()
    # Latin-1 bytes in the name, as old zips and Windows copies have them.
    odd = os.fsencode(folder) + b"/r\xe9sum\xe9-\xff.txt"
    with open(odd, "w") as handle:
        handle.write(variant(seeds[0], 1))
    (folder / "plain.txt").write_text(variant(seeds[1], 2))
    settings = settings_for(tmp_path)
    summary = ingest([folder], settings)
    assert (summary.files, summary.letters, summary.rejected) == (2, 2, 0)
    paths = sorted(p for (p,) in query(settings.db, "select source_path from letters"))
    # Stored losslessly and readably: the undecodable bytes as backslash escapes.
    assert paths == [str(folder / "plain.txt"), str(folder) + "/r\\xe9sum\\xe9-\\xff.txt"]


def _ingest_unprivileged(inputs: list[Path], db: Path) -> subprocess.CompletedProcess[str]:
    command = [PYTHON, "-m", "etl.cli", "ingest", *map(str, inputs), "--db", str(db), "--quiet"]
    return subprocess.run(
        [*unprivileged(), *command],
        cwd=ROOT,
        env=cli_env(),
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_unreadable_folders_are_rejects_and_the_batch_finishes(tmp_path: Path) -> None:
    seeds = seed_texts()
    top = tmp_path / "in"
    top.mkdir()
    (top / "good.txt").write_text(variant(seeds[0], 1))
    locked = top / "locked"  # mode 000: cannot be listed
    locked.mkdir()
    (locked / "hidden.txt").write_text(variant(seeds[1], 2))
    no_entry = top / "no-entry"  # listable, not enterable
    no_entry.mkdir()
    (no_entry / "inside.txt").write_text(variant(seeds[0], 3))
    named = tmp_path / "named"  # an unreadable folder named on the command line
    named.mkdir()
    (named / "x.txt").write_text(variant(seeds[1], 4))
    locked.chmod(0o000)
    no_entry.chmod(0o444)
    named.chmod(0o000)
    db = tmp_path / "wh" / "current.duckdb"
    try:
        done = _ingest_unprivileged([top, named], db)
    finally:
        for folder in (locked, no_entry, named):
            folder.chmod(0o755)
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr
    # good.txt loads; the two folders that cannot be listed and the file that cannot be read
    # are rejects naming their paths; the summary counts them.
    assert "1 letters loaded" in done.stdout and "3 rejected" in done.stdout, done.stdout
    rejects = sorted(query(db, "select source_path, reason from rejects"))
    assert rejects == sorted(
        [
            (str(locked), "unreadable_file"),
            (str(named), "unreadable_file"),
            (str(no_entry / "inside.txt"), "unreadable_file"),
        ]
    )
