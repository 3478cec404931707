"""The reviewer's reasons: what the rationale finds about this case, with the sentence that says so.

A rationale quotes a guideline, then applies it to the case (taxonomy.md, "Reasons"). The
rationale is split into sentences; each sentence is either a quotation of a guideline (attributed
to one, inside quotation marks, or continuing such a passage) or the reviewer's own words about the
case. Curated phrase patterns (``data/reason_patterns.csv``) are matched against a normalised copy
of each sentence; a pattern's ``scope`` says whether it may fire inside a quotation. Evidence
offsets are positions in the rationale as stored, so a reader can highlight the sentence.

Pure: no DuckDB. Missing a reason is preferred to inventing one.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass

from etl.classify.gates import GateWords, gate_of, opens
from etl.classify.tables import read_rows
from etl.model import ReasonEvidence as Evidence
from etl.text import cached_text, fold_punctuation

# The taxonomy's labels, in its order: reasons are stored in this order.
REASONS: tuple[str, ...] = (
    "not_recommended",
    "recommended",
    "no_functional_improvement",
    "functional_improvement",
    "exceeds_guidelines",
    "within_guidelines",
    "no_failed_conservative_care",
    "failed_conservative_care",
    "findings_do_not_support",
    "findings_support",
    "missing_documentation",
    "request_unspecified",
    "monitoring_missing",
    "monitoring_documented",
    "primary_not_certified",
    "primary_certified",
)
_ORDER = {reason: i for i, reason in enumerate(REASONS)}
# Which way each finding points: against the request (the denial stands) or for it.
_FOR = frozenset(
    {
        "recommended",
        "functional_improvement",
        "within_guidelines",
        "failed_conservative_care",
        "findings_support",
        "monitoring_documented",
        "primary_certified",
    }
)
_SIDES = {reason: "for" if reason in _FOR else "against" for reason in REASONS}
_SIDE = {"Upheld": "against", "Overturned": "for"}

# Cue words that turn a finding around when they come before it in the same sentence.
_CUES = {
    "negated": re.compile(
        r"\b(no|not|none|never|without|lack|lacks|lacking|absence|absent|neither|nor|failed to|"
        r"fails to|insufficient|unclear|cannot|unable|minimal|limited|little|non)\b|n't\b"
    ),
    # A negation right before the finding ("does not exceed", "not in excess").
    "adjacent": re.compile(r"\b(no|not|never|without|nor)\b(\s+\S+){0,1}\s*$|n't\s*$"),
    "conditional": re.compile(
        r"\b(if|when|whether|unless|until|should|must|would|may|can be|could|criteria|"
        r"recommended for|indicated for|in order to)\b"
    ),
}

_WORD = re.compile(r"\w")
# A sentence ends at . ? ! (and any closing quote or bracket) before a space and a capital,
# digit, quote or bracket.
_BOUNDARY = re.compile(r"[.?!][\"')\]]*(?=\s+[\"'(\[]?[A-Z0-9])")
# Words whose trailing period does not end a sentence.
_ABBREVIATION = re.compile(
    r"(?:\b(?:dr|mr|mrs|ms|vs|no|nos|approx|fig|al|st|jr|sr|inc|ca|e\.g|i\.e|etc|pg|pp|sec|"
    r"ref|vol|ch|cf|u\.s)|\b[A-Za-z])$",
    re.IGNORECASE,
)
# Longer than _ABBREVIATION's longest match ("approx") and a final newline.
ABBREVIATION_REACH = 10
# A sentence that reports what a guideline says.
_ATTRIBUTION = re.compile(
    r"^(?:(?:also|additionally|furthermore|moreover|further|in addition|however|specifically),? )?"
    r"(?:(?:according to|per|as per|based on|regarding|with regard to|under) )?"
    r"(?:the )?(?:[a-z0-9/ ,-]{0,60}?)"
    r"\b(?:mtus|acoem|odg|official disability guidelines?|guidelines?|guideline criteria|"
    r"chronic pain medical treatment)\b"
)
_SAYS = re.compile(
    r"\b(?:mtus|acoem|odg|guidelines?|chapter)\b[^.;]{0,120}?\b(?:state|states|stated|"
    r"recommend|recommends|indicate|indicates|note|notes|support|supports|outline|outlines|"
    r"address|addresses|specify|specifies|consider|considers|allow|allows|suggest|suggests|"
    r"define|defines|describe|describes|say|says|report|reports|do not|does not|make no|"
    r"are silent|is silent|advise|advises|cite|cites|require|requires|discuss|discusses|"
    r"stipulate|stipulates|deem|deems|list|lists|explain|explains|caution|cautions)\b"
)
# "According to the ACOEM Guidelines, ...": attributed whatever the verb.
_CITED = re.compile(r"^(?:\w+, )?(?:according to|per|as per|as noted in|as stated in|based on) ")
# Words that show a sentence is about this case, ending a quoted passage.
_CASE = re.compile(
    r"\b(this case|in this instance|here|the patient|patient's|claimant|injured worker|"
    r"the employee|the worker|this worker|applicant|he|she|his|her|the records?|"
    r"medical records|documentation (?:submitted|provided|reviewed|available)|submitted|"
    r"provided for review|the request|this request|requested|the treating|"
    r"the (?:attending |treating |requesting )?(?:provider|physician|doctor|clinician)|"
    r"progress (?:note|report)|noted|on (?:physical )?exam\w*|"
    r"the (?:physical )?examination|the notes?|the file|the provided|"
    r"documents? (?:provided|submitted|reviewed)|treatment plan|date of injury|however|"
    r"there (?:is|was|were|are) (?:no|a lack|lack|little|insufficient)|"
    r"the (?:clinical|medical) (?:information|records|documents?|documentation|notes?)|"
    r"\d{1,2}/\d{1,2}/\d{2,4})\b"
)
# Words in a guideline-attributed sentence that show the reviewer applying it to this case.
_APPLIED = re.compile(
    r"\b(this case|this request|the request|the requested|this (?:patient|claimant|worker)|"
    r"which the patient|the patient would|here)\b"
)
# The reviewer's conclusion: a sentence that only concludes gives no fallback reason.
_CONCLUSION = re.compile(
    r"\b(is|are|was|were|be) (?:\w+ )?not (?:medically necessary|supported|indicated|"
    r"appropriate|warranted|certified|reasonable)\b|\bmedical necessity (?:is|has) not been "
    r"established\b|\bcannot be established\b"
)


@dataclass(frozen=True)
class Pattern:
    reason: str
    scope: str  # 'case': the reviewer's own sentences only; 'any': quotations too
    regex: re.Pattern[str]
    unless: tuple[re.Pattern[str], ...]  # cue sets vetoing the match when they come before it
    fallback: bool  # fires only when no other pattern fires on the same sentence
    # Words one of which every match contains (derived from the pattern): a sentence without
    # any of them is skipped without running the regular expression. Empty: no gate.
    gate: tuple[str, ...] = ()

    def may_match(self, text: str) -> bool:
        return not self.gate or any(word in text for word in self.gate)

    def opened_by(self, words: set[str]) -> bool:
        """``may_match`` given the gate words a text holds (``GateWords.found_in``)."""
        return opens(self.gate, words)


@functools.cache
def patterns() -> tuple[Pattern, ...]:
    rows = read_rows("reason_patterns.csv")
    out = []
    for row in rows:
        if row["reason"] not in _ORDER:
            raise ValueError(f"reason_patterns.csv: unknown reason {row['reason']!r}")
        if row["scope"] not in ("case", "any"):
            raise ValueError(f"reason_patterns.csv: unknown scope {row['scope']!r}")
        unless = tuple(_CUES[cue] for cue in row["unless"].split() if cue)
        out.append(
            Pattern(
                row["reason"],
                row["scope"],
                re.compile(row["pattern"]),
                unless,
                row["fallback"] == "yes",
                gate_of(row["pattern"]),
            )
        )
    return tuple(out)


@dataclass(frozen=True)
class _Candidates:
    patterns: tuple[Pattern, ...]
    gates: GateWords


@functools.cache
def candidates() -> dict[tuple[bool, str | None], _Candidates]:
    """By (a quotation?, the item's side or None): the patterns that may fire on such a
    sentence, and their gate words (built before the workers fork: ``classify.prepare``)."""
    found = {}
    for is_quote in (False, True):
        for side in (None, *sorted(set(_SIDES.values()))):
            kept = tuple(
                pattern
                for pattern in patterns()
                if not (is_quote and pattern.scope == "case")
                and (side is None or _SIDES[pattern.reason] == side)
            )
            words = {word for pattern in kept for word in pattern.gate}
            found[is_quote, side] = _Candidates(kept, GateWords(words))
    return found


# The hyphen first, the word character before it checked after: the same matches, found by a
# fast scan for the literal instead of trying the lookbehind at every position.
_IN_WORD_HYPHEN = re.compile(r"-(?<=\w-)[ \t\r\n]{0,2}(?=\w)")
_CLAUSE = re.compile(r"[;:]|, (?:but|however|although|though|while|whereas)\b|\bhowever\b")


def normalise(text: str) -> str:
    """Lower case, ASCII punctuation, one space for any whitespace, and no hyphens inside words
    (extractors keep or drop line-end hyphens: ``x-ray``, ``xray`` and ``x- ray`` read the
    same): the form the patterns are written for."""
    return _normalise_folded(fold_punctuation(text))


def _normalise_folded(text: str) -> str:
    """``normalise`` of a text whose punctuation is folded already."""
    if "-" in text:
        text = _IN_WORD_HYPHEN.sub("", text)
    # str.split() splits on what \s matches (str.isspace), and drops the ends as strip() did.
    return " ".join(text.split()).lower()


# Compiled once (re.search with a string looks the pattern up in re's cache on every call).
_LAST_DIGIT = re.compile(r"\d$")
_SPACED_DIGIT = re.compile(r"\s+\d")


def _ends_with_abbreviation(text: str, start: int, end: int) -> bool:
    """Whether the last word of ``text[start:end]`` (its last run of word characters and
    periods, at the end or before a final newline) ends with an abbreviation: ``_ABBREVIATION``
    searched from ``ABBREVIATION_REACH`` characters before the end.

    What the pattern matches is word characters and periods only, so a match at the end lies
    within that last word, and its ``\\b`` sees the character before it as it would in the word
    alone (a search from a position still sees the characters before it: at ``start`` itself
    the end of a sentence, no word character). Finding the word first, with a search of its
    own, cost a tenth of reading a rationale's reasons.
    """
    return _ABBREVIATION.search(text, max(end - ABBREVIATION_REACH, start), end) is not None


def sentences(text: str) -> list[tuple[int, int]]:
    """(start, end) of each sentence of ``text``; trimmed of surrounding space."""
    return _sentences_folded(fold_punctuation(text))


def _sentences_folded(text: str) -> list[tuple[int, int]]:
    """``sentences`` of a text whose punctuation is folded already (folding keeps every
    character's place)."""
    spans = []
    start = 0
    for m in _BOUNDARY.finditer(text):
        # The text before the boundary, read in place (positions, not a copy)
        end = m.start()
        if _ends_with_abbreviation(text, start, end) and not text.endswith("..", start, end):
            continue
        # A match of \d$ starts one or two characters from the end ("5" or "5\n"): searching
        # from there finds the same. Matching at m.end() is matching text[m.end():], uncopied.
        if _LAST_DIGIT.search(text, max(end - 2, start), end) and _SPACED_DIGIT.match(
            text, m.end()
        ):
            continue  # a decimal split by a line end: "1. 5 mg" is not two sentences
        spans.append((start, m.end()))
        start = m.end()
    spans.append((start, len(text)))
    out = []
    for a, b in spans:
        while a < b and text[a].isspace():
            a += 1
        while b > a and text[b - 1].isspace():
            b -= 1
        if a < b:
            out.append((a, b))
    return out


# Letters repeat their sentences, and these patterns were most of the cost of reading one: what
# they say of a normalised sentence is computed once per process (bounded).
@cached_text(maxsize=50_000)
def _sentence_kind(norm: str) -> tuple[bool, bool, bool]:
    """(about the case, attributed to a guideline, and if so applied to the case)."""
    about_case = bool(_CASE.search(norm))
    attributed = bool(_ATTRIBUTION.match(norm) and (_SAYS.search(norm) or _CITED.match(norm)))
    return about_case, attributed, attributed and bool(_APPLIED.search(norm))


def _quotations(norms: list[str]) -> list[bool]:
    """For each sentence (``norms``: normalised): is it (part of) a guideline quotation rather
    than about the case?"""
    flags = []
    open_quote = False
    in_passage = False
    for norm in norms:
        starts_quoted = open_quote
        # Normalising neither adds nor drops a '"' (curly quotes are folded into it as they
        # were in the sentence as written), so counting them in ``norm`` is the same.
        open_quote ^= norm.count('"') % 2 == 1
        about_case, attributed, applied = _sentence_kind(norm)
        if attributed:
            # "Guidelines state ... which the patient would exceed" applies it in one sentence;
            # otherwise what follows an attribution is the guideline's until the case comes up.
            in_passage = True
            flags.append(not applied)
        elif starts_quoted or (norm.startswith('"') and not about_case):
            in_passage = True
            flags.append(True)
        elif in_passage and not about_case:
            flags.append(True)
        else:
            in_passage = False
            flags.append(False)
    return flags


def own_sentences(rationale: str | None) -> list[str]:
    """The reviewer's own sentences (not guideline quotations), as written."""
    text = rationale or ""
    return [text[a:b] for (a, b), _, quoted in _read(text) if not quoted]


def _read(rationale: str) -> list[tuple[tuple[int, int], str, bool]]:
    """Each sentence of the rationale: its span, its normalised text, and whether it quotes a
    guideline."""
    # Folded once: its sentences are found, and normalised, in the folded text.
    folded = fold_punctuation(rationale) if rationale else ""
    spans = _sentences_folded(folded)
    norms = [_normalise_folded(folded[a:b]) for a, b in spans]
    return list(zip(spans, norms, _quotations(norms), strict=True))


def _vetoed(pattern: Pattern, norm: str, at: int) -> bool:
    before = norm[:at]
    # Only the clause the finding is in: a cue in an earlier clause does not reach it.
    scope = _CLAUSE.split(before)[-1]
    return any(cue.search(scope) for cue in pattern.unless)


def find_reasons(rationale: str | None, decision: str | None = None) -> list[Evidence]:
    """Every reason the rationale gives, once each, in the taxonomy's order, with the first
    sentence that gives it.

    Reasons say why the reviewer decided as it did: with the item's decision given, a finding
    for the request in an upheld item (a concession) or against it in an overturned one is not
    a reason and is left out."""
    if not rationale:
        return []
    side = _SIDE.get(decision or "")
    found: dict[str, Evidence] = {}
    for (a, b), norm, is_quote in _read(rationale):
        for reason in _sentence_reasons(norm, is_quote, side):
            if reason not in found:
                found[reason] = Evidence(reason, rationale[a:b], a, b)
    return sorted(found.values(), key=lambda e: _ORDER[e.reason])


# Letters repeat their sentences ("As such, the request is not medically necessary."): a
# sentence's reasons are computed once per process (bounded).
@cached_text(maxsize=50_000)
def _sentence_reasons(norm: str, is_quote: bool, side: str | None) -> tuple[str, ...]:
    hits: list[str] = []
    fallbacks: list[str] = []
    kind = candidates()[is_quote, side]
    words = kind.gates.found_in(norm)
    for pattern in kind.patterns:
        if not pattern.opened_by(words):
            continue
        match = pattern.regex.search(norm)
        if match is None or _vetoed(pattern, norm, match.start()):
            continue
        (fallbacks if pattern.fallback else hits).append(pattern.reason)
    if not hits and _CONCLUSION.search(norm):
        fallbacks = []
    return tuple(hits or fallbacks)
