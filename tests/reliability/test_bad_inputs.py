"""Hostile and broken inputs: every file ends loaded, unchanged or rejected with a clear reason.

One corpus of bad files (built here, in tmp) is ingested once; each case is then its own test.
The accounting invariant ``loaded + rejected + unchanged == inputs`` is checked on every batch.
"""

from __future__ import annotations

import os
import random
import stat
import tracemalloc
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from etl.extract import extract_text
from etl.ingest import IngestSummary, ingest
from etl.parse import normalise_text, parse_letter
from etl.pipeline import Loaded, process
from etl.settings import Settings
from tests.reliability.helpers import (
    image_only_pdf,
    many_page_pdf,
    query,
    seed_texts,
    settings_for,
    text_pdf,
    variant,
)

MB = 1024 * 1024


def _seed() -> str:
    return seed_texts()[0]


def _accounting(summary: IngestSummary, inputs: int) -> None:
    assert summary.files == inputs
    assert summary.letters + summary.rejected + summary.unchanged == inputs


# --- the corpus: file name -> (bytes maker, expected reason or LOADED) --------------------------

LOADED = "LOADED"


def _truncated_pdf() -> bytes:
    good = text_pdf(variant(_seed(), 9001))
    return good[: len(good) // 2]


def _zeroed_pdf() -> bytes:
    good = text_pdf(variant(_seed(), 9002))
    return good[:300] + bytes(len(good) - 600) + good[-300:]


def _broken_xref_pdf() -> bytes:
    # Only the cross-reference table is damaged: PDFium rebuilds it, the letter loads.
    good = text_pdf(variant(_seed(), 9003))
    at = good.rfind(b"xref")
    return good[:at] + b"garbage" + good[at + 7 :]


def _junk(seed: int, size: int = 4096, nul: bool = True) -> bytes:
    rng = random.Random(seed)
    data = bytes(rng.randrange(256) for _ in range(size))
    return data if nul else data.replace(b"\x00", b"\x01")


def _no_items_section() -> bytes:
    # The heading is there, but no item has a decision.
    text = _seed()
    head = text.split("IMR ISSUES, DECISIONS AND RATIONALES")[0]
    return (head + "IMR ISSUES, DECISIONS AND RATIONALES\nNothing follows.\n").encode()


def _missing_section() -> bytes:
    return _seed().split("IMR ISSUES, DECISIONS AND RATIONALES")[0].encode()


def _deferred() -> bytes:
    text = variant(_seed(), 9004)
    assert ": Upheld" in text
    return text.replace(": Upheld", ": Deferred").encode()


NOT_IMR = (
    "Dear Policyholder,\n\nYour automobile insurance renewal is enclosed. The premium for the\n"
    "coming year is $1,204.00, payable in two installments. Upheld values of customer service\n"
    "guide everything we do. Please call us with any questions.\n\nSincerely,\nAcme Insurance\n"
)

CASES: dict[str, tuple[Callable[[], bytes], str]] = {
    "empty.txt": (lambda: b"", "empty_file"),
    "whitespace.txt": (lambda: b" \n\r\n\t \n" * 100, "empty"),
    "junk.pdf": (lambda: _junk(1), "not_a_pdf"),
    "junk.txt": (lambda: _junk(2), "binary_file"),
    "junk-no-nul.txt": (lambda: _junk(3, nul=False), "not_a_letter"),
    "pdf-header-then-junk.pdf": (lambda: b"%PDF-1.7\n" + _junk(4), "unreadable_pdf"),
    "pdf-renamed.txt": (lambda: text_pdf(variant(_seed(), 9005)), LOADED),
    "truncated.pdf": (_truncated_pdf, "unreadable_pdf"),
    "truncated-to-header.pdf": (lambda: text_pdf(_seed())[:40], "unreadable_pdf"),
    "zeroed-middle.pdf": (_zeroed_pdf, "unreadable_pdf"),
    "broken-xref.pdf": (_broken_xref_pdf, LOADED),
    "encrypted.pdf": (lambda: text_pdf(_seed(), user_password="s3cret"), "encrypted_pdf"),
    # Owner password only: readable by anyone (permissions are not ours to enforce).
    "owner-password-only.pdf": (lambda: text_pdf(variant(_seed(), 9006), owner_only=True), LOADED),
    "image-only.pdf": (image_only_pdf, "no_text_layer"),
    "too-many-pages.pdf": (lambda: many_page_pdf(201), "too_many_pages"),
    "not-imr.txt": (lambda: NOT_IMR.encode(), "not_a_letter"),
    "not-imr.pdf": (lambda: text_pdf(NOT_IMR), "not_a_letter"),
    "missing-items-section.txt": (_missing_section, "missing_section"),
    "empty-items-section.txt": (_no_items_section, "no_items"),
    "deferred.txt": (_deferred, "unknown_decision"),
    "good.txt": (lambda: _seed().encode(), LOADED),
    "good.pdf": (lambda: text_pdf(variant(_seed(), 9007)), LOADED),
}
# Duplicates under other names, and bytes already seen: counted once, the rest unchanged.
DUPLICATES = {
    "zz-copy-of-good.txt": "good.txt",
    "sub/another-copy.txt": "good.txt",
    "empty2.pdf": "empty.txt",  # no bytes are the same bytes: the first file seen speaks
}


@dataclass
class Batch:
    folder: Path
    summary: IngestSummary
    reasons: dict[str, str]
    loaded: set[str]
    db: Path


@pytest.fixture(scope="module")
def batch(tmp_path_factory: pytest.TempPathFactory) -> Batch:
    root = tmp_path_factory.mktemp("bad")
    folder = root / "in"
    (folder / "sub").mkdir(parents=True)
    for name, (make, _) in CASES.items():
        (folder / name).write_bytes(make())
    for name, original in DUPLICATES.items():
        (folder / name).write_bytes((folder / original).read_bytes())
    (folder / "README.md").write_text("not a letter: ignored")
    settings = settings_for(root, jobs=2)
    summary = ingest([folder], settings)
    reasons = dict(query(settings.db, "select source_path, reason from rejects"))
    loaded = {path for (path,) in query(settings.db, "select source_path from letters")}
    return Batch(folder, summary, reasons, loaded, settings.db)


def test_every_input_is_accounted_for(batch: Batch) -> None:
    _accounting(batch.summary, len(CASES) + len(DUPLICATES))
    assert batch.summary.ignored == 1
    expected_rejects = sum(1 for _, reason in CASES.values() if reason != LOADED)
    assert batch.summary.rejected == expected_rejects == len(batch.reasons)
    assert batch.summary.unchanged == len(DUPLICATES)
    # The two copies are the same bytes as good.txt: one letter, one row.
    assert query(batch.db, "select count(*) = count(distinct letter_id) from letters") == [(True,)]
    for name in DUPLICATES:
        path = str(batch.folder / name)
        assert path not in batch.reasons and path not in batch.loaded


@pytest.mark.parametrize("name", sorted(CASES))
def test_bad_input_case(batch: Batch, name: str) -> None:
    path = str(batch.folder / name)
    expected = CASES[name][1]
    if expected == LOADED:
        assert path not in batch.reasons
        assert path in batch.loaded
    else:
        assert batch.reasons.get(path) == expected
        detail = query(batch.db, f"select detail from rejects where source_path = '{path}'")
        assert detail and detail[0][0], "a reject must say why"


def test_image_only_pdf_is_not_loaded_as_an_empty_letter(batch: Batch) -> None:
    path = str(batch.folder / "image-only.pdf")
    assert query(batch.db, f"select count(*) from letters where source_path = '{path}'") == [(0,)]
    assert query(batch.db, f"select status from sources where source_path = '{path}'") == [
        ("rejected",)
    ]


def test_rejects_are_remembered_and_a_rerun_changes_nothing(batch: Batch) -> None:
    before = query(batch.db, "select source_path, reason from rejects order by all")
    summary = ingest([batch.folder], settings_for(batch.db.parent.parent, jobs=1))
    _accounting(summary, len(CASES) + len(DUPLICATES))
    assert summary.letters == 0
    assert query(batch.db, "select source_path, reason from rejects order by all") == before


# --- the 200 MB file -------------------------------------------------------------------------


def _reset_peak() -> bool:
    """Reset this process's peak resident size (Linux: VmHWM), if the system lets it."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        return False
    return True


def _peak_kib() -> int:
    """This process's peak resident size since the last reset, in KiB."""
    status = Path("/proc/self/status").read_text()
    return int(next(line for line in status.splitlines() if line.startswith("VmHWM:")).split()[1])


def test_a_200_mb_file_is_refused_unread(tmp_path: Path) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    for name in ("huge.txt", "huge.pdf"):
        with open(folder / name, "wb") as handle:
            handle.truncate(200 * MB)  # sparse: takes no disk, but reading it would take 200 MB
    (folder / "good.txt").write_text(_seed())
    # A first ingest in this process (imports, vocabularies, DuckDB) raises the peak by about
    # 150 MB whatever it reads: made first, so the peak below says what the large files cost.
    warm = tmp_path / "warm"
    warm.mkdir()
    (warm / "good.txt").write_text(_seed())
    ingest([warm], settings_for(tmp_path / "first"))
    settings = settings_for(tmp_path)
    # The process's peak from here on (an earlier test's higher peak would hide this one's).
    if not _reset_peak():
        pytest.skip("this system cannot reset a process's peak memory (/proc/self/clear_refs)")
    peak_before = _peak_kib()
    summary = ingest([folder], settings)
    peak_after = _peak_kib()
    _accounting(summary, 3)
    assert (summary.letters, summary.rejected) == (1, 2)
    rows = query(settings.db, "select reason, detail from rejects order by source_path")
    assert [r for r, _ in rows] == ["too_large", "too_large"]
    assert all("209,715,200 bytes" in detail for _, detail in rows)
    assert (peak_after - peak_before) * 1024 < 100 * MB, "the large file was read into memory"


# --- encodings -------------------------------------------------------------------------------

# Characters every one of these encodings can carry, in the summary and in an item's request.
_ACCENTED = "Ativan 2mg (café dose at 37°C ± 1°), #105"


def _accented_letter() -> str:
    text = _seed()
    assert "Ativan 2mg, #105" in text
    text = text.replace("Ativan 2mg, #105", _ACCENTED)
    return text.replace("This is a", "This is a café owner (Zoë Müller), a", 1)


ENCODINGS = {
    "latin-1": lambda t: t.encode("latin-1"),
    "cp1252": lambda t: t.replace("'", "\u2019").encode("cp1252"),
    "cp1252-dashes": lambda t: t.replace(" - ", " \u2014 ").encode("cp1252"),
    "utf-8-bom": lambda t: t.encode("utf-8-sig"),
    "utf-16-bom": lambda t: t.encode("utf-16"),
    "utf-16-le": lambda t: t.encode("utf-16-le"),
    "utf-16-be": lambda t: t.encode("utf-16-be"),
    "utf-16-be-bom": lambda t: b"\xfe\xff" + t.encode("utf-16-be"),
    "crlf": lambda t: t.replace("\n", "\r\n").encode(),
}


@pytest.mark.parametrize("encoding", sorted(ENCODINGS))
def test_text_encodings_parse_the_same_as_utf8(encoding: str) -> None:
    text = _accented_letter()
    reference = parse_letter(text)
    data = ENCODINGS[encoding](text)
    assert normalise_text(extract_text(data, "letter.txt")) == normalise_text(text)
    outcome = process(f"letter-{encoding}.txt", data)
    assert isinstance(outcome, Loaded), outcome
    assert parse_letter(extract_text(data, "x.txt")).as_dict() == reference.as_dict()
    assert outcome.letter.items[0].request == _ACCENTED


def test_all_encodings_of_one_letter_are_one_letter(tmp_path: Path) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    text = _accented_letter()
    (folder / "utf-8.txt").write_text(text, encoding="utf-8")
    for name, encode in ENCODINGS.items():
        (folder / f"{name}.txt").write_bytes(encode(text))
    settings = settings_for(tmp_path, jobs=2)
    summary = ingest([folder], settings)
    _accounting(summary, len(ENCODINGS) + 1)
    assert (summary.letters, summary.unchanged, summary.rejected) == (1, len(ENCODINGS), 0)
    assert query(settings.db, "select request from decisions where item_no = 1") == [(_ACCENTED,)]


# --- zip archives ----------------------------------------------------------------------------


def _symlink_member(name: str, target: str) -> tuple[zipfile.ZipInfo, str]:
    info = zipfile.ZipInfo(name)
    info.create_system = 3  # Unix, so external_attr carries the mode
    info.external_attr = (stat.S_IFLNK | 0o777) << 16
    return info, target


def _tree(root: Path) -> set[str]:
    return {str(p.relative_to(root)) for p in root.rglob("*")}


def test_zip_with_unsafe_paths_and_symlinks_writes_nothing_and_refuses_them(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    seed = _seed()
    archive = tmp_path / "in" / "evil.zip"
    archive.parent.mkdir()
    unsafe = ["../escape.txt", "../../../../tmp/escape2.txt", "/abs.txt", "/etc/cron.d/x.txt",
              "a/../../up.txt", "..\\backslash.txt", "C:/windows.txt"]  # fmt: skip
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("letters/good.txt", variant(seed, 1))
        for n, name in enumerate(unsafe):
            z.writestr(name, variant(seed, 100 + n))
        z.writestr(*_symlink_member("letters/link.txt", "/etc/passwd"))
        z.writestr(*_symlink_member("letters/dirlink", "../../.."))
        z.writestr("inner.zip", b"PK\x05\x06" + bytes(18))
        z.writestr("README.md", "ignored")
        z.writestr("letters/", "")  # a directory entry
    # Work from a scratch cwd so that any relative write would land somewhere we watch.
    work = tmp_path / "cwd" / "deeper" / "deepest"
    work.mkdir(parents=True)
    monkeypatch.chdir(work)
    before = _tree(tmp_path)
    settings = settings_for(tmp_path / "out")
    summary = ingest([archive], settings)
    after = _tree(tmp_path)
    assert {p for p in after - before if not p.startswith("out")} == set()
    assert not Path("/tmp/escape2.txt").exists()
    # good + 7 unsafe + 2 symlinks + nested zip; README and the directory entry are not inputs
    _accounting(summary, 1 + len(unsafe) + 2 + 1)
    assert summary.letters == 1
    reasons = query(settings.db, "select reason, count(*) from rejects group by all order by 1")
    assert reasons == [("nested_archive", 1), ("unsafe_zip_path", len(unsafe)), ("zip_symlink", 2)]


def test_zip_bomb_ratio_and_size_are_refused_without_inflating(tmp_path: Path) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    with zipfile.ZipFile(folder / "bomb.zip", "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("a-good.txt", _seed())
        # Written in 1 MB pieces so that the test itself never holds a bomb in memory.
        for name, size in (("ratio.txt", 20), ("size.txt", 100)):
            with z.open(name, "w", force_zip64=True) as member:
                for _ in range(size):
                    member.write(bytes(MB))
    assert (folder / "bomb.zip").stat().st_size < 1 * MB
    control = tmp_path / "control"
    control.mkdir()
    with zipfile.ZipFile(control / "good.zip", "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("a-good.txt", _seed())
    settings = settings_for(tmp_path)
    # The Python memory the ingest allocates (tracemalloc), not the process's peak RSS: that
    # is a high-water mark, which the tests run before this one in the same process (as
    # pytest-xdist orders them) set or hide.
    summary, peak = _ingest_peak(control, folder, settings_for(tmp_path / "c"), settings)
    _accounting(summary, 3)
    assert summary.letters == 1
    rows = dict(query(settings.db, "select source_path, reason from rejects"))
    assert rows == {
        f"{folder / 'bomb.zip'}!/ratio.txt": "zip_bomb_ratio",
        f"{folder / 'bomb.zip'}!/size.txt": "too_large",
    }
    assert peak < 60 * MB


def _ingest_peak(
    control: Path, folder: Path, warm: Settings, settings: Settings
) -> tuple[IngestSummary, int]:
    """``ingest`` of ``folder`` and the most memory (bytes) Python held at once for it, after
    an ingest of ``control`` has loaded what any ingest loads (modules, vocabularies)."""
    ingest([control], warm)
    tracemalloc.start()
    try:
        summary = ingest([folder], settings)
        return summary, tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_zip_total_size_limit_accounts_for_every_member(tmp_path: Path) -> None:
    """Regression: members after the total-size cut-off used to vanish from the accounting."""
    archive = tmp_path / "many.zip"
    letters = [variant(_seed(), n) for n in range(6)]
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_STORED) as z:
        for n, text in enumerate(letters):
            z.writestr(f"{n}.txt", text)
    size = len(letters[0].encode())
    settings = settings_for(tmp_path, max_zip_total_bytes=int(size * 2.5))
    summary = ingest([archive], settings)
    _accounting(summary, 6)
    assert (summary.letters, summary.rejected) == (2, 4)
    assert query(settings.db, "select distinct reason from rejects") == [("zip_bomb_total",)]


def test_corrupt_zips_and_members_are_rejects_not_crashes(tmp_path: Path) -> None:
    """Regression: a damaged deflate stream raised zlib.error and aborted the whole batch."""
    folder = tmp_path / "in"
    folder.mkdir()
    seed = _seed()
    damaged = folder / "damaged-member.zip"
    with zipfile.ZipFile(damaged, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("a.txt", variant(seed, 1))
        z.writestr("b.txt", variant(seed, 2))
    data = bytearray(damaged.read_bytes())
    for i in range(40, 400):  # inside a.txt's compressed data
        data[i] ^= 0x5A
    damaged.write_bytes(bytes(data))
    crc = folder / "bad-crc.zip"
    with zipfile.ZipFile(crc, "w", zipfile.ZIP_STORED) as z:
        z.writestr("c.txt", variant(seed, 3))
    data = bytearray(crc.read_bytes())
    data[100] ^= 0x01  # stored bytes changed: the CRC no longer matches
    crc.write_bytes(bytes(data))
    encrypted = folder / "encrypted-member.zip"
    with zipfile.ZipFile(encrypted, "w", zipfile.ZIP_STORED) as z:
        z.writestr("d.txt", variant(seed, 4))
    data = bytearray(encrypted.read_bytes())
    data[6] |= 0x01  # the 'encrypted' flag, in the local header ...
    at = data.rfind(b"PK\x01\x02")
    data[at + 8] |= 0x01  # ... and in the central directory
    encrypted.write_bytes(bytes(data))
    (folder / "not-a-zip.zip").write_bytes(_junk(5))
    (folder / "truncated.zip").write_bytes(crc.read_bytes()[:60])
    (folder / "good.txt").write_text(variant(seed, 5))
    for jobs in (1, 2):
        settings = settings_for(tmp_path / f"jobs{jobs}", jobs=jobs)
        summary = ingest([folder], settings)
        _accounting(summary, 7)
        assert summary.letters == 2  # b.txt in the damaged archive, and good.txt
        got = dict(query(settings.db, "select source_path, reason from rejects"))
        assert got == {
            f"{damaged}!/a.txt": "bad_zip_member",
            f"{crc}!/c.txt": "bad_zip_member",
            f"{encrypted}!/d.txt": "encrypted_zip_member",
            str(folder / "not-a-zip.zip"): "bad_zip",
            str(folder / "truncated.zip"): "bad_zip",
        }


# --- odd files in folders --------------------------------------------------------------------


def test_fifos_dangling_and_looping_symlinks_do_not_hang_the_walk(tmp_path: Path) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    os.mkfifo(folder / "fifo.txt")  # reading it would block forever
    (folder / "dangling.txt").symlink_to(tmp_path / "nowhere.txt")
    (folder / "loop.txt").symlink_to(folder / "loop.txt")
    (folder / "good.txt").write_text(_seed())
    settings = settings_for(tmp_path)
    summary = ingest([folder, tmp_path / "missing.txt"], settings)
    _accounting(summary, 5)
    got = dict(query(settings.db, "select source_path, reason from rejects"))
    assert got == {
        str(folder / "fifo.txt"): "not_a_file",
        str(folder / "dangling.txt"): "unreadable_file",
        str(folder / "loop.txt"): "unreadable_file",
        str(tmp_path / "missing.txt"): "not_found",
    }


# --- thousands of files in one folder --------------------------------------------------------


def test_three_thousand_files_in_one_folder(tmp_path: Path) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    seeds = seed_texts()
    bad = [b"", _junk(6, 512), NOT_IMR.encode(), _missing_section(), _deferred()]
    new_letters = 0
    rng = random.Random(2013)
    for n in range(3000):
        suffix = "pdf" if n % 7 == 0 else "txt"  # a text letter named .pdf is not_a_pdf
        kind = rng.random()
        if kind < 0.25:  # a new letter
            data = variant(seeds[n % len(seeds)], n).encode()
            new_letters += suffix == "txt"
        elif kind < 0.35:  # one seed letter again and again: unchanged after the first
            data = seeds[0].encode()
            suffix = "txt"
        else:  # a bad file; half of them byte-identical to each other
            data = bad[n % len(bad)] + (b" %d" % n if n % 2 and bad[n % len(bad)] else b"")
        (folder / f"{n:05d}.{suffix}").write_bytes(data)
    settings = settings_for(tmp_path, jobs=2)
    summary = ingest([folder], settings)
    _accounting(summary, 3000)
    assert summary.letters == new_letters + 1  # + the repeated seed letter, once
    counts = query(
        settings.db,
        "select (select count(*) from letters), (select count(distinct letter_id) from letters),"
        " (select count(*) from rejects)",
    )[0]
    assert counts == (summary.letters, summary.letters, summary.rejected)
    assert set(summary.reasons) == {
        "empty_file",
        "binary_file",
        "not_a_letter",
        "missing_section",
        "unknown_decision",
        "not_a_pdf",
    }
