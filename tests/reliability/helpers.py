"""Shared helpers for the reliability suite: seed letters, PDFs, warehouse queries, the CLI."""

from __future__ import annotations

import contextlib
import fcntl
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest
from fpdf import FPDF

from etl.settings import Settings
from tests.conftest import REAL, ROOT

SEEDS = ROOT / "data" / "samples" / "seeds"
PYTHON = sys.executable


def seed_texts() -> list[str]:
    return [path.read_text(encoding="utf-8") for path in sorted(SEEDS.glob("*.txt"))]


def real_texts() -> list[str]:
    """The real letters as extracted by pypdf, or [] when ../shared is absent."""
    folder = REAL / "pypdf"
    return (
        [p.read_text(encoding="utf-8") for p in sorted(folder.glob("*.txt"))]
        if folder.is_dir()
        else []
    )


_PREAMBLE = re.compile(r"(including all medical records:\s*)", re.I)


def variant(text: str, n: int) -> str:
    """Another letter: same layout, a case summary that differs (so another fingerprint)."""
    changed, count = _PREAMBLE.subn(rf"\g<1>Reference note {n}. ", text, count=1)
    assert count == 1, "seed letter without the case-summary preamble"
    return changed


def write_letters(folder: Path, start: int, letters: int) -> Path:
    """``letters`` distinct seed-letter variants numbered from ``start``, one file each."""
    folder.mkdir(parents=True)
    seeds = seed_texts()
    for n in range(start, start + letters):
        (folder / f"{n:05d}.txt").write_text(variant(seeds[n % len(seeds)], n))
    return folder


def settings_for(folder: Path, jobs: int = 1, **overrides: object) -> Settings:
    return Settings(db=folder / "wh" / "current.duckdb", jobs=jobs, **overrides)  # type: ignore[arg-type]


def query(db: Path, sql: str) -> list[tuple]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def text_pdf(text: str, *, user_password: str | None = None, owner_only: bool = False) -> bytes:
    """A real PDF with ``text`` as its text layer (Helvetica: Latin-1 only)."""
    pdf = FPDF()
    if user_password or owner_only:
        pdf.set_encryption(owner_password="owner-secret", user_password=user_password)
    pdf.set_font("helvetica", size=9)
    pdf.add_page()
    pdf.multi_cell(0, 4, text.encode("latin-1", "replace").decode("latin-1"))
    return bytes(pdf.output())


def image_only_pdf(pages: int = 2) -> bytes:
    """A 'scan': pages of drawn shapes and no text layer at all."""
    pdf = FPDF()
    for _ in range(pages):
        pdf.add_page()
        for row in range(20):
            pdf.rect(15, 15 + row * 12, 150 - row * 3, 6, style="F")
    return bytes(pdf.output())


def many_page_pdf(pages: int) -> bytes:
    pdf = FPDF()
    pdf.set_font("helvetica", size=9)
    for n in range(pages):
        pdf.add_page()
        pdf.cell(0, 5, f"page {n} of a document far longer than any letter")
    return bytes(pdf.output())


def unprivileged() -> list[str]:
    """A command prefix that makes even root obey file permissions (tests may run as root)."""
    if os.geteuid() != 0:
        return []
    if not shutil.which("setpriv"):
        pytest.skip("running as root without setpriv: permissions cannot be enforced")
    caps = "-dac_override,-dac_read_search,-fowner,-linux_immutable"
    return ["setpriv", f"--bounding-set={caps}", "--inh-caps=-all"]


def cli_env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    env.pop("IMR_DB", None)
    return env


def ingest_command(inputs: list[Path], db: Path, jobs: int = 2) -> list[str]:
    paths = [str(p) for p in inputs]
    return [
        PYTHON,
        "-m",
        "etl.cli",
        "ingest",
        *paths,
        "--db",
        str(db),
        "--quiet",
        "--jobs",
        str(jobs),
    ]


def run_ingest(
    inputs: list[Path], db: Path, jobs: int = 2, timeout: float = 120, **kwargs: object
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(  # type: ignore[call-overload]
        ingest_command(inputs, db, jobs),
        cwd=ROOT,
        env=cli_env(),
        capture_output=True,
        text=True,
        timeout=timeout,
        **kwargs,
    )


def warehouse_state(db: Path) -> tuple[int, int, int, int] | None:
    """(letters, distinct letters, decisions, sources) of the published warehouse, or None.

    Opens ``current.duckdb`` read-only exactly as the dashboard does; any damage raises.
    """
    if not db.exists() and not db.is_symlink():
        return None
    rows = query(
        db,
        "select (select count(*) from letters), (select count(distinct letter_id) from letters),"
        " (select count(*) from decisions), (select count(*) from sources)",
    )
    letters, distinct, decisions, sources = rows[0]
    return (letters, distinct, decisions, sources)


_WRAPPER = """
import os, signal, sys, time
import etl.ingest
import etl.pipeline
from etl.pipeline import extract as real_extract
from etl.pipeline import finish as real_finish
from etl.pipeline import extract_text as real_extract_text

MODE = os.environ["IMR_TEST_MODE"]

def extract(path, data, synthetic=False, sha256=None):
    name = os.path.basename(path)
    if MODE == "segfault" and name.startswith("crash"):
        os.kill(os.getpid(), signal.SIGSEGV)  # as a native crash in PDFium would
    if MODE == "slow":
        time.sleep(float(os.environ.get("IMR_TEST_SLEEP", "0.3")))
    if MODE == "hang" and name.startswith("hang"):
        while True:  # a busy loop holding the GIL, as PDFium looping in native code would
            pass
    return real_extract(path, data, synthetic, sha256)

def finish(extracted):
    if MODE == "hang_finish" and os.path.basename(extracted.path).startswith("hang"):
        while True:  # a parse that never ends, after the worker has read the files behind it
            pass
    return real_finish(extracted)

def extract_text(data, name):
    if MODE == "bomb" and os.path.basename(name).startswith("bomb"):
        # What a decompression bomb does inside PDFium: ask for far more memory than a letter.
        bytearray(8 * 1024**3)
    return real_extract_text(data, name)

etl.ingest.extract = extract  # forked workers inherit it
etl.ingest.finish = finish
etl.pipeline.extract_text = extract_text
from etl.cli import main
raise SystemExit(main(sys.argv[1:]))
"""


def wrapped_ingest(
    tmp_path: Path,
    mode: str,
    inputs: Path,
    db: Path,
    sleep: float = 0.3,
    env: dict[str, str] | None = None,
) -> subprocess.Popen[str]:
    """`imr ingest` whose workers crash on files named crash* ('segfault'), are slow ('slow'),
    loop forever reading hang* ('hang') or parsing it ('hang_finish'), or ask for 8 GiB on
    bomb* ('bomb')."""
    script = tmp_path / "wrapped_imr.py"
    script.write_text(_WRAPPER)
    env = dict(cli_env(), IMR_TEST_MODE=mode, IMR_TEST_SLEEP=str(sleep), **(env or {}))
    command = [PYTHON, str(script), *ingest_command([inputs], db)[3:]]
    return subprocess.Popen(
        command, cwd=ROOT, env=env, text=True, start_new_session=True,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )  # fmt: skip


def lock_is_free(db: Path) -> bool:
    """True when no ingest holds the warehouse lock, whether it uses flock() or lockf()."""
    lock = db.parent / f".{db.name}.lock"
    if not lock.exists():
        return True
    with open(lock, "a") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            fcntl.lockf(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            return False
        fcntl.lockf(handle, fcntl.LOCK_UN)
        fcntl.flock(handle, fcntl.LOCK_UN)
    return True


@contextlib.contextmanager
def holding_the_lock(db: Path) -> Iterator[None]:
    """Hold the warehouse lock as an ingest would, with both kinds of lock."""
    db.parent.mkdir(parents=True, exist_ok=True)
    with open(db.parent / f".{db.name}.lock", "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        fcntl.lockf(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        yield
