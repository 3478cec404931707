"""A real (small) warehouse for the dashboard tests, built by the real ingest.

Inputs: the sample letters (``data/samples``), a generated corpus (``etl.demo.write_corpus``),
the browser tests' crafted hostile letters (formula-like requests, markup; see
``tests/browser/hostile.py``) and two files the ETL rejects (a text file that is no letter, a
PDF it cannot read). Nothing is inserted by hand: every expected number in these tests comes
from SQL over this warehouse (the ``oracle`` connection), written independently of the
dashboard's queries.

Run as a script to build one for a manual ``streamlit run``:
``.venv/bin/python tests/dashboard/conftest.py /tmp/imr-fixture``
(then ``IMR_DB=/tmp/imr-fixture/wh/current.duckdb``).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from dashboard import queries  # noqa: E402
from etl.demo import write_corpus  # noqa: E402
from etl.ingest import ingest  # noqa: E402
from etl.settings import Settings  # noqa: E402
from etl.warehouse import derived  # noqa: E402
from tests.browser import hostile  # noqa: E402

CORPUS_LETTERS = 400
CORPUS_SEED = 7


def write_rejected(folder: Path) -> Path:
    """Inputs the ETL rejects: a text file without an IMR header, a PDF without a body."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "note.txt").write_text("Hello, this is not an IMR letter.\n", encoding="utf-8")
    (folder / "broken.pdf").write_bytes(b"%PDF-1.4\n")
    return folder


def build_warehouse(folder: Path) -> Path:
    """Ingest the inputs above into ``folder/wh/current.duckdb`` (the published link)."""
    write_corpus(folder / "corpus", letters=CORPUS_LETTERS, seed=CORPUS_SEED, pdf_share=0.0)
    inputs = [
        ROOT / "data" / "samples",
        folder / "corpus",
        hostile.write_letters(folder / "hostile"),
        write_rejected(folder / "rejected"),
    ]
    settings = Settings(db=folder / "wh" / "current.duckdb", jobs=1)
    ingest(inputs, settings)
    return settings.db


@pytest.fixture(scope="session")
def warehouse(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The published link of the test warehouse."""
    return build_warehouse(tmp_path_factory.mktemp("dashboard"))


# The bits of every list value after the third shared (derived.SHARED_BIT; 63 in a build): a
# warehouse where the lists of the corpus have values that share a bit.
NARROW_SHARED_BIT = 3


@pytest.fixture(scope="session")
def narrow_bits_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The test warehouse built with NARROW_SHARED_BIT: its values from the fourth of each list
    on share one bit (a list of more than 63 values, at a size the tests can build)."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(derived, "SHARED_BIT", NARROW_SHARED_BIT)
        published = build_warehouse(tmp_path_factory.mktemp("narrow-bits"))
    return Path(os.path.realpath(published))


@pytest.fixture()
def narrow_bits(
    narrow_bits_file: Path,
) -> Iterator[tuple[duckdb.DuckDBPyConnection, duckdb.DuckDBPyConnection]]:
    """A dashboard session and a read-only connection (``con``, ``oracle``) on that warehouse."""
    session = queries.connect(narrow_bits_file)
    connection = duckdb.connect(str(narrow_bits_file), read_only=True)
    try:
        yield session, connection
    finally:
        session.close()
        connection.close()


@pytest.fixture(scope="session")
def warehouse_file(warehouse: Path) -> Path:
    return Path(os.path.realpath(warehouse))


def session_on(path: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    """A dashboard session (``queries.connect``) on ``path``, as the app opens it."""
    session = queries.connect(path)
    try:
        yield session
    finally:
        session.close()


@pytest.fixture()
def con(warehouse_file: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    yield from session_on(warehouse_file)


@pytest.fixture(scope="session")
def oracle(warehouse_file: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    """A plain read-only connection to the warehouse file, for the tests' own SQL."""
    connection = duckdb.connect(str(warehouse_file), read_only=True)
    try:
        yield connection
    finally:
        connection.close()


if __name__ == "__main__":
    out = Path(sys.argv[1] if len(sys.argv) > 1 else "/tmp/imr-fixture")
    print(build_warehouse(out))


@pytest.fixture
def app_env(warehouse: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The dashboard under test reads this module's warehouse (``IMR_DB``), default settings."""
    monkeypatch.setenv("IMR_DB", str(warehouse))
    monkeypatch.delenv("IMR_SMALL_N", raising=False)
    return warehouse
