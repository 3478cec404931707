"""The search engine on a real index: every query kind against the tests' own reading of the
items (words as the index's tokenizer cuts them), brand names, snippets, similar decisions, and
any text at all as a query (never an error)."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from etl.classify import tables
from etl.search.engine import MAX_QUERY_CHARS, Hit, SearchIndex
from tests.search.conftest import Item, words

Key = tuple[str, int]
FIELDS = ("request", "rationale", "guidelines", "summary", "diagnoses")
DRUG_ROWS = tables.read_rows("drugs.csv")


def drug_words(item: Item) -> list[str]:
    """The drug field as the tests read the vocabulary: the item's generics, and every name of
    drugs.csv whose ingredients the item holds all of."""
    names = [d for d in item.drugs]
    for row in DRUG_ROWS:
        ingredients = {i.strip().lower() for i in row["ingredients"].split("+") if i.strip()}
        if ingredients <= item.drugs:
            names.append(row["name"].lower())
    return [w for name in names for w in words(name)]


def all_fields(item: Item) -> dict[str, list[str]]:
    return {**item.fields, "drug": drug_words(item)}


def texts_of(items: list[Item], hits: list[Hit]) -> list[dict[str, str | None]]:
    """The hits' texts, as the dashboard reads them from the warehouse."""
    by_key = {(i.letter_id, i.item_no): i.texts for i in items}
    return [by_key[(h.letter_id, h.item_no)] for h in hits]


def found(index: SearchIndex, text: str) -> set[Key]:
    compiled = index.compile(text)
    hits = index.top(compiled, max(index.count(compiled), 1))
    return {(h.letter_id, h.item_no) for h in hits}


def expected(items: list[Item], predicate: Callable[[dict[str, list[str]]], bool]) -> set[Key]:
    return {(i.letter_id, i.item_no) for i in items if predicate(all_fields(i))}


def word_in(fields: dict[str, list[str]], word: str, only: str | None = None) -> bool:
    return any(word in ws for name, ws in fields.items() if only in (None, name))


def phrase_in(fields: dict[str, list[str]], phrase: list[str], only: str | None = None) -> bool:
    n = len(phrase)
    for name, ws in fields.items():
        if only not in (None, name):
            continue
        if any(ws[i : i + n] == phrase for i in range(len(ws) - n + 1)):
            return True
    return False


def prefix_in(fields: dict[str, list[str]], prefix: str) -> bool:
    return any(w.startswith(prefix) for ws in fields.values() for w in ws)


def test_the_index_holds_every_item(index: SearchIndex, items: list[Item]) -> None:
    assert index.documents == len(items)
    assert found(index, "*") == {(i.letter_id, i.item_no) for i in items}


@pytest.mark.parametrize(
    ("query", "predicate"),
    [
        ("norco urine", lambda f: word_in(f, "norco") and word_in(f, "urine")),
        ("NORCO", lambda f: word_in(f, "norco")),
        ('"functional improvement"', lambda f: phrase_in(f, ["functional", "improvement"])),
        ("improv*", lambda f: prefix_in(f, "improv")),
        ("norco OR percocet", lambda f: word_in(f, "norco") or word_in(f, "percocet")),
        ("opioid* -norco", lambda f: prefix_in(f, "opioid") and not word_in(f, "norco")),
        ("mri AND NOT lumbar", lambda f: word_in(f, "mri") and not word_in(f, "lumbar")),
        (
            "(mri OR ct) knee",
            lambda f: (word_in(f, "mri") or word_in(f, "ct")) and word_in(f, "knee"),
        ),
        (
            'rationale:"urine drug screen"',
            lambda f: phrase_in(f, ["urine", "drug", "screen"], only="rationale"),
        ),
        ("request:norco", lambda f: word_in(f, "norco", only="request")),
        ("summary:depression", lambda f: word_in(f, "depression", only="summary")),
        ("Note: mri", lambda f: word_in(f, "note") and word_in(f, "mri")),
        ("hydrocodone/apap", lambda f: phrase_in(f, ["hydrocodone", "apap"])),
        ("-norco", lambda f: not word_in(f, "norco")),
    ],
)
def test_queries_match_what_the_words_say(
    index: SearchIndex, items: list[Item], query: str, predicate: Callable
) -> None:
    want = expected(items, predicate)
    assert found(index, query) == want
    assert index.count(index.compile(query)) == len(want)


def test_queries_in_the_tests_find_something(index: SearchIndex) -> None:
    # The parametrised queries above would pass vacuously on an empty result.
    for query in ("norco urine", '"functional improvement"', "improv*", "opioid* -norco"):
        assert found(index, query), query


def test_a_brand_finds_its_generic_and_the_generic_its_brand(
    index: SearchIndex, items: list[Item]
) -> None:
    pregabalin = {(i.letter_id, i.item_no) for i in items if "pregabalin" in i.drugs}
    assert pregabalin
    assert found(index, "drug:lyrica") == pregabalin == found(index, "drug:pregabalin")
    assert pregabalin <= found(index, "Lyrica") and pregabalin <= found(index, "pregabalin")


def test_norco_is_hydrocodone_with_acetaminophen_never_acetaminophen_alone(
    index: SearchIndex, items: list[Item]
) -> None:
    both = {(i.letter_id, i.item_no) for i in items if {"hydrocodone", "acetaminophen"} <= i.drugs}
    alone = {
        (i.letter_id, i.item_no)
        for i in items
        if "acetaminophen" in i.drugs and "hydrocodone" not in i.drugs
    }
    assert both and alone
    assert found(index, "drug:norco") == both
    assert not found(index, "drug:norco") & alone
    # Searching the word: the items holding both, plus those whose text says Norco.
    text = expected(items, lambda f: word_in({k: v for k, v in f.items() if k != "drug"}, "norco"))
    assert found(index, "norco") == both | text


@pytest.mark.parametrize(
    "text",
    [
        "' OR 1=1 --",
        "1; drop table letters",
        "Opioids') or ('1'='1",
        '<img src=x onerror="window.__xss=3">',
        '"unclosed',
        "((((",
        ")",
        "AND OR NOT",
        "foo:bar:baz",
        "key:1",
        "letter_id:*",
        "[a TO z]",
        "x:/.*/",
        "^2",
        "~",
        "\\",
        "a" * 5000,
        "é" * 100,
        "* * *",
        "norco^1000000",
    ],
)
def test_hostile_text_is_a_query_never_an_error(
    index: SearchIndex, items: list[Item], text: str
) -> None:
    compiled = index.compile(text)
    assert len(compiled.text) <= MAX_QUERY_CHARS
    count = index.count(compiled)
    keys, negated = index.keys(compiled)
    assert 0 <= count <= index.documents
    assert len(keys) == (index.documents - count if negated else count)
    hits = index.top(compiled, 5)
    index.snippets(compiled, texts_of(items, hits))


def test_unreadable_syntax_is_searched_as_a_phrase(index: SearchIndex, items: list[Item]) -> None:
    # An unclosed parenthesis: the words, in order, as one phrase.
    compiled = index.compile("urine drug (screen")
    assert compiled.notes
    assert found(index, "urine drug (screen") == expected(
        items, lambda f: phrase_in(f, ["urine", "drug", "screen"])
    )


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.text(max_size=120))
def test_any_text_compiles_and_runs(index: SearchIndex, items: list[Item], text: str) -> None:
    compiled = index.compile(text)
    count = index.count(compiled)
    keys, negated = index.keys(compiled)
    assert len(keys) == (index.documents - count if negated else count)
    index.snippets(compiled, texts_of(items, index.top(compiled, 3)))


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.sampled_from(
            ["norco", "urine", "drug", "mri", "OR", "AND", "NOT", "-", "(", ")", '"', "*", "~2"]
        ),
        max_size=8,
    )
)
def test_operator_soup_never_fails(index: SearchIndex, parts: list[str]) -> None:
    compiled = index.compile(" ".join(parts))
    index.keys(compiled)


def test_keys_of_a_common_query_are_the_complement(index: SearchIndex) -> None:
    compiled = index.compile("*")
    keys, negated = index.keys(compiled)
    assert negated and len(keys) == 0
    compiled = index.compile("mri")
    keys, negated = index.keys(compiled)
    assert not negated and len(keys) == index.count(compiled) > 0


def test_snippets_mark_the_words_searched(index: SearchIndex, items: list[Item]) -> None:
    compiled = index.compile("urine screen")
    hits = index.top(compiled, 10)
    snippets = index.snippets(compiled, texts_of(items, hits))
    assert any(snippets)
    for snippet in snippets:
        if snippet is None:
            continue
        marked = {snippet.text[s:e].lower() for s, e in snippet.spans}
        assert marked and marked <= {"urine", "screen"}, marked


def test_a_brand_search_also_marks_the_generic(index: SearchIndex) -> None:
    compiled = index.compile("norco")
    spans = index.spans(compiled, "Norco (hydrocodone/APAP) and Vicodin; not Tylenol.")
    text = "Norco (hydrocodone/APAP) and Vicodin; not Tylenol."
    assert [text[s:e] for s, e in spans] == ["Norco", "hydrocodone", "APAP", "Vicodin"]


def test_similar_decisions_share_the_class_and_never_include_the_item(
    index: SearchIndex, items: list[Item]
) -> None:
    opioid = next(i for i in items if i.drug_class == "Opioids" and i.fields["rationale"])
    compiled = index.compile(f'letter_id:"{opioid.letter_id}"')
    hit = next(h for h in index.top(compiled, 50) if h.item_no == opioid.item_no)
    similar = index.similar(hit.key, opioid.texts, 20, ("drug_class", "Opioids"))
    assert similar
    by_key = {(i.letter_id, i.item_no): i for i in items}
    assert (opioid.letter_id, opioid.item_no) not in {(h.letter_id, h.item_no) for h in similar}
    assert {by_key[(h.letter_id, h.item_no)].drug_class for h in similar} == {"Opioids"}
    assert [h.score for h in similar] == sorted((h.score for h in similar), reverse=True)
