"""Synthetic demo corpus: deterministic IMR letters in every layout and rendering.

``generate_letters`` yields letters with their expected parse; ``write_corpus`` writes a corpus
(letter files, ``expected.jsonl``, a ``.synthetic`` marker) for ``imr demo-corpus``.
"""

from etl.demo.corpus import CorpusSummary, write_corpus
from etl.demo.generate import (
    SYNTHETIC_PREFIX,
    SyntheticLetter,
    generate_letters,
    structural,
)

__all__ = [
    "SYNTHETIC_PREFIX",
    "CorpusSummary",
    "SyntheticLetter",
    "generate_letters",
    "structural",
    "write_corpus",
]
