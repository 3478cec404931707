"""The classifier's caches of what it read: texts up to CACHED_TEXT_CHARS long are kept, longer
ones read and forgotten, so that a crafted batch of long distinct texts cannot fill a worker's
memory (and have it reject the letters after them as too_much_memory)."""

from __future__ import annotations

from etl.classify import classify_letter, text_caches, vocabulary_builders
from etl.classify.body_regions import body_regions
from etl.model import Decision, Letter
from etl.text import CACHED_TEXT_CHARS, TextCache


def _names(functions: list) -> set[str]:  # type: ignore[type-arg]
    return {f"{f.__module__}.{f.__name__}" for f in functions}


def test_the_text_caches_are_those_of_texts_not_the_vocabularies() -> None:
    assert {
        "etl.classify.reasons._sentence_reasons",
        "etl.classify.reasons._sentence_kind",
        "etl.classify.requests.classify_request",
        "etl.classify.guidelines._parse_text",
        "etl.classify.drugs.lookup_external",
        "etl.classify.states._parse_states",
        "etl.classify.specialties._parse_specialties",
        "etl.classify.body_regions._regions_of",
    } <= _names(text_caches())
    assert not _names(text_caches()) & _names(vocabulary_builders())
    # Each through the one mechanism that keeps no long text.
    assert all(isinstance(f, TextCache) for f in text_caches())


def _letter(pad: str) -> Letter:
    """A letter whose every text read by the classifier ends with ``pad``."""
    item = Decision(
        item_no=1,
        request=f"Norco 10/325mg #60 {pad}",
        decision="Upheld",
        claims_admin_guideline=f"MTUS Chronic Pain Medical Treatment Guidelines {pad}",
        maximus_guideline=f"ODG Pain (Chronic) {pad}",
        rationale=f"There is no documentation of functional improvement {pad}",
    )
    other = Decision(
        item_no=2, request=f"Zzyzx 5mg tablet #30 {pad}", decision="Overturned", rationale=pad
    )
    return Letter(
        layout="B2",
        reviewer_states_raw=f"California {pad}",
        reviewer_specialties_raw=f"Orthopedic Surgery {pad}",
        diagnoses=f"Lumbar sprain {pad}",
        items=[item, other],
    )


def test_long_texts_are_read_not_kept() -> None:
    for cache in text_caches():
        cache.cache_clear()
    long = "and so on " * (CACHED_TEXT_CHARS // 10 + 1)
    letter = _letter(long)
    classify_letter(letter)
    body_regions(letter.diagnoses)
    assert letter.items[0].category == "Pharmaceuticals"  # read all the same
    assert all(f.cache_info().currsize == 0 for f in text_caches()), [
        (f.__name__, f.cache_info().currsize) for f in text_caches()
    ]
    short = _letter("and so on.")
    classify_letter(short)
    body_regions(short.diagnoses)
    kept = {f.__name__ for f in text_caches() if f.cache_info().currsize}
    assert {"classify_request", "_sentence_reasons", "_parse_text", "_parse_states"} <= kept
    assert short.items[0].category == letter.items[0].category
