"""Gates (etl/classify/gates.py): derived from patterns, found in one scan, never hiding a match
of the reasons' patterns (tests/classify/test_reasons.py) or of the request rules (here)."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from etl.classify import reasons, requests, tables
from etl.classify.gates import GateWords, gate_of
from etl.demo import write_corpus
from etl.parse import parse_letter
from tests.classify.real_letters import REAL_DIR, extract_requests, real_letter_texts
from tests.conftest import ROOT


@pytest.mark.parametrize(
    ("pattern", "gate"),
    [
        (r"\b(no|lack)\b.{0,20}?\b(functional (improvement|benefit)|pain relief)", None),
        (r"\bexceeds?\b", ("exceed",)),
        (r"(a|b)?c", ("c",)),
        (r"x*", ()),
        (r"\b(given|since) (that )?the guidelines?", ("the guideline",)),
        # What ignores case gives no word: "(?i)stim" matches "ſtim", which has no "stim".
        (r"(?i)MRI", ()),
        (r"(?i)stim", ()),
        (r"(?i:mri) scan", (" scan",)),
        (r"(?i:st)im", ("im",)),
        # Lookarounds hold no part of the match; a backreference, an atomic group: no word.
        (r"(?<=pre)op\w+", ("op",)),
        (r"(?=abc)", ()),
        (r"(a)b\1", ("a",)),
    ],
)
def test_gates_of_patterns(pattern: str, gate: tuple[str, ...] | None) -> None:
    derived = gate_of(pattern)
    if gate is not None:
        assert derived == gate
    else:
        assert derived == ("functional ", "pain relief")


def test_the_scan_finds_words_inside_each_other_and_overlapping() -> None:
    gates = GateWords({"improvement", "improvement in ", " in f", "men", "t", "x"})
    assert gates.found_in("no improvement in function") == {
        "improvement",
        "improvement in ",
        " in f",
        "men",
        "t",
    }
    assert gates.found_in("improvemen") == {"men"}
    assert GateWords(set()).found_in("anything") == set()


_WORDS = sorted(
    {word for pattern in reasons.patterns() for word in pattern.gate}
    | {
        word
        for stage in requests._compiled_rules().values()
        for rule in stage.rules
        for word in rule.gate
    }
)
_GATES = GateWords(set(_WORDS))


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.one_of(
            st.sampled_from(_WORDS),
            st.sampled_from(_WORDS).map(lambda w: w[1:]),
            st.sampled_from(_WORDS).map(lambda w: w[:-1]),
            st.text(alphabet="abcdefinorst 4", max_size=6),
        ),
        max_size=12,
    )
)
def test_the_scan_finds_exactly_the_words_of_any_text(parts: list[str]) -> None:
    """Texts made of gate words, their cut ends and letters: the scan never misses a word
    nor finds one that is not there."""
    text = "".join(parts)
    assert _GATES.found_in(text) == {word for word in _WORDS if word in text}


@pytest.fixture(scope="module")
def request_texts(tmp_path_factory: pytest.TempPathFactory) -> list[str]:
    """Requests as the rules see them: the rules' examples, the sample and synthetic letters'
    requests, and the real letters' where they are (a second extractor's, not the parser's)."""
    texts = [row["example"] for row in tables.request_rules()]
    corpus = tmp_path_factory.mktemp("corpus")
    write_corpus(corpus, letters=600, seed=11, pdf_share=0.0)
    letters = [*(ROOT / "data" / "samples").rglob("*.txt"), *corpus.rglob("*.txt")]
    for path in letters:
        try:
            texts += [item.request or "" for item in parse_letter(path.read_text()).items]
        except Exception:  # noqa: BLE001 - a sample that is no letter has no requests
            continue
    if REAL_DIR.is_dir():
        texts += [r for _name, text in real_letter_texts() for r in extract_requests(text)]
    # Seen after the timing prefix is cut, as match_rule reads them.
    return [requests._TIMING_PREFIX_RE.sub("", text.lower()) for text in dict.fromkeys(texts)]


def test_a_request_rules_gate_never_hides_a_match(request_texts: list[str]) -> None:
    assert len(request_texts) > (600 if REAL_DIR.is_dir() else 300)
    for stage in requests._compiled_rules().values():
        for text in request_texts:
            found = stage.gates.found_in(text)
            for rule in stage.rules:
                if rule.pattern.search(text):
                    assert not rule.gate or not found.isdisjoint(rule.gate), (
                        rule.pattern.pattern,
                        text,
                    )


def test_a_request_takes_the_first_rule_that_matches(request_texts: list[str]) -> None:
    """The gates only save work: each stage gives what a plain loop over its rules gives."""
    for stage_name, stage in requests._compiled_rules().items():
        for text in request_texts:
            first = next(
                ((r.category, r.subcategory) for r in stage.rules if r.pattern.search(text)), None
            )
            assert requests.match_rule(text, stage_name) == first, text
