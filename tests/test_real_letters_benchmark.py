"""benchmarks/real_letters.py empties the classifier's caches of what it read, so that "classify,
new" measures letters new to the process, and keeps its vocabularies."""

from __future__ import annotations

from benchmarks.real_letters import text_caches
from etl.classify import reasons, requests, vocabulary_builders


def test_the_caches_emptied_are_those_of_texts_not_the_vocabularies() -> None:
    names = {f"{f.__module__}.{f.__name__}" for f in text_caches()}
    assert {
        "etl.classify.reasons._sentence_reasons",
        "etl.classify.reasons._sentence_kind",
        "etl.classify.requests.classify_request",
        "etl.classify.guidelines._parse_text",
    } <= names
    assert not names & {f"{f.__module__}.{f.__name__}" for f in vocabulary_builders()}
    requests.classify_request("Norco 10/325mg #60")
    reasons.find_reasons("The request is not medically necessary.", "Upheld")
    for cache in text_caches():
        cache.cache_clear()
    assert requests.classify_request.cache_info().currsize == 0
    assert reasons._sentence_reasons.cache_info().currsize == 0
