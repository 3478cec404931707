"""Letter text as inert HTML with marked passages (search matches, reasons' sentences, …).

``mark(text, spans)`` escapes every character of ``text`` that HTML gives a meaning to
(``& < > " '``) and wraps each span in ``<mark title="…">`` (the title escaped too). Nothing of
the text can become markup: what a letter says is shown, never run. Spans may nest (a search
match inside a reason's sentence is a ``<mark>`` inside a ``<mark>``); a span that starts inside
another and ends after it is cut at the end of the outer one. Pure: no Streamlit.
"""

from __future__ import annotations

import html
from collections.abc import Iterable

Span = tuple[int, int, str]


def clean_spans(text: str, spans: Iterable[tuple[int, int] | Span]) -> list[Span]:
    """Spans inside ``text``, non-empty, without duplicates, ordered as they open (by start,
    the longer first) and cut so that any two are nested or apart."""
    candidates: list[Span] = []
    for span in spans:
        start, end = max(int(span[0]), 0), min(int(span[1]), len(text))
        title = str(span[2]) if len(span) > 2 else ""
        if end > start:
            candidates.append((start, end, title))
    candidates.sort(key=lambda s: (s[0], -s[1]))
    out: list[Span] = []
    open_ends: list[int] = []
    seen: set[tuple[int, int]] = set()
    for start, end, title in candidates:
        while open_ends and open_ends[-1] <= start:
            open_ends.pop()
        if open_ends:
            end = min(end, open_ends[-1])  # cut at the enclosing span's end
        if end <= start or (start, end) in seen:
            continue
        seen.add((start, end))
        out.append((start, end, title))
        open_ends.append(end)
    return out


def mark(text: str | None, spans: Iterable[tuple[int, int] | Span] = ()) -> str:
    """``text`` HTML-escaped, each ``(start, end, title)`` span (character offsets; the title
    may be left out) wrapped in ``<mark>`` with that title."""
    if not text:
        return ""
    out: list[str] = []
    position = 0
    open_ends: list[int] = []

    def advance(to: int) -> None:
        nonlocal position
        out.append(html.escape(text[position:to], quote=True))
        position = to

    for start, end, title in clean_spans(text, spans):
        while open_ends and open_ends[-1] <= start:
            advance(open_ends.pop())
            out.append("</mark>")
        advance(start)
        attribute = f' title="{html.escape(title, quote=True)}"' if title else ""
        out.append(f"<mark{attribute}>")
        open_ends.append(end)
    while open_ends:
        advance(open_ends.pop())
        out.append("</mark>")
    advance(len(text))
    return "".join(out)


def block(text: str | None, spans: Iterable[tuple[int, int] | Span] = (), label: str = "") -> str:
    """A block of letter text, line breaks kept (``white-space: pre-wrap``), with an optional
    bold label before it (escaped)."""
    head = f"<strong>{html.escape(label, quote=True)}</strong> " if label else ""
    return f'<div class="imr-text" style="white-space: pre-wrap">{head}{mark(text, spans)}</div>'
