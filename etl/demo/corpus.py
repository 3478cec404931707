"""Write a synthetic corpus to disk: letter files, an ``expected.jsonl`` manifest, a marker.

Layout of ``out_dir``::

    .synthetic                  empty marker: every letter below is synthetic
    expected.jsonl              one JSON object per letter, in generation order
    letters/0000/SY16-0000001.txt
    letters/0000/SY14-0000002.pdf
    ...                         1,000 letters per folder

Every synthetic letter is identified as such twice over: its file lies under a folder holding a
``.synthetic`` marker, and its id uses the reserved case-number prefix ``SY`` (real letters use
``CM``). Only layout B2 prints the case number in the letter; for layouts A and B the id is the
file name and ``expected.jsonl`` lists the file with ``"synthetic": true``.
"""

from __future__ import annotations

import json
import time
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

from etl.demo.generate import generate_letters
from etl.model import SYNTHETIC_MARKER

MARKER = SYNTHETIC_MARKER
MANIFEST = "expected.jsonl"
LETTERS_PER_FOLDER = 1000
DEFAULT_PDF_SHARE = 0.02


@dataclass
class CorpusSummary:
    out_dir: Path
    letters: int = 0
    items: int = 0
    upheld_items: int = 0
    pdfs: int = 0
    by_layout: dict[str, int] = field(default_factory=dict)
    by_rendering: dict[str, int] = field(default_factory=dict)
    bytes_written: int = 0
    seconds: float = 0.0

    @property
    def upheld_share(self) -> float:
        return self.upheld_items / self.items if self.items else 0.0

    def as_dict(self) -> dict[str, object]:
        return {
            "out_dir": str(self.out_dir),
            "letters": self.letters,
            "items": self.items,
            "upheld_share": round(self.upheld_share, 4),
            "pdfs": self.pdfs,
            "by_layout": dict(sorted(self.by_layout.items())),
            "by_rendering": dict(sorted(self.by_rendering.items())),
            "bytes_written": self.bytes_written,
            "seconds": round(self.seconds, 2),
        }


def write_corpus(
    out_dir: Path,
    letters: int,
    seed: int,
    pdf_share: float = DEFAULT_PDF_SHARE,
    *,
    archive: bool = False,
) -> CorpusSummary:
    """Generate ``letters`` letters for ``seed`` into ``out_dir`` (created; files overwritten).

    Streams: one letter in memory at a time. Same arguments, byte-identical files.
    With ``archive`` each folder of 1,000 letters is written as one zip instead
    (``letters/0000.zip``, members ``0000/SY16-0000001.txt``): a tenth of the disk traffic, for
    benchmark corpora of a million items; the manifest's ``file`` is then ``letters/0000.zip``
    and ``member`` names the letter inside it.
    """
    if letters < 0:
        raise ValueError("letters must be >= 0")
    if not 0.0 <= pdf_share <= 1.0:
        raise ValueError("pdf_share must be within [0, 1]")
    started = time.perf_counter()
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / MARKER).write_bytes(b"")
    summary = CorpusSummary(out_dir=out_dir)
    (out_dir / "letters").mkdir(exist_ok=True)
    folder: Path | None = None
    zipped: zipfile.ZipFile | None = None
    with (out_dir / MANIFEST).open("w", encoding="utf-8", newline="\n") as manifest:
        for letter in generate_letters(letters, seed, pdf_share=pdf_share):
            index = letter.content.index
            name = f"{index // LETTERS_PER_FOLDER:04d}"
            data = letter.data
            if archive:
                if index % LETTERS_PER_FOLDER == 0 or zipped is None:
                    if zipped is not None:
                        zipped.close()
                    zipped = zipfile.ZipFile(out_dir / "letters" / f"{name}.zip", "w")
                member = f"{name}/{letter.filename}"
                info = zipfile.ZipInfo(member, date_time=(2013, 1, 1, 0, 0, 0))
                info.compress_type = zipfile.ZIP_DEFLATED
                zipped.writestr(info, data, compresslevel=1)
                location = {"file": f"letters/{name}.zip", "member": member}
            else:
                if index % LETTERS_PER_FOLDER == 0 or folder is None:
                    folder = out_dir / "letters" / name
                    folder.mkdir(exist_ok=True)
                with open(f"{folder}/{letter.filename}", "wb") as handle:
                    handle.write(data)
                location = {"file": f"letters/{name}/{letter.filename}"}
            expected = letter.expected()
            record = {
                **location,
                "id": letter.letter_id,
                "synthetic": True,
                "layout": letter.layout,
                "rendering": letter.rendering,
                "decision_year": letter.content.decision_date.year,
                "expected": expected,
                "labels": letter.content.labels(),
            }
            manifest.write(json.dumps(record, ensure_ascii=False, separators=(",", ":")))
            manifest.write("\n")
            summary.letters += 1
            summary.items += len(expected["items"])
            summary.upheld_items += sum(i["decision"] == "Upheld" for i in expected["items"])
            summary.pdfs += letter.rendering == "pdf"
            summary.by_layout[letter.layout] = summary.by_layout.get(letter.layout, 0) + 1
            summary.by_rendering[letter.rendering] = (
                summary.by_rendering.get(letter.rendering, 0) + 1
            )
            summary.bytes_written += len(data)
    if zipped is not None:
        zipped.close()
    summary.seconds = time.perf_counter() - started
    return summary
