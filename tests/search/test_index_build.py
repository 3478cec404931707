"""The index's life beside the warehouse: built by `imr ingest` with each version, incremental
from a hard-link copy of the previous index, published with its version (a reader never gets an
index that does not match its warehouse), a failed or killed build leaves the old pair, stale
indexes go with their versions, and only files the tool wrote are ever removed."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import duckdb
import pytest

from etl.demo import write_corpus
from etl.ingest import ingest
from etl.search import build as search_build
from etl.search import schema, store
from etl.search.engine import IndexUnavailable, SearchIndex
from etl.settings import Settings
from etl.warehouse import files
from tests.conftest import ROOT
from tests.reliability.helpers import cli_env, seed_texts, variant
from tests.search.conftest import open_index

SAMPLES = ROOT / "data" / "samples"


def _corpus(folder: Path, letters: int, seed: int) -> Path:
    write_corpus(folder, letters=letters, seed=seed, pdf_share=0.0)
    return folder


def _marker(db: Path) -> dict:
    marker = store.read_marker(store.index_dir_for(db.resolve()))
    assert marker is not None
    return marker


def _index_keys(db: Path) -> set[int]:
    import tantivy

    index = open_index(db.resolve())
    everything = index.searcher.search(tantivy.Query.all_query(), max(index.documents, 1)).hits
    return set(index.searcher.fast_field_values("key", [address for _, address in everything]))


def _warehouse_keys(db: Path, salt: int) -> set[int]:
    con = duckdb.connect(str(db.resolve()), read_only=True)
    try:
        rows = con.execute(
            "select hash(letter_id, item_no, ?::integer) from decisions", [salt]
        ).fetchall()
    finally:
        con.close()
    return {key for (key,) in rows}


def _assert_matches(db: Path) -> dict:
    """The published index holds exactly the warehouse's items; returns its marker."""
    marker = _marker(db)
    keys = _warehouse_keys(db, marker["salt"])
    assert _index_keys(db) == keys
    assert marker["documents"] == len(keys)
    assert marker["warehouse"] == db.resolve().name
    return marker


def test_incremental_builds_link_the_previous_index_and_match_the_warehouse(
    tmp_path: Path,
) -> None:
    db = tmp_path / "wh" / "current.duckdb"
    settings = Settings(db=db, jobs=1)
    ingest([SAMPLES], settings)
    first = _assert_matches(db)
    assert first["mode"] == "full"
    first_folder = store.index_dir_for(db.resolve())

    summary = ingest([_corpus(tmp_path / "corpus", 120, 5)], settings)
    second = _assert_matches(db)
    assert second["mode"] == "incremental"
    assert second["added"] == summary.items and second["removed"] == 0
    # The first index's segments are shared (hard links), not copied.
    segments = [p for p in first_folder.iterdir() if p.suffix == ".idx"]
    assert segments
    new_folder = store.index_dir_for(db.resolve())
    assert all((new_folder / p.name).stat().st_ino == p.stat().st_ino for p in segments)

    # A run that changes nothing still publishes a matching index, and removes the index of
    # the version before the previous one with that version.
    ingest([SAMPLES], settings)
    third = _assert_matches(db)
    assert third["mode"] == "incremental" and third["added"] == third["removed"] == 0
    assert not first_folder.exists()
    kept = sorted(p.name for p in db.parent.iterdir() if p.name.endswith(store.SUFFIX))
    versions = files.read_manifest(db)
    assert kept == sorted(f"{v}{store.SUFFIX}" for v in versions)


def test_reparsed_letters_are_replaced_in_the_index(tmp_path: Path) -> None:
    db = tmp_path / "wh" / "current.duckdb"
    settings = Settings(db=db, jobs=1)
    corpus = _corpus(tmp_path / "corpus", 60, 9)
    ingest([corpus], settings)
    # Mark ten letters as parsed by an older parser: the next ingest of the same files parses
    # them again and replaces them (same letter ids, new rows).
    con = duckdb.connect(str(db.resolve()))
    ids = [
        r for (r,) in con.execute("select letter_id from letters order by 1 limit 10").fetchall()
    ]
    items = con.execute(
        "select count(*) from decisions where letter_id in (select unnest(?))", [ids]
    ).fetchone()[0]
    con.execute(
        "update letters set parser_version = '0' where letter_id in (select unnest(?))", [ids]
    )
    con.execute(
        "update sources set parser_version = '0' where letter_id in (select unnest(?))", [ids]
    )
    con.close()
    ingest([corpus], settings)
    marker = _assert_matches(db)
    assert marker["mode"] == "incremental"
    assert marker["removed"] == 10 and marker["added"] == items


def test_a_changed_vocabulary_rebuilds_the_index_whole(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    db = tmp_path / "wh" / "current.duckdb"
    settings = Settings(db=db, jobs=1)
    ingest([SAMPLES], settings)
    monkeypatch.setattr(search_build, "vocabulary_digest", lambda: "another vocabulary")
    ingest([SAMPLES], settings)
    marker = _assert_matches(db)
    assert marker["mode"] == "full" and marker["vocabulary"] == "another vocabulary"


def test_an_index_of_the_previous_format_is_refused_then_rebuilt_whole(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Format 1 stored the texts snippets are cut from; format 2 reads them from the warehouse.
    db = tmp_path / "wh" / "current.duckdb"
    settings = Settings(db=db, jobs=1)
    monkeypatch.setattr(schema, "FORMAT", 1)
    ingest([SAMPLES], settings)
    assert _marker(db)["format"] == 1
    monkeypatch.setattr(schema, "FORMAT", 2)
    with pytest.raises(IndexUnavailable, match="another format"):
        open_index(db.resolve())
    ingest([SAMPLES], settings)
    marker = _assert_matches(db)
    assert marker["mode"] == "full" and marker["format"] == 2


def test_the_index_stores_no_text(tmp_path: Path) -> None:
    import tantivy

    db = tmp_path / "wh" / "current.duckdb"
    ingest([SAMPLES], Settings(db=db, jobs=1))
    index = open_index(db.resolve())
    everything = index.searcher.search(tantivy.Query.all_query(), index.documents).hits
    stored = {name for _, address in everything for name in index.searcher.doc(address).to_dict()}
    assert stored == {schema.KEY, schema.LETTER_ID, schema.ITEM_NO}


def test_a_reader_refuses_an_index_that_is_not_its_warehouses(tmp_path: Path) -> None:
    db = tmp_path / "wh" / "current.duckdb"
    ingest([SAMPLES], Settings(db=db, jobs=1))
    version = db.resolve()
    con = duckdb.connect(str(version), read_only=True)
    meta = dict(con.execute("select key, value from meta").fetchall())
    probe = str(
        con.execute("select hash('imr-search-probe', 7::integer, 0::integer)").fetchone()[0]
    )
    con.close()
    assert SearchIndex.open(version, meta, probe).documents > 0
    cases = {
        "no index named": {k: v for k, v in meta.items() if not k.startswith("search")},
        "another id": {**meta, "search_index_id": "0" * 32},
        "a path": {**meta, "search_index": "../elsewhere.search"},
        "not ours": {**meta, "search_index": "current.duckdb"},
    }
    for case, wrong in cases.items():
        with pytest.raises(IndexUnavailable):
            SearchIndex.open(version, wrong, probe)
        assert case
    with pytest.raises(IndexUnavailable, match="another DuckDB"):
        SearchIndex.open(version, meta, "12345")
    # A copy of the version under another name (not what the index was built for).
    other = version.with_name("copy.duckdb")
    other.write_bytes(version.read_bytes())
    with pytest.raises(IndexUnavailable, match="does not match"):
        SearchIndex.open(other, meta, probe)
    # An index whose build did not finish.
    folder = store.index_dir_for(version)
    marker = store.read_marker(folder)
    store.write_marker(folder, {**marker, "state": store.BUILDING})
    with pytest.raises(IndexUnavailable, match="missing"):
        SearchIndex.open(version, meta, probe)


def test_a_failed_index_build_leaves_the_old_pair(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    db = tmp_path / "wh" / "current.duckdb"
    settings = Settings(db=db, jobs=1)
    ingest([SAMPLES], settings)
    published = os.readlink(db)
    listing = sorted(p.name for p in db.parent.iterdir())

    def broken(*args: object, **kwargs: object) -> int:
        raise ValueError("No space left on device (simulated)")

    monkeypatch.setattr(search_build, "_add_documents", broken)
    with pytest.raises(search_build.SearchBuildError, match="is unchanged"):
        ingest([_corpus(tmp_path / "corpus", 20, 3)], settings)
    assert os.readlink(db) == published
    # Nothing of the failed build is left but its spooled rows (kept for the next run).
    assert sorted(p.name for p in db.parent.iterdir()) == sorted(
        [*listing, ".current.duckdb.spool"]
    )
    _assert_matches(db)
    monkeypatch.undo()
    ingest([tmp_path / "corpus"], settings)
    _assert_matches(db)


_SLOW_INDEX = """
import sys, time
from pathlib import Path
from etl.search import build
original = build._add_documents
def slow(*args, **kwargs):
    Path(sys.argv[1]).write_text("indexing")
    time.sleep(120)
    return original(*args, **kwargs)
build._add_documents = slow
from etl.cli import main
sys.exit(main(sys.argv[2:]))
"""


def test_a_build_killed_while_indexing_leaves_the_old_pair_and_is_cleaned_up(
    tmp_path: Path,
) -> None:
    db = tmp_path / "wh" / "current.duckdb"
    ingest([SAMPLES], Settings(db=db, jobs=1))
    published = os.readlink(db)
    flag = tmp_path / "indexing"
    letter = tmp_path / "new"
    letter.mkdir()
    (letter / "new.txt").write_text(variant(seed_texts()[0], 777))
    process = subprocess.Popen(
        [sys.executable, "-c", _SLOW_INDEX, str(flag), "ingest", str(letter), "--db", str(db)],
        cwd=ROOT,
        env=cli_env(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 60
        while not flag.exists():
            assert time.monotonic() < deadline and process.poll() is None, "never reached indexing"
            time.sleep(0.05)
        building = [
            p
            for p in db.parent.iterdir()
            if p.name.endswith(store.SUFFIX) and p.name != f"{published}{store.SUFFIX}"
        ]
        assert len(building) == 1
        assert store.read_marker(building[0])["state"] == store.BUILDING  # type: ignore[index]
    finally:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()
    # Readers still get the old pair.
    assert os.readlink(db) == published
    _assert_matches(db)
    # The next run removes the killed build's version and index, and publishes a new pair.
    ingest([letter], Settings(db=db, jobs=1))
    assert not building[0].exists()
    _assert_matches(db)


def test_only_files_the_tool_wrote_are_removed(tmp_path: Path) -> None:
    folder = tmp_path / "x.duckdb.search"
    store.create_index_dir(folder, {"format": 1})
    (folder / "meta.json").write_text("{}")
    (folder / ("a" * 32 + ".idx")).write_text("")
    (folder / ("b" * 32 + ".12.del")).write_text("")
    (folder / "notes.txt").write_text("mine")
    assert not store.remove_index_dir(folder)
    assert sorted(p.name for p in folder.iterdir()) == ["notes.txt"]
    # Without our marker nothing is deleted; an empty folder goes.
    (folder / "meta.json").write_text("{}")
    assert not store.remove_index_dir(folder)
    assert sorted(p.name for p in folder.iterdir()) == ["meta.json", "notes.txt"]
    empty = tmp_path / "y.duckdb.search"
    empty.mkdir()
    assert store.remove_index_dir(empty) and not empty.exists()
    # Regression (20-run SIGKILL loop in CI): killed between creating the folder and renaming
    # its marker into place, a build leaves only the marker's temporary file: ours, removed.
    unmarked = tmp_path / "w.duckdb.search"
    unmarked.mkdir()
    (unmarked / f".{store.MARKER}.4242.tmp").write_text('{"state": "bu')
    assert store.remove_index_dir(unmarked) and not unmarked.exists()
    unmarked.mkdir()
    (unmarked / f".{store.MARKER}.4242.tmp").write_text("")
    (unmarked / "meta.json").write_text("{}")
    assert not store.remove_index_dir(unmarked)
    assert sorted(p.name for p in unmarked.iterdir()) == ["meta.json"]
    # A symlink named like an index folder is not followed.
    target = tmp_path / "target"
    target.mkdir()
    (target / store.MARKER).write_text("{}")
    (target / "meta.json").write_text("{}")
    link = tmp_path / "z.duckdb.search"
    link.symlink_to(target)
    store.remove_index_dir(link)
    assert sorted(p.name for p in target.iterdir()) == ["imr-search.json", "meta.json"]


def test_an_index_folder_beside_a_version_we_did_not_write_is_kept(tmp_path: Path) -> None:
    db = tmp_path / "wh" / "current.duckdb"
    settings = Settings(db=db, jobs=1)
    ingest([SAMPLES], settings)
    stranger = db.parent / "current.v20200101T000000-000000000-1.duckdb.search"
    stranger.mkdir()
    (stranger / "meta.json").write_text("{}")
    ingest([SAMPLES], settings)
    ingest([SAMPLES], settings)
    assert (stranger / "meta.json").read_text() == "{}"


def test_a_build_killed_while_writing_a_segment_leaves_nothing_behind(tmp_path: Path) -> None:
    """Regression (20-run SIGKILL loop in CI): a writer killed while storing documents leaves
    ``<uuid>.store.temp``; removing the folder must take it too, and a version whose folder
    could not be removed stays in the manifest, so a later build tries again."""
    folder = tmp_path / "x.duckdb.search"
    store.create_index_dir(folder, {"id": "1"})
    (folder / ("c" * 32 + ".store.temp")).write_text("")
    (folder / ("c" * 32 + ".store")).write_text("")
    assert store.remove_index_dir(folder) and not folder.exists()

    link = tmp_path / "wh" / "current.duckdb"
    link.parent.mkdir()
    name = "current.v20200101T000000-000000000-1.duckdb"
    files.record_version(link, name)
    (link.parent / name).write_text("")
    stuck = store.index_dir_for(link.parent / name)
    store.create_index_dir(stuck, {"id": "2"})
    (stuck / "notes.txt").write_text("a user's file")
    assert files.remove_stale_versions(link, keep=()) == []
    assert files.read_manifest(link) == [name] and stuck.is_dir()
    (stuck / "notes.txt").unlink()
    assert files.remove_stale_versions(link, keep=()) == [name]
    assert files.read_manifest(link) == [] and not stuck.exists()


def test_the_key_check_counts_every_item_beyond_the_first_per_key(tmp_path: Path) -> None:
    con = duckdb.connect()
    con.execute(
        "create table decisions as select * from (values ('a', 1), ('a', 1), ('a', 1), "
        "('a', 2), ('b', 1), ('b', 1)) as t(letter_id, item_no)"
    )
    collisions = con.execute(search_build.read_sql("key_collisions.sql"), {"salt": 0}).fetchone()
    assert collisions == (3,)  # two extra ('a', 1), one extra ('b', 1)
    # The same item twice shares its key under every salt: the build refuses.
    with pytest.raises(search_build.SearchBuildError, match="no salt"):
        search_build._unique_salt(con, 0)
    con.execute("delete from decisions where item_no = 1")
    con.execute("insert into decisions values ('a', 1), ('b', 1)")
    assert search_build._unique_salt(con, 5) == (5, False)


# Searches the index folder argv[1] with Tantivy alone; prints the number of documents.
_READ_AS_ANOTHER_USER = """
import sys, tantivy
index = tantivy.Index.open(sys.argv[1])
index.reload()
print(index.searcher().search(tantivy.Query.all_query(), 1).count)
"""


def _interpreter_for(uid: int, env: dict[str, str]) -> str | None:
    """A Python this interpreter's packages load in that the user ``uid`` may run."""
    for candidate in (sys.executable, "/usr/bin/python3", "/usr/local/bin/python3"):
        try:
            done = subprocess.run(
                [candidate, "-c", "import tantivy"],
                user=uid,
                group=uid,
                env=env,
                cwd="/",
                capture_output=True,
                timeout=60,
            )
        except OSError:
            continue
        if done.returncode == 0:
            return candidate
    return None


def test_another_user_can_search_the_published_index(tmp_path: Path) -> None:
    """A dashboard replica run as another user, allowed to read the published warehouse, opens
    and searches its index. Tantivy wrote meta.json and .managed.json for their owner only,
    and its reader takes a lock on .tantivy-meta.lock that opens it for writing."""
    old = os.umask(0o022)
    try:
        db = tmp_path / "wh" / "current.duckdb"
        ingest([SAMPLES], Settings(db=db, jobs=1))
        ingest([_corpus(tmp_path / "corpus", 40, 3)], Settings(db=db, jobs=1))  # incremental
    finally:
        os.umask(old)
    folder = store.index_dir_for(db.resolve())
    assert _marker(db)["mode"] == "incremental"
    modes = {p.name: p.stat().st_mode & 0o777 for p in folder.iterdir()}
    assert modes.pop(".tantivy-meta.lock") == 0o666
    assert set(modes.values()) == {0o644}, modes

    if os.geteuid() != 0:
        pytest.skip("reading as another user needs root to switch users")
    import tantivy

    nobody = 65534
    site = str(Path(tantivy.__file__).resolve().parent.parent)
    env = {"PYTHONPATH": site, "PATH": "/usr/bin:/bin", "HOME": "/"}
    python = _interpreter_for(nobody, env)
    if python is None:
        pytest.skip("no Python interpreter here that another user may run")
    # The build's folders are private to their owner (pytest's): a published copy is not.
    shared = Path(tempfile.mkdtemp(prefix="imr-shared-"))
    try:
        shared.chmod(0o755)
        copy = shared / folder.name
        shutil.copytree(folder, copy)  # keeps each file's mode
        done = subprocess.run(
            [python, "-c", _READ_AS_ANOTHER_USER, str(copy)],
            user=nobody,
            group=nobody,
            env=env,
            cwd="/",
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert done.returncode == 0, done.stderr[-2000:]
        assert int(done.stdout) == _marker(db)["documents"]
    finally:
        shutil.rmtree(shared)
