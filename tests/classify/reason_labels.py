"""The reason goldens (human labels of the 130 real letters) and the accuracy measured on them.

``tests/golden/reasons/<case>.json`` holds, per item, the reasons two independent readers gave
(disagreements settled by the taxonomy's wording) and the first words of each reason's evidence
sentence (not the sentence: the repository holds no real letter text). Half of the letters
(every other case number) are ``tune``: the vocabulary was written against them. The other
half, ``heldout``, was labelled by readers and never read while writing patterns: its figures
are the accuracy on letters not seen.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from etl.classify import classify_letter
from etl.parse import parse_letter
from etl.text import PUNCTUATION

GOLDEN = Path(__file__).resolve().parents[1] / "golden" / "reasons"
_NOT_ALNUM = re.compile(r"[^a-z0-9]+")
_TABLE = str.maketrans(PUNCTUATION)


def reduced(text: str) -> str:
    """Lower-case letters and digits only: what every rendering of a sentence shares."""
    return _NOT_ALNUM.sub("", text.translate(_TABLE).lower())


def goldens() -> dict[str, dict]:
    return {
        p.stem: json.loads(p.read_text(encoding="utf-8")) for p in sorted(GOLDEN.glob("*.json"))
    }


@dataclass
class Tally:
    tp: Counter[str] = field(default_factory=Counter)
    fp: Counter[str] = field(default_factory=Counter)
    fn: Counter[str] = field(default_factory=Counter)
    evidence_agrees: int = 0  # true positives whose sentence is the labelled one

    def add(self, found: dict[str, str], expected: dict[str, str]) -> None:
        for reason, sentence in found.items():
            if reason in expected:
                self.tp[reason] += 1
                self.evidence_agrees += reduced(sentence).startswith(reduced(expected[reason]))
            else:
                self.fp[reason] += 1
        for reason in expected.keys() - found.keys():
            self.fn[reason] += 1

    def micro(self) -> tuple[float, float]:
        tp, fp, fn = (sum(c.values()) for c in (self.tp, self.fp, self.fn))
        return tp / max(tp + fp, 1), tp / max(tp + fn, 1)

    def per_label(self) -> list[tuple[str, int, int, int]]:
        labels = sorted(set(self.tp) | set(self.fp) | set(self.fn))
        return [(r, self.tp[r], self.fp[r], self.fn[r]) for r in labels]


def measure(real: Path, rendering: str = "pypdf") -> dict[str, Tally]:
    """Tallies per half (``tune``, ``heldout``) of the extractor against the goldens."""
    tallies = {"tune": Tally(), "heldout": Tally()}
    for case, golden in goldens().items():
        text = (real / rendering / f"{case}.txt").read_text(encoding="utf-8")
        letter = parse_letter(text)
        classify_letter(letter)
        for item in letter.items:
            found = {e.reason: e.sentence for e in item.reason_evidence}
            expected = {
                e["reason"]: e["sentence_start"] for e in golden["items"].get(str(item.item_no), [])
            }
            tallies[golden["half"]].add(found, expected)
    return tallies


def table(tallies: dict[str, Tally]) -> str:
    """The accuracy tables of docs/reasons.md (markdown)."""
    lines = []
    for half, title in (("heldout", "Held-out half (not seen)"), ("tune", "Tuning half")):
        tally = tallies[half]
        precision, recall = tally.micro()
        tp = sum(tally.tp.values())
        lines += [
            f"**{title}**: micro precision {precision:.2f}, recall {recall:.2f} "
            f"({tp} found, {sum(tally.fp.values())} wrong, {sum(tally.fn.values())} missed; "
            f"evidence sentence as labelled for {tally.evidence_agrees} of {tp}).",
            "",
            "| reason | precision | recall | found | wrong | missed |",
            "|---|---|---|---|---|---|",
        ]
        for reason, t, f, n in tally.per_label():
            p = f"{t / (t + f):.2f}" if t + f else "–"
            r = f"{t / (t + n):.2f}" if t + n else "–"
            lines.append(f"| `{reason}` | {p} | {r} | {t} | {f} | {n} |")
        lines.append("")
    return "\n".join(lines).rstrip() + "\n"
