"""dashboard.highlight.mark: letter text escaped, spans marked, nothing of the text ever markup."""

from __future__ import annotations

import html
import re

from hypothesis import given
from hypothesis import strategies as st

from dashboard.highlight import block, clean_spans, mark

XSS = '<script>window.__xss=1</script><img src=x onerror="window.__xss=2">'


def test_text_is_escaped_and_spans_marked() -> None:
    text = f"Norco {XSS} & more"
    out = mark(text, [(0, 5, 'search "match"'), (len(text) - 4, len(text), "")])
    assert out.startswith('<mark title="search &quot;match&quot;">Norco</mark> &lt;script&gt;')
    assert out.endswith("&amp; <mark>more</mark>")
    assert "<script" not in out and "<img" not in out


def test_titles_cannot_break_out() -> None:
    out = mark("abc", [(0, 3, '"><script>x</script>')])
    assert out == '<mark title="&quot;&gt;&lt;script&gt;x&lt;/script&gt;">abc</mark>'


def test_spans_nest_and_partial_overlaps_are_cut() -> None:
    assert clean_spans("abcdef", [(2, 4), (0, 3), (5, 99), (4, 4), (-3, -1), (0, 3)]) == [
        (0, 3, ""),
        (2, 3, ""),
        (5, 6, ""),
    ]
    # A search match inside a reason's sentence: a mark inside a mark.
    text = "The request is not supported. Norco is not indicated."
    out = mark(text, [(0, 29, "Reason: guideline"), (4, 11, "search match")])
    assert out == (
        '<mark title="Reason: guideline">The <mark title="search match">request</mark>'
        " is not supported.</mark> Norco is not indicated."
    )


def test_empty_text() -> None:
    assert mark(None) == "" and mark("", [(0, 1)]) == ""


def test_block_keeps_line_breaks_and_escapes_the_label() -> None:
    out = block("a\nb", [(0, 1)], label="<b>")
    assert "white-space: pre-wrap" in out and "&lt;b&gt;" in out and "<mark>a</mark>\nb" in out


@given(
    st.text(max_size=200),
    st.lists(st.tuples(st.integers(-5, 210), st.integers(-5, 210), st.text(max_size=10))),
)
def test_the_text_always_reads_back_unchanged(text: str, spans: list) -> None:
    out = mark(text, spans)
    # Only our own tags appear, balanced; removing them and unescaping gives the text back.
    tags = re.findall(r"<(/?\w+)", out)
    assert set(tags) <= {"mark", "/mark"}
    depth = 0
    for tag in tags:
        depth += 1 if tag == "mark" else -1
        assert depth >= 0
    assert depth == 0
    assert html.unescape(re.sub(r"<[^>]*>", "", out)) == text
