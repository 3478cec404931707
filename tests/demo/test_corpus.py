"""write_corpus: files, manifest, synthetic markers, determinism."""

from __future__ import annotations

import hashlib
import json
import zipfile
from pathlib import Path

from etl.demo import SYNTHETIC_PREFIX, generate_letters, write_corpus


def digest(root: Path) -> dict[str, str]:
    return {
        str(path.relative_to(root)): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(root.rglob("*"))
        if path.is_file()
    }


def test_same_seed_byte_identical(tmp_path: Path) -> None:
    first = write_corpus(tmp_path / "one", 120, 5, pdf_share=0.1)
    second = write_corpus(tmp_path / "two", 120, 5, pdf_share=0.1)
    assert first.pdfs > 0
    assert digest(tmp_path / "one") == digest(tmp_path / "two")
    other = write_corpus(tmp_path / "three", 120, 6, pdf_share=0.1)
    assert other.letters == 120
    assert digest(tmp_path / "one") != digest(tmp_path / "three")
    assert second.as_dict()["letters"] == 120


def test_archive_mode_is_deterministic_too(tmp_path: Path) -> None:
    write_corpus(tmp_path / "one", 50, 5, pdf_share=0.0, archive=True)
    write_corpus(tmp_path / "two", 50, 5, pdf_share=0.0, archive=True)
    assert digest(tmp_path / "one") == digest(tmp_path / "two")
    record = json.loads((tmp_path / "one" / "expected.jsonl").read_text().splitlines()[3])
    with zipfile.ZipFile(tmp_path / "one" / record["file"]) as archive:
        text = archive.read(record["member"]).decode("utf-8")
    assert text == next(iter(generate_letters(1, 5, start=3))).text


def test_letter_depends_only_on_seed_and_index() -> None:
    alone = next(iter(generate_letters(1, 3, start=41)))
    in_run = list(generate_letters(50, 3))[41]
    assert alone.text == in_run.text and alone.expected() == in_run.expected()
    # The rendering share does not change what letters say.
    with_pdf = list(generate_letters(50, 3, pdf_share=0.5))[41]
    assert with_pdf.expected() == in_run.expected()


def test_corpus_layout_and_manifest(tmp_path: Path) -> None:
    summary = write_corpus(tmp_path, 60, 11, pdf_share=0.05)
    assert (tmp_path / ".synthetic").read_bytes() == b""
    records = [json.loads(line) for line in (tmp_path / "expected.jsonl").read_text().splitlines()]
    assert len(records) == summary.letters == 60
    assert sum(len(r["expected"]["items"]) for r in records) == summary.items
    for record in records:
        path = tmp_path / record["file"]
        assert path.exists()
        assert record["synthetic"] is True
        assert record["id"].startswith(SYNTHETIC_PREFIX)
        assert path.stem == record["id"]
        if record["layout"] == "B2":
            assert record["expected"]["case_number"] == record["id"]
            if record["rendering"] != "pdf":
                assert record["id"] in path.read_text(encoding="utf-8")
        else:
            assert record["expected"]["case_number"] is None
        assert (record["rendering"] == "pdf") == (path.suffix == ".pdf")
        assert len(record["labels"]) == len(record["expected"]["items"])
