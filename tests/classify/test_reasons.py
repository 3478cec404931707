"""The reasons extractor: every pattern row, negation, quotations, renderings and offsets."""

from __future__ import annotations

import re

import pytest

from etl.classify import reasons
from etl.classify.reasons import REASONS, find_reasons, normalise, sentences
from etl.classify.tables import read_rows
from tests.conftest import REAL as REAL_LETTERS
from tests.conftest import ROOT

ROWS = read_rows("reason_patterns.csv")
REAL = REAL_LETTERS / "pypdf"


def _found(text: str, decision: str | None = None) -> list[str]:
    return [e.reason for e in find_reasons(text, decision)]


@pytest.mark.parametrize("row", ROWS, ids=[f"{i}:{r['reason']}" for i, r in enumerate(ROWS, 2)])
def test_every_pattern_row_gives_its_reason_on_its_example(row: dict[str, str]) -> None:
    norm = normalise(row["example"])
    assert re.search(row["pattern"], norm), "the row's own pattern does not match its example"
    assert row["reason"] in _found(row["example"])


def test_every_label_is_the_taxonomys() -> None:
    assert {r["reason"] for r in ROWS} <= set(REASONS)
    assert len(REASONS) == len(set(REASONS)) == 16


def test_patterns_are_written_for_the_normalised_form() -> None:
    for row in ROWS:
        without_escapes = re.sub(r"\\[A-Za-z]", "", row["pattern"])
        assert without_escapes == without_escapes.lower(), row["pattern"]
        assert "-" not in re.sub(r"\[[^]]*\]|\(\?[!=]", "", without_escapes), row["pattern"]


@pytest.mark.parametrize(
    ("text", "decision", "expected"),
    [
        (
            "There was no documentation of objective functional improvement with prior use.",
            "Upheld",
            ["no_functional_improvement"],
        ),
        (
            "The patient reported significant pain relief with prior sessions.",
            "Overturned",
            ["functional_improvement"],
        ),
        # A finding for the request in an upheld item is a concession, not why it was upheld.
        ("The patient reported significant pain relief with prior sessions.", "Upheld", []),
        (
            "The requested number of visits exceeds the guideline recommendation.",
            None,
            ["exceeds_guidelines"],
        ),
        (
            "In this case, the requested 12 sessions exceed the guideline recommendation.",
            "Upheld",
            ["exceeds_guidelines"],
        ),
        ("The requested 6 sessions do not exceed the guidelines.", "Overturned", []),
        (
            "The request is within the recommended guidelines.",
            "Overturned",
            ["within_guidelines"],
        ),
        ("There is no evidence of any red flag conditions.", "Upheld", ["findings_do_not_support"]),
        (
            "The request failed to specify a body part for treatment.",
            "Upheld",
            ["request_unspecified"],
        ),
        (
            "There was no recent urine drug screen to document compliance.",
            "Upheld",
            ["monitoring_missing"],
        ),
        (
            "As the requested surgical intervention is not medically necessary, the associated"
            " service is not medically necessary.",
            "Upheld",
            ["primary_not_certified"],
        ),
        ("The concurrent request for surgery is supported.", "Overturned", ["primary_certified"]),
        # A quotation alone is not a finding about the case.
        (
            "The MTUS states that imaging is not needed unless red flags are present. Guidelines"
            " recommend documentation of functional improvement before more sessions.",
            "Upheld",
            [],
        ),
        # "missing_documentation" only where nothing more specific fits the sentence.
        (
            "There was a lack of documentation of objective functional improvement.",
            "Upheld",
            ["no_functional_improvement"],
        ),
        (
            "There was no clear rationale for the requested brace.",
            "Upheld",
            ["missing_documentation"],
        ),
        # A conclusion alone gives no fallback reason.
        ("In the absence of such documentation, the request is not medically necessary.", None, []),
        ("", "Upheld", []),
    ],
)
def test_findings(text: str, decision: str | None, expected: list[str]) -> None:
    assert _found(text, decision) == expected


def test_a_quoted_passage_ends_where_the_case_begins() -> None:
    text = (
        "According to the ACOEM Guidelines, imaging is recommended for red flags. It should not be"
        " used without neurological deficits. In this case, there were no neurological deficits"
        " on examination."
    )
    evidence = find_reasons(text, "Upheld")
    assert [e.reason for e in evidence] == ["findings_do_not_support"]
    assert evidence[0].sentence.startswith("In this case")


def test_hyphenation_at_line_ends_reads_the_same() -> None:
    kept = "There is no docu-\nmentation of a trial of anti-\nconvulsants that failed."
    joined = "There is no documentation of a trial of anticonvulsants that failed."
    spaced = "There is no docu- mentation of a trial of anti- convulsants that failed."
    assert normalise(kept) == normalise(joined) == normalise(spaced)


def test_the_normalised_form() -> None:
    assert normalise("An X\u2011ray  of the\nknee \u201cas needed\u201d - twice.") == (
        'an xray of the knee "as needed" - twice.'
    )


def test_evidence_offsets_slice_the_stored_rationale() -> None:
    text = (
        "Guidelines state e.g. 6 visits. The request was for 12 visits, which exceeds the"
        " guidelines. There was no clear rationale for more."
    )
    evidence = find_reasons(text, "Upheld")
    assert evidence
    for e in evidence:
        assert text[e.start : e.end] == e.sentence


def test_sentences_keep_abbreviations_and_decimals_whole() -> None:
    text = "Dr. Smith saw the patient on 11/14/16. Norco 7.5 mg was given, i.e. as needed. Done."
    spans = sentences(text)
    assert [text[a:b] for a, b in spans] == [
        "Dr. Smith saw the patient on 11/14/16.",
        "Norco 7.5 mg was given, i.e. as needed.",
        "Done.",
    ]


def test_every_reason_has_a_side() -> None:
    assert set(reasons._SIDES) == set(REASONS)


def test_a_patterns_gate_never_hides_a_match() -> None:
    """Every sentence a pattern matches holds one of its gate words: the gate only saves work.
    Checked on every row's example and on every sentence of the samples and the real letters."""
    texts = [row["example"] for row in ROWS]
    for path in sorted((ROOT / "data" / "samples").rglob("*.txt")):
        texts.append(path.read_text(encoding="utf-8"))
    if REAL.is_dir():
        texts += [p.read_text(encoding="utf-8") for p in sorted(REAL.glob("*.txt"))]
    norms = [normalise(text[a:b]) for text in texts for a, b in sentences(text)]
    # The samples alone on a machine without ../shared; the real letters too where they are.
    assert len(norms) > (1000 if REAL.is_dir() else len(ROWS))
    for pattern in reasons.patterns():
        for norm in norms:
            if pattern.regex.search(norm):
                assert pattern.may_match(norm), (pattern.regex.pattern, norm)


def _sample_norms() -> list[str]:
    """Every normalised sentence of the rows' examples, the samples, and the real letters
    where they are."""
    texts = [row["example"] for row in ROWS]
    for path in sorted((ROOT / "data" / "samples").rglob("*.txt")):
        texts.append(path.read_text(encoding="utf-8"))
    if REAL.is_dir():
        texts += [p.read_text(encoding="utf-8") for p in sorted(REAL.glob("*.txt"))]
    return [normalise(text[a:b]) for text in texts for a, b in sentences(text)]


def test_one_scan_finds_the_gate_words_a_sentence_holds() -> None:
    """For every kind of sentence (a quotation or not, each side), on every sentence: the
    words the one scan finds are the gate words the sentence holds, and so each pattern's
    gate opens as ``may_match`` says."""
    norms = _sample_norms()
    for kind in reasons.candidates().values():
        words = {word for pattern in kind.patterns for word in pattern.gate}
        for norm in norms:
            found = kind.gates.found_in(norm)
            assert found == {word for word in words if word in norm}, norm
            for pattern in kind.patterns:
                assert pattern.opened_by(found) == pattern.may_match(norm)


def test_a_sentences_reasons_are_what_every_pattern_alone_gives() -> None:
    """The candidates and the one scan only save work: each kind of sentence gets the reasons
    of a plain loop over every pattern, filtered as the rows say."""
    for norm in _sample_norms()[:3000]:
        for is_quote in (False, True):
            for side in (None, "for", "against"):
                hits: list[str] = []
                fallbacks: list[str] = []
                for pattern in reasons.patterns():
                    if is_quote and pattern.scope == "case":
                        continue
                    if side is not None and reasons._SIDES[pattern.reason] != side:
                        continue
                    match = pattern.regex.search(norm)
                    if match is None or reasons._vetoed(pattern, norm, match.start()):
                        continue
                    (fallbacks if pattern.fallback else hits).append(pattern.reason)
                if not hits and reasons._CONCLUSION.search(norm):
                    fallbacks = []
                expected = tuple(hits or fallbacks)
                assert reasons._sentence_reasons(norm, is_quote, side) == expected, norm
