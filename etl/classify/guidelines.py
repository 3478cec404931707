"""Guideline text of one role (claims administrator or MAXIMUS) to ``Citation`` rows.

Document scheme (see ``guideline_documents.csv``):
- MTUS: the MTUS document or adopted ACOEM chapter by canonical name ('Chronic Pain Medical
  Treatment Guidelines', 'Low Back Complaints'); section = the written section(s)/pages.
- ODG: document = 'Official Disability Guidelines (ODG) <topic>' with the canonical chapter
  ('Pain (Chronic)', 'Low Back', 'Knee & Leg' ...), or 'Official Disability Guidelines (ODG)' when
  no chapter is named; section = the rest of the citation text (the ODG topic, e.g. 'MRI').
- ACOEM (cited as non-MTUS): document 'ACOEM Practice Guidelines'; section = the rest.
- Other: a canonical name for well-known sources (UpToDate, FDA label ...) else the text itself.
"""

from __future__ import annotations

import functools
import re

from etl.classify import tables
from etl.model import Citation
from etl.text import cached_text, plain

MTUS = "MTUS"
ODG = "ODG"
ACOEM = "ACOEM"
OTHER = "Other"
ODG_DOCUMENT = "Official Disability Guidelines (ODG)"
ACOEM_DOCUMENT = "ACOEM Practice Guidelines"
_MAX_DOCUMENT = 200
_CHRONIC_PAIN = "Chronic Pain Medical Treatment Guidelines"

_SPACE_RE = re.compile(r"\s+")
# Matched per sentence (see _drop_boilerplate): a leading '[^.]*' would make them quadratic.
_NO_EVIDENCE_RE = re.compile(
    r"\b(?:did not cite any|cited no|no)\s+(?:medical\s+)?(?:evidence|guidelines?|"
    r"evidence-based|criteria)",
    re.IGNORECASE,
)
_BOILERPLATE_RE = re.compile(
    r"\bbased\s+(?:their|its|his/her|his|her)\s+decision\s+on\s+recommendation\(s\)\s+"
    r"outside\s+of\s+the\s+MTUS|\bdid\s+not\s+base\s+(?:their|its|his/her|his|her)"
    r"\s+decision\s+on\s+the\s+MTUS"
    # Says which guideline was NOT used, like 'did not base': the citations that follow count.
    r"|\bno\s+(?:section|part|portion)\s+of\s+the\s+MTUS\b|\bMTUS\s+(?:was|is)\s+(?:not|in)applicable",
    re.IGNORECASE,
)
_SENTENCE_END_RE = re.compile(r"(?<=\.)\s+")
_DECISION_BASED_RE = re.compile(r"Decision based on\s*:?\s*", re.IGNORECASE)
_NON_MTUS_RE = re.compile(r"^Non-?\s?MTUS(?:\s+Citation)?\s*:?\s*", re.IGNORECASE)
_MTUS_PREFIX_RE = re.compile(
    r"^(?:CA\s+)?MTUS\b\s*(?:\((?:effective|eff\.?)[^)]*\)|\(\w+ \d{4}\))?\s*:?\s*", re.IGNORECASE
)
# ', and <next document> 2016' — but not the ', and Hand' inside 'Forearm, Wrist, and Hand'.
_MTUS_DOC_SPLIT_RE = re.compile(
    r",\s+and\s+(?!Hand\b)(?=[A-Z][^.;]{0,70}?\b(?:19|20)\d\d\b)",
)
_SECTION_RE = re.compile(r",?\s*Sections?\(s\)\s*:?\s*|,?\s*Sections?\s*:\s*", re.IGNORECASE)
_DOC_END_RE = re.compile(r"^(.*?\b(?:19|20)\d\d\b|.*?\bGuidelines?\b)\s*[,:;]?\s*(.*)$", re.S)
_PAGES_RE = re.compile(r"\b(?:Page\(s\)|pages?|pgs?\.?|p\.)\s*:?\s*(\d+)", re.IGNORECASE)
_CHAPTER_RE = re.compile(r"\bChapter\s+(\d+)\b", re.IGNORECASE)
_NON_MTUS_SPLIT_RE = re.compile(
    r"\s+and\s+Other\s+Medical\s+Treatment\s+Guidelines?\s*(?:or\s+Medical\s+Evidence)?\s*:?\s*"
    r"|;\s*(?=ODG\b|Official\s+Disability)"
    r"|\s+and\s+(?:the\s+)?(?=Official\s+Disability\s+Guidelines|ODG\b|ACOEM\b|American\s+College)",
    re.IGNORECASE,
)
_OTHER_PREFIX_RE = re.compile(
    r"^Other\s+Medical\s+Treatment\s+Guidelines?\s*(?:or\s+Medical\s+Evidence)?\s*:?\s*", re.I
)
_ODG_RE = re.compile(r"Official\s+Disability\s+Guidelines?|\bODG\b|Work\s+Loss\s+Data", re.I)
_ODG_NAME_RE = re.compile(
    r"^(?:the\s+)?(?:Official\s+Disability\s+Guidelines?\s*(?:\(ODG\))?|ODG(?:\s+guidelines)?)"
    r"\s*[,:\-–]?\s*",
    re.IGNORECASE,
)
_ACOEM_RE = re.compile(
    r"\bACOEM\b|American\s+College\s+of\s+Occupational|Occupational\s+Medicine\s+Practice\s+Guide",
    re.IGNORECASE,
)
_ACOEM_NAME_RE = re.compile(
    r"^(?:the\s+)?(?:American\s+College\s+of\s+Occupational\s+and\s+Environmental\s+Medicine\s*"
    r"(?:\(ACOEM\))?|ACOEM)(?:\s+(?:Occupational\s+Medicine\s+)?(?:Practice\s+)?Guidelines?)?"
    r"\s*[,:\-–]?\s*",
    re.IGNORECASE,
)
_ACOEM_NOT_MTUS_RE = re.compile(r"3rd|third|not\s+(?:a\s+)?part\s+of|non-?\s?MTUS", re.I)
_MTUS_MENTION_RE = re.compile(
    r"\bMTUS\b|Medical\s+Treatment\s+Utilization\s+Schedule|Chronic\s+Pain\s+Medical|"
    r"Postsurgical|Acupuncture\s+Medical|part\s+of\s+the\s+MTUS|\(2004\)|2nd\s+Ed",
    re.IGNORECASE,
)
_SENTENCE_RE = re.compile(r"(?<=[a-z0-9)])\.\s+(?=[A-Z])|;\s+")
_COPY_CA_RE = re.compile(
    r"(?:used|cited|relied\s+(?:up)?on|referenced)\s+by\s+the\s+Claims\s+Administrator"
    r"|Claims\s+Administrator.{0,60}\b(?:relevant|appropriate|applicable)",
    re.IGNORECASE,
)


def normalise_guideline(text: str) -> str:
    return plain(text)


PATTERN_KINDS = ("mtus", "odg_topic", "other")  # guideline_documents.csv rows that are regexes


def _rows(kind: str) -> tuple[tuple[re.Pattern[str], str, str], ...]:
    return _compiled().get(kind, ())


@functools.cache
def _compiled() -> dict[str, tuple[tuple[re.Pattern[str], str, str], ...]]:
    """Each kind's patterns, compiled once (with no argument: ``etl.classify.prepare`` builds
    it before workers fork)."""
    kinds: dict[str, list[tuple[re.Pattern[str], str, str]]] = {}
    for r in tables.guideline_documents():
        if r["kind"] not in PATTERN_KINDS:
            continue  # numbers and page ranges (_acoem_chapters, _acoem_pages)
        pattern = re.compile(r["pattern"], re.IGNORECASE)
        kinds.setdefault(r["kind"], []).append((pattern, r["source"], r["document"]))
    return {kind: tuple(rows) for kind, rows in kinds.items()}


@functools.cache
def _acoem_chapters() -> dict[int, str]:
    chapters: dict[int, str] = {}
    for r in tables.guideline_documents():
        if r["kind"] == "acoem_chapter":
            for number in r["pattern"].split("|"):
                chapters[int(number)] = r["document"]
    return chapters


@functools.cache
def _acoem_pages() -> tuple[tuple[int, int, str], ...]:
    ranges = []
    for r in tables.guideline_documents():
        if r["kind"] == "acoem_pages":
            low, high = r["pattern"].split("-")
            ranges.append((int(low), int(high), r["document"]))
    return tuple(ranges)


def resolve_mtus_document(text: str) -> str | None:
    """Canonical MTUS document named in ``text`` (chapter numbers and ACOEM pages too)."""
    chapter = _CHAPTER_RE.search(text)
    if chapter and int(chapter.group(1)) in _acoem_chapters():
        return _acoem_chapters()[int(chapter.group(1))]
    for pattern, _source, document in _rows("mtus"):
        if pattern.search(text):
            return document
    page = _PAGES_RE.search(text)
    if page and _ACOEM_RE.search(text):
        number = int(page.group(1))
        for low, high, document in _acoem_pages():
            if low <= number <= high:
                return document
    return None


def resolve_odg_topic(text: str) -> str | None:
    """The ODG chapter named earliest in ``text`` ('Pain (Chronic)', 'Low Back', ...)."""
    best: tuple[int, str] | None = None
    for pattern, _source, topic in _rows("odg_topic"):
        m = pattern.search(text)
        if m and (best is None or m.start() < best[0]):
            best = (m.start(), topic)
    return best[1] if best else None


def resolve_other_document(text: str) -> str:
    """Canonical name of a well-known non-guideline source, else the cited text itself."""
    for pattern, _source, document in _rows("other"):
        if pattern.search(text):
            return document
    return text.strip(" .,;:")[:_MAX_DOCUMENT]


def parse_guideline(text: str | None, role: str) -> tuple[list[Citation], bool]:
    """Citations of one role's guideline text, and whether the text was understood.

    'did not cite any medical evidence' gives no citation (understood); text that yields no
    citation otherwise is reported as not understood.
    """
    if not text or not text.strip():
        return [], True
    parsed, understood = _parse_text(text)
    return [Citation(role, *fields) for fields in parsed], understood


_Fields = tuple[str, str | None, str | None, str]


@cached_text(maxsize=16384)
def _parse_text(text: str) -> tuple[tuple[_Fields, ...], bool]:
    """Role-free parse, cached: the same guideline sentences recur across thousands of items."""
    body, had_no_evidence = _drop_boilerplate(normalise_guideline(text))
    if _DECISION_BASED_RE.search(body):
        segments = [s.strip() for s in _DECISION_BASED_RE.split(body)[1:] if s.strip()]
        citations = [c for seg in segments for c in _parse_segment(seg)]
    else:
        citations = _parse_prose(body) if body else []
    understood = bool(citations) or had_no_evidence or not body.strip(" .")
    return tuple(citations), understood


def _drop_boilerplate(text: str) -> tuple[str, bool]:
    """The text without 'did not cite any evidence' / 'outside of the MTUS' sentences, and
    whether a no-evidence sentence was there. Sentences that start a citation are kept."""
    kept: list[str] = []
    no_evidence = False
    for sentence in _SENTENCE_END_RE.split(text):
        if _DECISION_BASED_RE.match(sentence):
            kept.append(sentence)
        elif _NO_EVIDENCE_RE.search(sentence):
            no_evidence = True
        elif not _BOILERPLATE_RE.search(sentence):
            kept.append(sentence)
    return " ".join(kept).strip(), no_evidence


def cites_claims_administrator(text: str | None) -> bool:
    """MAXIMUS text that only says it used the claims administrator's guidelines."""
    return bool(text and _COPY_CA_RE.search(normalise_guideline(text)))


def _parse_segment(segment: str) -> list[_Fields]:
    segment = segment.strip().rstrip(".").strip()
    non_mtus = _NON_MTUS_RE.match(segment)
    if non_mtus:
        return _parse_non_mtus(segment[non_mtus.end() :])
    mtus = _MTUS_PREFIX_RE.match(segment)
    if mtus:
        # 2014-15 'MTUS (Effective July 18, 2009) Page(s): 78-80' cites the Chronic Pain guidelines.
        default = _CHRONIC_PAIN if "2009" in mtus.group(0) else None
        return _parse_mtus(segment[mtus.end() :], default)
    return _parse_non_mtus(segment)


def _parse_mtus(text: str, default: str | None = None) -> list[_Fields]:
    citations: list[_Fields] = []
    for part in _MTUS_DOC_SPLIT_RE.split(text):
        part = part.strip(" .,;")
        if not part:
            continue
        head = _mtus_document_text(part)
        if head.strip():
            document = resolve_mtus_document(head) or resolve_mtus_document(part)
        else:
            document = default
        citations.append((MTUS, document, _mtus_section(part), f"MTUS {part}"))
    if not citations:
        citations.append((MTUS, None, None, "MTUS"))
    return citations


# Compiled here, not on first use: see etl.classify.prepare.
_PAGES_LABEL_RE = re.compile(r"\bPage\(s\)", re.IGNORECASE)
_PAGES_TAIL_RE = re.compile(r"\bPage\(s\)\s*:?.*$", re.IGNORECASE)
_YEAR_RE = re.compile(r"\b(?:19|20)\d\d\b")
_BASED_ON_RE = re.compile(r"\bbased\s+\w+(?:/\w+)?\s+decision\s+on\s+(?:the\s+)?", re.I)
_NOT_MTUS_RE = re.compile(r",?\s*which\s+(?:is|are)\s+not\s+part\s+of\s+the\s+MTUS.*$", re.I)
_PAGES_PHRASE_RE = re.compile(r"\b(?:pages?|pgs?\.?|Page\(s\))\s*:?\s*[\d][\d\s,\-–&and]*", re.I)


def _mtus_document_text(part: str) -> str:
    """The document-name part of 'Opioid Treatment 2016, Section(s): ... Chronic Pain ...'."""
    head = _SECTION_RE.split(part, maxsplit=1)[0]
    head = _PAGES_LABEL_RE.split(head, maxsplit=1)[0]
    year = _YEAR_RE.search(head)
    return head[: year.end()] if year else head


def _mtus_section(part: str) -> str | None:
    pieces = _SECTION_RE.split(part, maxsplit=1)
    if len(pieces) == 2:
        return pieces[1].strip(" .,;") or None
    page = _PAGES_TAIL_RE.search(part)
    m = _DOC_END_RE.match(part)
    rest = m.group(2).strip(" .,;") if m else ""
    if rest:
        return rest
    return page.group(0).strip(" .,;") if page else None


def _parse_non_mtus(text: str) -> list[_Fields]:
    citations: list[_Fields] = []
    for sub in _NON_MTUS_SPLIT_RE.split(text):
        sub = _OTHER_PREFIX_RE.sub("", sub.strip(" .,;"))
        if sub:
            citations.append(_cite_non_mtus(sub))
    return citations


def _cite_non_mtus(text: str) -> _Fields:
    if _ODG_RE.search(text) or _starts_with_odg_topic(text):
        return _cite_odg(text)
    if _ACOEM_RE.search(text):
        rest = _ACOEM_NAME_RE.sub("", text, count=1).strip(" .,;:") or None
        return (ACOEM, ACOEM_DOCUMENT, rest, text)
    return (OTHER, resolve_other_document(text), None, text)


def _cite_odg(text: str) -> _Fields:
    rest = _ODG_NAME_RE.sub("", text, count=1).strip(" .,;:")
    topic = resolve_odg_topic(rest)
    document = f"{ODG_DOCUMENT} {topic}" if topic else ODG_DOCUMENT
    return (ODG, document, rest or None, text)


def _starts_with_odg_topic(text: str) -> bool:
    return any(pattern.match(text) for pattern, _s, _d in _rows("odg_topic"))


def _parse_prose(text: str) -> list[_Fields]:
    """2013-style sentences: 'The Claims Administrator based its decision on the Chronic Pain
    Medical Treatment Guidelines, page 41, which is part of the MTUS.'"""
    citations: list[_Fields] = []
    for sentence in _SENTENCE_RE.split(text):
        sentence = sentence.strip(" .")
        if not sentence or _COPY_CA_RE.search(sentence):
            continue
        if _ODG_RE.search(sentence):
            citations.append(_cite_odg(_after_based_on(sentence)))
        elif _ACOEM_RE.search(sentence) and _ACOEM_NOT_MTUS_RE.search(sentence):
            citations.append((ACOEM, ACOEM_DOCUMENT, _pages(sentence), sentence))
        elif _MTUS_MENTION_RE.search(sentence) or _ACOEM_RE.search(sentence):
            document = resolve_mtus_document(sentence)
            section = _prose_section(sentence) or _pages(sentence)
            citations.append((MTUS, document, section, sentence))
        elif any(p.search(sentence) for p, _s, _d in _rows("other")):
            citations.append((OTHER, resolve_other_document(sentence), None, sentence))
    return citations


_PROSE_EDITION_RE = re.compile(r"\((?:19|20)\d\d\)\s*,\s*")
_PROSE_CHAPTER_RE = re.compile(r"^Chapter\s+\d+\s*,\s*[^,]+,\s*", re.IGNORECASE)
_PROSE_TAIL_RE = re.compile(r",?\s*which\s+(?:is|are)\s+(?:a\s+)?part\s+of\s+the\s+MTUS.*$", re.I)


def _prose_section(sentence: str) -> str | None:
    """'... Guidelines (2009), Opioids, pages 74-96, which is part of the MTUS' -> the topic
    and pages; an ACOEM chapter named after the edition is the document, not the section."""
    parts = _PROSE_EDITION_RE.split(sentence, maxsplit=1)
    if len(parts) != 2:
        return None
    rest = _PROSE_TAIL_RE.sub("", _PROSE_CHAPTER_RE.sub("", parts[1])).strip(" .,;")
    return rest or None


def _after_based_on(sentence: str) -> str:
    m = _BASED_ON_RE.search(sentence)
    text = sentence[m.end() :] if m else sentence
    return _NOT_MTUS_RE.sub("", text)


def _pages(sentence: str) -> str | None:
    m = _PAGES_PHRASE_RE.search(sentence)
    return m.group(0).strip(" ,") if m else None
